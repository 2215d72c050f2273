"""Alembic migrations of the store (a package so that ``env.py`` ships with the wheel).

Run them through :func:`acd.store.migrate.upgrade`; ``env.py`` is loaded by alembic, never
imported directly.
"""

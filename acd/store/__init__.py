"""Durable storage: SQLite (default, WAL) or PostgreSQL through SQLAlchemy async.

    store = await Store.open("sqlite+aiosqlite:///var/ipcc.db")
    seq = await store.save_contact(contact_record(contact))   # committed on return
    store.append(now, tenant, "contact.updated", contact.id, {...})  # group-committed
    await store.flush()

See :mod:`acd.store.store` for the durability contract and :mod:`acd.store.journal` for
how journal rows are batched.
"""

from .errors import ConflictError, NotFoundError, StoreClosedError, StoreError
from .records import contact_from_record, contact_record, plain
from .store import Store, normalize_url

__all__ = [
    "ConflictError",
    "NotFoundError",
    "Store",
    "StoreClosedError",
    "StoreError",
    "contact_from_record",
    "contact_record",
    "normalize_url",
    "plain",
]

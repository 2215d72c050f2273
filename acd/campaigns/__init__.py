"""Outbound campaigns around the dialer's pacing core (:mod:`acd.dialer`).

Modules: ``model`` (the campaign definition, its life-cycle table, script and survey),
``importer`` (CSV/XLSX lead lists to E.164 leads with time zones and a report),
``tables`` (the store tables, migration ``0003_campaigns``), ``repository`` (campaigns,
leads, imports, do-not-call lists, dial audit and results in the store) and ``runner``
(the server gateway that drives one :class:`~acd.dialer.Pacer` per running campaign).

This package's ``__init__`` imports nothing on purpose: :mod:`acd.store.tables` imports
``acd.campaigns.tables`` to register the tables, and must not pull in the rest.
"""

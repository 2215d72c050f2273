"""Plain-data conversions between the engine's types and the store's rows (no I/O).

The store speaks dicts of JSON-compatible values. Callers tend to hold frozen dataclasses
with ``str`` enums and read-only mappings (``acd.model.Contact``); :func:`plain` turns those
into JSON-ready values once, here, so every backend stores the same thing and a row read
back compares equal to what went in.

A contact record is a dict with the contact table's columns (``id``, ``tenant``,
``channel``, ``queue``, ``priority``, ``arrival``, ``state``, ``outcome``, ``agent_id``,
``customer``, ``data``, ``created_at``, ``ended_at``, ``explanation``, and ``seq`` once
saved) plus any other keys (``skills``, ``site``, ``value_tier``, ``preferred_agent``...),
which are kept in the row's ``extra`` JSON column and merged back on read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

from acd.model import Channel, Contact, ContactState, Customer

from .tables import CONTACT_COLUMNS

#: Keys a contact record must have to be saved.
REQUIRED_CONTACT_KEYS = ("id", "tenant", "channel", "queue", "arrival")
_JSON_COLUMNS = ("customer", "data", "explanation")


def plain(value: Any) -> Any:
    """``value`` as JSON-compatible data: enums by value, mappings as dicts, tuples as lists,
    dataclasses as dicts of their fields. Raises ``TypeError`` for anything else exotic."""
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"non-finite float {value!r} is not storable as JSON")
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [plain(v) for v in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not storable as JSON: {value!r}")


def contact_row(contact: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Column values for inserting ``contact`` (without ``seq``, which the store assigns)."""
    missing = [k for k in REQUIRED_CONTACT_KEYS if contact.get(k) in (None, "")]
    if missing:
        raise ValueError(f"contact is missing {', '.join(missing)}")
    record = plain(dict(contact))
    record.pop("seq", None)
    row: dict[str, Any] = {
        "id": str(record["id"]),
        "tenant": str(record["tenant"]),
        "channel": str(record["channel"]),
        "queue": str(record["queue"]),
        "priority": int(record.get("priority") or 0),
        "arrival": float(record["arrival"]),
        "state": str(record.get("state") or ContactState.QUEUED.value),
        "outcome": record.get("outcome"),
        "agent_id": record.get("agent_id"),
        "customer": record.get("customer") or {},
        "data": record.get("data") or {},
        "created_at": float(record.get("created_at") or now),
        "ended_at": record.get("ended_at"),
        "explanation": record.get("explanation"),
    }
    if row["state"] == ContactState.ENDED.value and row["ended_at"] is None:
        row["ended_at"] = now
    row["extra"] = {k: v for k, v in record.items() if k not in CONTACT_COLUMNS}
    return row


def row_contact(row: Mapping[str, Any]) -> dict[str, Any]:
    """A contact record from a database row (``extra`` merged back in)."""
    record = {k: v for k, v in row.items() if k != "extra"}
    for key in _JSON_COLUMNS:
        if record.get(key) is None and key != "explanation":
            record[key] = {}
    extra = row.get("extra") or {}
    for key, value in extra.items():
        record.setdefault(key, value)
    return record


def contact_record(contact: Contact, **fields: Any) -> dict[str, Any]:
    """A record for :meth:`Store.save_contact` from an engine ``Contact``.

    ``fields`` add or override record keys (``state``, ``created_at``, ``explanation``...).
    """
    record: dict[str, Any] = plain(contact)
    record.update(plain(fields))
    return record


def contact_from_record(record: Mapping[str, Any]) -> Contact:
    """The engine ``Contact`` a stored record describes (to re-queue it after a restart)."""
    customer = record.get("customer") or {}
    known = {f.name for f in dataclasses.fields(Customer)}
    skills = record.get("skills")
    return Contact(
        id=record["id"],
        tenant=record["tenant"],
        channel=Channel(record["channel"]),
        queue=record["queue"],
        arrival=float(record["arrival"]),
        priority=int(record.get("priority") or 0),
        skills=dict(skills) if skills is not None else None,
        value_tier=record.get("value_tier"),
        site=record.get("site"),
        customer=Customer(**{k: v for k, v in customer.items() if k in known}),
        data=dict(record.get("data") or {}),
        preferred_agent=record.get("preferred_agent"),
    )

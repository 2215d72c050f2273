"""Answers to the IVR's CRM / billing look-ups (``Lookup(kind, params)``).

The CRM bridge is another package's job; until it serves look-ups, the voice gateway
answers them from a JSON file when one is present, else with an error result (the IVR
then takes its ``on_error`` path, e.g. a generic greeting):

    {"crm.customer_by_ani": {"+15551234": {"name": "Ann", "segment": "business"}},
     "billing.account_summary": {"4539578763621486": {"balance": "123.45", ...}}}

The key looked up is the first of ``ani``, ``account``, ``id``, ``number`` present in the
params. Files tried: ``<data dir>/lookups.json``, then ``config/lookups-demo.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("ipcc.voice")

_ROOT = Path(__file__).resolve().parents[2]
KEYS = ("ani", "account", "id", "number")


class LookupUnavailable(Exception):
    code = "unavailable"


class JsonLookups:
    def __init__(self, table: Mapping[str, Mapping[str, Any]] | None) -> None:
        self.table = table

    @classmethod
    def default(cls, data_dir: str | Path) -> JsonLookups:
        for path in (Path(data_dir) / "lookups.json", _ROOT / "config" / "lookups-demo.json"):
            if path.is_file():
                try:
                    return cls(json.loads(path.read_text()))
                except (OSError, ValueError) as exc:
                    log.error("look-up data %s unusable: %s", path, exc)
        return cls(None)

    async def lookup(self, kind: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The record, or None (not found); raises when no data source exists."""
        if self.table is None:
            raise LookupUnavailable(f"no look-up data for {kind}")
        records = self.table.get(kind)
        if records is None:
            raise LookupUnavailable(f"no look-up data for {kind}")
        key = next((str(params[k]) for k in KEYS if params.get(k) not in (None, "")), None)
        found = records.get(key) if key is not None else None
        return dict(found) if isinstance(found, Mapping) else None

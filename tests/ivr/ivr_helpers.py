"""Shared fixtures for the IVR tests: a fake CRM/billing provider, fake clock times,
tree factories."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivr.loader import DEFAULT_DIR, load_tree, parse_text
from ivr.nodes import Tree
from ivr.session import CallInfo, IvrSession
from ivr.simulate import NO_ANSWER, CallSimulator, LookupFailed

DEMO = DEFAULT_DIR / "demo-main.yaml"
ACME = DEFAULT_DIR / "acme-main.yaml"

# Tuesday 4 March 2025, 10:00 in New York: the demo office is open.
NY = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY).timestamp()


OPEN = ny(2025, 3, 4, 10)
EVENING = ny(2025, 3, 4, 19, 30)
SATURDAY = ny(2025, 3, 8, 11)
CHRISTMAS = ny(2025, 12, 25, 10)          # a Thursday, inside office hours
THANKSGIVING = ny(2025, 11, 27, 10)

GOLD_ANI = "+15550001"       # consumer, gold, internet + mobile
BUSINESS_ANI = "+15550002"   # business segment, silver
PLAIN_ANI = "+15550003"      # consumer, no tier, mobile only
UNKNOWN_ANI = "+15559999"

CUSTOMERS: dict[str, dict[str, Any]] = {
    GOLD_ANI: {"name": "Ann", "segment": "consumer", "value_tier": "gold",
               "services": ["internet", "mobile"]},
    BUSINESS_ANI: {"name": "Bob Ltd", "segment": "business", "value_tier": "silver",
                   "services": ["mobile"]},
    PLAIN_ANI: {"name": "Cy", "segment": "consumer", "services": ["mobile"]},
}

ACCOUNT = "79927398713"          # Luhn-valid
BAD_ACCOUNT = "79927398710"      # Luhn check fails
MISSING_ACCOUNT = "4539578763621486"   # Luhn-valid, not in billing

BILLS: dict[str, dict[str, Any]] = {
    ACCOUNT: {"balance": "123.45", "currency": "USD", "due_date": "2025-03-05",
              "last_payment": {"amount": "80.00", "date": "2025-02-10"}},
}


class FakeBackend:
    """CRM + billing answers; records every query; can be told to fail or stay silent."""

    def __init__(self, crm_down: bool = False, billing_silent: bool = False) -> None:
        self.crm_down = crm_down
        self.billing_silent = billing_silent
        self.queries: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, params: Mapping[str, Any]) -> Any:
        self.queries.append((kind, dict(params)))
        if kind == "crm.customer_by_ani":
            if self.crm_down:
                raise LookupFailed("crm unavailable")
            return CUSTOMERS.get(params["ani"])
        if kind == "billing.account_summary":
            if self.billing_silent:
                return NO_ANSWER
            return BILLS.get(params["account"])
        raise LookupFailed(f"unknown lookup {kind}")


def demo_tree() -> Tree:
    return load_tree(DEMO)


def call(tree: Tree, ani: str = GOLD_ANI, now: float = OPEN, dnis: str = "1000",
         backend: FakeBackend | None = None, language: str | None = None,
         session_id: str = "s1") -> CallSimulator:
    session = IvrSession(tree, CallInfo(ani=ani, dnis=dnis, language=language), now,
                         session_id=session_id)
    return CallSimulator(session, backend if backend is not None else FakeBackend())


def tree_from(yaml_text: str, name: str = "t.yaml") -> Tree:
    return parse_text(textwrap.dedent(yaml_text), name)


def write(dir_: Path, name: str, text: str) -> Path:
    p = dir_ / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p

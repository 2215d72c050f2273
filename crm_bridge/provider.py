"""Answers to the IVR's CRM / billing lookups, from the built-in CRM tables.

The IVR interpreter emits ``Lookup(request_id, kind, params)``; the I/O layer (the voice
gateway) awaits ``provider.lookup(kind, params)`` and hands the session a
``LookupResult``. The contract, shared with ``gateways/voice/lookups.py``:

* a dict is the answer (``LookupResult(request_id, data=...)``);
* an exception is an error answer, and its ``code`` attribute becomes
  ``LookupResult.error``. The tree branches on that string, e.g. the demo's
  ``bill_error == "not_found"`` says "account not found" and asks again, while anything
  else ("unavailable", "timeout") sends the caller to an agent.

So "not found" is raised as :class:`NotFound` (code ``not_found``), not returned as
``None``: the meaning is explicit, and :meth:`LookupProvider.answer` builds the
``LookupResult`` for callers that prefer a value to an exception.

Queries:

``crm.customer_by_ani {ani, tenant}``
    -> ``{id, name, segment, value_tier, language, services[]}``
``billing.account_summary {account, tenant}``
    -> ``{account, balance, currency, due_date, overdue, open_invoices,
    last_payment{amount, date}}``; money as decimal strings, dates ISO.

Exception tree::

    LookupError
    └── LookupFailed            code "error"
        ├── NotFound            code "not_found"      nothing matches (a normal outcome)
        ├── UnknownQuery        code "unknown_query"  the tree asks a kind we do not serve
        ├── BadParams           code "bad_params"     a required parameter is missing
        └── Unavailable         code "unavailable"    the database did not answer
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ivr.events import LookupResult

from .repository import CrmRepository

log = logging.getLogger("ipcc.crm")


class LookupFailed(LookupError):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LookupFailed):
    code = "not_found"


class UnknownQuery(LookupFailed):
    code = "unknown_query"


class BadParams(LookupFailed):
    code = "bad_params"


class Unavailable(LookupFailed):
    code = "unavailable"


def _required(params: Mapping[str, Any], *names: str) -> list[str]:
    values = []
    for name in names:
        value = params.get(name)
        if value is None or str(value).strip() == "":
            raise BadParams(f"parameter {name!r} is required")
        values.append(str(value).strip())
    return values


class LookupProvider:
    """``await provider.lookup("crm.customer_by_ani", {"ani": ..., "tenant": ...})``."""

    def __init__(self, store_or_engine: Any) -> None:
        engine = getattr(store_or_engine, "engine", store_or_engine)
        self.repo = CrmRepository(engine)
        self._queries: dict[str, Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]] = {
            "crm.customer_by_ani": self._customer_by_ani,
            "billing.account_summary": self._account_summary,
        }
        self.counts: dict[str, int] = {"ok": 0, "not_found": 0, "failed": 0}

    @property
    def kinds(self) -> list[str]:
        return sorted(self._queries)

    async def lookup(self, kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to one lookup; raises :class:`LookupFailed` (see the module doc)."""
        query = self._queries.get(kind)
        if query is None:
            self.counts["failed"] += 1
            raise UnknownQuery(f"unknown lookup {kind!r} (have {', '.join(self.kinds)})")
        try:
            data = await query(params)
        except NotFound:
            self.counts["not_found"] += 1
            raise
        except LookupFailed:
            self.counts["failed"] += 1
            raise
        except SQLAlchemyError as exc:
            self.counts["failed"] += 1
            log.warning("lookup %s failed: %s", kind, exc)
            raise Unavailable(f"{kind}: database error") from exc
        self.counts["ok"] += 1
        return data

    async def answer(self, request_id: str, kind: str, params: Mapping[str, Any]) -> LookupResult:
        """The same lookup as the ``LookupResult`` the IVR session takes."""
        try:
            return LookupResult(request_id, data=await self.lookup(kind, params))
        except LookupFailed as exc:
            return LookupResult(request_id, data=None, error=exc.code)

    async def customer_by_phone(self, tenant: str, phone: str) -> dict[str, Any] | None:
        """The whole customer record for a screen pop (phones included), or None."""
        return await self.repo.customer_by_phone(tenant, phone)

    # ------------------------------------------------------------------ queries

    async def _customer_by_ani(self, params: Mapping[str, Any]) -> dict[str, Any]:
        ani, tenant = _required(params, "ani", "tenant")
        c = await self.repo.customer_by_phone(tenant, ani)
        if c is None:
            raise NotFound(f"no customer with phone {ani} in tenant {tenant}")
        return {"id": c["id"], "name": c["name"], "segment": c["segment"],
                "value_tier": c["value_tier"], "language": c["language"],
                "services": list(c["services"])}

    async def _account_summary(self, params: Mapping[str, Any]) -> dict[str, Any]:
        account, tenant = _required(params, "account", "tenant")
        summary = await self.repo.account_summary(tenant, account)
        if summary is None:
            raise NotFound(f"no account {account[-4:].rjust(len(account), '*')} "
                           f"in tenant {tenant}")
        summary.pop("customer_id", None)
        return summary

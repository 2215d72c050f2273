"""Queries and writes on the CRM / billing tables, tenant-scoped by signature.

    repo = CrmRepository(store.engine)
    await repo.import_dataset("demo", DEMO_DATA["demo"])     # one transaction
    await repo.customer_by_phone("demo", "+1 212 555 0101")  # -> {... "phones": [...]}
    await repo.account_summary("demo", "4001001002")          # -> {"balance": "123.45", ...}

Every method takes the tenant first; there is no query that reads across tenants. Reads
open a short connection of their own; writes happen in one transaction per call, so an
import is all or nothing.

Balance rule (what the IVR speaks): the sum of the invoices not yet paid (``open`` and
``overdue``); the due date is the earliest due date among them (or, when nothing is owed,
the latest invoice's, so the IVR always has a date to say); the last payment is the most
recent payment row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ivr.checkdigit import check

from .money import from_minor, to_minor
from .phones import normalize_phone
from .tables import INVOICE_STATUSES, accounts, customer_phones, customers, invoices, payments

UNPAID = ("open", "overdue")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


class CrmRepository:
    def __init__(self, engine: AsyncEngine, *, account_validator: str = "luhn") -> None:
        self.engine = engine
        #: Check-digit scheme account numbers must pass on import (``ivr.checkdigit``).
        self.account_validator = account_validator

    # ------------------------------------------------------------------ writes

    async def import_dataset(self, tenant: str, data: Mapping[str, Any]) -> dict[str, int]:
        """Insert ``customers`` (each with ``phones`` and ``accounts``, each account with
        ``invoices`` and ``payments``) in one transaction; return row counts."""
        counts = {"customers": 0, "accounts": 0, "invoices": 0, "payments": 0}
        async with self.engine.begin() as conn:
            for c in data.get("customers", ()):
                await self._insert_customer(conn, tenant, c)
                counts["customers"] += 1
                for a in c.get("accounts", ()):
                    await self._insert_account(conn, tenant, c["id"], a)
                    counts["accounts"] += 1
                    currency = a["currency"]
                    for inv in a.get("invoices", ()):
                        await self._insert_invoice(conn, tenant, a["id"], currency, inv)
                        counts["invoices"] += 1
                    for pay in a.get("payments", ()):
                        await self._insert_payment(conn, tenant, a["id"], currency, pay)
                        counts["payments"] += 1
        return counts

    async def _insert_customer(self, conn: AsyncConnection, tenant: str,
                               c: Mapping[str, Any]) -> None:
        await conn.execute(sa.insert(customers).values(
            tenant=tenant, id=c["id"], name=c["name"], email=c.get("email"),
            segment=c.get("segment") or "consumer", value_tier=c.get("value_tier"),
            language=c.get("language"), services=list(c.get("services") or [])))
        for i, raw in enumerate(c.get("phones", ())):
            label, number = (raw.get("label", "main"), raw["number"]) \
                if isinstance(raw, Mapping) else ("main" if i == 0 else "other", raw)
            phone = normalize_phone(number)
            if not phone:
                raise ValueError(f"customer {c['id']}: unusable phone number {number!r}")
            await conn.execute(sa.insert(customer_phones).values(
                tenant=tenant, phone=phone, customer_id=c["id"], label=label))

    async def _insert_account(self, conn: AsyncConnection, tenant: str, customer_id: str,
                              a: Mapping[str, Any]) -> None:
        number = str(a["number"])
        if not check(self.account_validator, number):
            raise ValueError(f"account {a['id']}: number {number} fails the "
                             f"{self.account_validator} check digit")
        await conn.execute(sa.insert(accounts).values(
            tenant=tenant, id=a["id"], customer_id=customer_id, number=number,
            currency=a["currency"].upper(),
            opened=_date(a["opened"]) if a.get("opened") else None))

    async def _insert_invoice(self, conn: AsyncConnection, tenant: str, account_id: str,
                              currency: str, inv: Mapping[str, Any]) -> None:
        if inv["status"] not in INVOICE_STATUSES:
            raise ValueError(f"invoice {inv['id']}: status must be one of {INVOICE_STATUSES}")
        await conn.execute(sa.insert(invoices).values(
            tenant=tenant, id=inv["id"], account_id=account_id,
            amount_minor=to_minor(inv["amount"], currency), currency=currency.upper(),
            issued=_date(inv["issued"]), due_date=_date(inv["due_date"]), status=inv["status"]))

    async def _insert_payment(self, conn: AsyncConnection, tenant: str, account_id: str,
                              currency: str, pay: Mapping[str, Any]) -> None:
        await conn.execute(sa.insert(payments).values(
            tenant=tenant, id=pay["id"], account_id=account_id,
            amount_minor=to_minor(pay["amount"], currency), currency=currency.upper(),
            paid_on=_date(pay["date"]), method=pay.get("method") or "card"))

    # ------------------------------------------------------------------ reads

    async def count_customers(self, tenant: str) -> int:
        stmt = sa.select(sa.func.count()).select_from(customers) \
            .where(customers.c.tenant == tenant)
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def _phones(self, conn: AsyncConnection, tenant: str,
                      customer_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        ids = list(customer_ids)
        out: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
        if not ids:
            return out
        stmt = (sa.select(customer_phones)
                .where(customer_phones.c.tenant == tenant,
                       customer_phones.c.customer_id.in_(ids))
                .order_by(customer_phones.c.customer_id, customer_phones.c.phone))
        for r in (await conn.execute(stmt)).mappings():
            out[r["customer_id"]].append({"number": r["phone"], "label": r["label"]})
        return out

    @staticmethod
    def _customer(r: Mapping[str, Any], phones: list[dict[str, str]]) -> dict[str, Any]:
        return {"id": r["id"], "tenant": r["tenant"], "name": r["name"], "email": r["email"],
                "segment": r["segment"], "value_tier": r["value_tier"],
                "language": r["language"], "services": list(r["services"] or []),
                "phones": phones}

    async def customer_by_phone(self, tenant: str, phone: str) -> dict[str, Any] | None:
        """The customer owning ``phone`` (any spelling of it), or None."""
        key = normalize_phone(phone)
        if not key:
            return None
        stmt = (sa.select(customers)
                .join(customer_phones, sa.and_(customer_phones.c.tenant == customers.c.tenant,
                                               customer_phones.c.customer_id == customers.c.id))
                .where(customer_phones.c.tenant == tenant, customer_phones.c.phone == key))
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
            if row is None:
                return None
            phones = await self._phones(conn, tenant, [row["id"]])
        return self._customer(row, phones[row["id"]])

    async def get_customer(self, tenant: str, customer_id: str) -> dict[str, Any] | None:
        stmt = sa.select(customers).where(customers.c.tenant == tenant,
                                          customers.c.id == customer_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
            if row is None:
                return None
            phones = await self._phones(conn, tenant, [customer_id])
        return self._customer(row, phones[customer_id])

    async def customer_detail(self, tenant: str, customer_id: str) -> dict[str, Any] | None:
        """A customer with every account, each with its invoices, payments and summary
        (the screen pop an agent sees)."""
        customer = await self.get_customer(tenant, customer_id)
        if customer is None:
            return None
        stmt = (sa.select(accounts)
                .where(accounts.c.tenant == tenant, accounts.c.customer_id == customer_id)
                .order_by(accounts.c.id))
        async with self.engine.connect() as conn:
            rows = list((await conn.execute(stmt)).mappings())
            customer["accounts"] = [await self._account_detail(conn, tenant, r) for r in rows]
        return customer

    async def _account_detail(self, conn: AsyncConnection, tenant: str,
                              acc: Mapping[str, Any]) -> dict[str, Any]:
        currency = acc["currency"]
        inv_rows = list((await conn.execute(
            sa.select(invoices)
            .where(invoices.c.tenant == tenant, invoices.c.account_id == acc["id"])
            .order_by(invoices.c.issued.desc(), invoices.c.id))).mappings())
        pay_rows = list((await conn.execute(
            sa.select(payments)
            .where(payments.c.tenant == tenant, payments.c.account_id == acc["id"])
            .order_by(payments.c.paid_on.desc(), payments.c.id))).mappings())
        return {
            "id": acc["id"], "number": acc["number"], "currency": currency,
            "opened": _iso(acc["opened"]),
            "summary": self._summary(currency, inv_rows, pay_rows),
            "invoices": [{"id": r["id"], "amount": from_minor(r["amount_minor"], currency),
                          "currency": r["currency"], "issued": _iso(r["issued"]),
                          "due_date": _iso(r["due_date"]), "status": r["status"]}
                         for r in inv_rows],
            "payments": [{"id": r["id"], "amount": from_minor(r["amount_minor"], currency),
                          "currency": r["currency"], "date": _iso(r["paid_on"]),
                          "method": r["method"]} for r in pay_rows],
        }

    @staticmethod
    def _summary(currency: str, inv_rows: list[Mapping[str, Any]],
                 pay_rows: list[Mapping[str, Any]]) -> dict[str, Any]:
        unpaid = [r for r in inv_rows if r["status"] in UNPAID]
        balance = sum(r["amount_minor"] for r in unpaid)
        if unpaid:
            due: dt.date | None = min(r["due_date"] for r in unpaid)
        else:
            due = max((r["due_date"] for r in inv_rows), default=None)
        last = max(pay_rows, key=lambda r: (r["paid_on"], r["id"]), default=None)
        return {
            "balance": from_minor(balance, currency),
            "currency": currency,
            "due_date": _iso(due),
            "overdue": any(r["status"] == "overdue" for r in unpaid),
            "open_invoices": len(unpaid),
            "last_payment": None if last is None else {
                "amount": from_minor(last["amount_minor"], currency),
                "date": _iso(last["paid_on"])},
        }

    async def account_summary(self, tenant: str, number: str) -> dict[str, Any] | None:
        """What ``billing.account_summary`` answers, for the account the caller typed
        (its number with check digit), or None when the tenant has no such account."""
        stmt = sa.select(accounts).where(accounts.c.tenant == tenant,
                                         accounts.c.number == str(number))
        async with self.engine.connect() as conn:
            acc = (await conn.execute(stmt)).mappings().first()
            if acc is None:
                return None
            detail = await self._account_detail(conn, tenant, acc)
        return {"account": acc["number"], "customer_id": acc["customer_id"],
                **detail["summary"]}

"""Importing data: check digits enforced, one transaction, phone uniqueness."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from crm_bridge.provider import LookupProvider, NotFound


def _customer(cid: str, number: str, phone: str) -> dict:
    return {"id": cid, "name": cid, "segment": "consumer", "services": [],
            "phones": [phone],
            "accounts": [{"id": f"A-{cid}", "number": number, "currency": "USD",
                          "invoices": [{"id": f"I-{cid}", "amount": "1.00",
                                        "issued": "2026-01-01", "due_date": "2026-02-01",
                                        "status": "open"}],
                          "payments": []}]}


async def test_bad_check_digit_refuses_the_whole_import(sqlite_provider: LookupProvider) -> None:
    repo = sqlite_provider.repo
    data = {"customers": [_customer("X1", "4001006008", "+15550000001"),   # valid Luhn
                          _customer("X2", "4001006007", "+15550000002")]}  # one digit off
    with pytest.raises(ValueError, match="luhn"):
        await repo.import_dataset("acme", data)
    # X1 came first and was inserted, but the transaction rolled back: it is not there.
    with pytest.raises(NotFound):
        await sqlite_provider.lookup("crm.customer_by_ani",
                                     {"ani": "+15550000001", "tenant": "acme"})
    assert await repo.count_customers("acme") == 2


async def test_a_phone_belongs_to_one_customer_per_tenant(sqlite_provider: LookupProvider) -> None:
    repo = sqlite_provider.repo
    with pytest.raises(IntegrityError):
        await repo.import_dataset("demo", {"customers": [
            _customer("X3", "4001006008", "+1 212 555 0101")]})  # Ann's number
    # The same number in another tenant is another customer.
    await repo.import_dataset("acme", {"customers": [
        _customer("X3", "4001006008", "+1 212 555 0101")]})
    got = await sqlite_provider.lookup("crm.customer_by_ani",
                                       {"ani": "2125550101", "tenant": "acme"})
    assert got["id"] == "X3"


async def test_unknown_invoice_status_and_bad_phone_are_refused(
        sqlite_provider: LookupProvider) -> None:
    bad = _customer("X4", "4001006008", "+15550000004")
    bad["accounts"][0]["invoices"][0]["status"] = "lost"
    with pytest.raises(ValueError, match="status"):
        await sqlite_provider.repo.import_dataset("demo", {"customers": [bad]})
    with pytest.raises(ValueError, match="phone"):
        await sqlite_provider.repo.import_dataset(
            "demo", {"customers": [_customer("X5", "4001006008", "call me maybe")]})
    assert await sqlite_provider.repo.count_customers("demo") == 4

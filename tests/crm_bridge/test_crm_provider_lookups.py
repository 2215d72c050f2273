"""The IVR's lookups and the screen-pop queries against the demo data, on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_bridge.provider import BadParams, LookupProvider, NotFound, UnknownQuery
from crm_bridge.tables import customer_phones, invoices, payments

ANN = "+12125550101"


async def test_customer_by_ani_answers_what_the_demo_tree_reads(
        provider: LookupProvider) -> None:
    data = await provider.lookup("crm.customer_by_ani", {"ani": ANN, "tenant": "demo"})
    assert data == {"id": "C-1001", "name": "Ann Alvarez", "segment": "consumer",
                    "value_tier": "platinum", "language": "en",
                    "services": ["internet", "mobile", "tv"]}
    # Any spelling of the number, and a second number of the same customer.
    for ani in ("2125550101", "sip:+1-212-555-0101@trunk", "+1 212 555 0191"):
        again = await provider.lookup("crm.customer_by_ani", {"ani": ani, "tenant": "demo"})
        assert again["id"] == "C-1001"
    biz = await provider.lookup("crm.customer_by_ani", {"ani": "2125550102", "tenant": "demo"})
    assert biz["segment"] == "business" and biz["name"] == "Brightside Bakery LLC"


async def test_unknown_caller_and_other_tenant_are_not_found(provider: LookupProvider) -> None:
    with pytest.raises(NotFound) as exc:
        await provider.lookup("crm.customer_by_ani", {"ani": "+12125559999", "tenant": "demo"})
    assert exc.value.code == "not_found"
    with pytest.raises(NotFound):  # Ann is a customer of demo, not of acme
        await provider.lookup("crm.customer_by_ani", {"ani": ANN, "tenant": "acme"})
    elena = await provider.lookup("crm.customer_by_ani",
                                  {"ani": "+39025550201", "tenant": "acme"})
    assert elena["name"] == "Elena Rossi"


async def test_account_summary(provider: LookupProvider) -> None:
    ann = await provider.lookup("billing.account_summary",
                                {"account": "4001001009", "tenant": "demo"})
    assert ann == {"account": "4001001009", "balance": "123.45", "currency": "USD",
                   "due_date": "2026-12-05", "overdue": False, "open_invoices": 1,
                   "last_payment": {"amount": "80.00", "date": "2026-11-10"}}
    overdue = await provider.lookup("billing.account_summary",
                                    {"account": "4001002007", "tenant": "demo"})
    assert overdue["balance"] == "465.30" and overdue["overdue"] is True
    assert overdue["due_date"] == "2026-10-15" and overdue["open_invoices"] == 2
    paid_up = await provider.lookup("billing.account_summary",
                                    {"account": "4001004003", "tenant": "demo"})
    assert paid_up["balance"] == "0.00" and paid_up["due_date"] == "2026-11-20"
    assert paid_up["last_payment"] == {"amount": "25.00", "date": "2026-11-18"}
    eur = await provider.lookup("billing.account_summary",
                                {"account": "5002002003", "tenant": "acme"})
    assert eur["currency"] == "EUR" and eur["balance"] == "1200.00" and eur["overdue"]


async def test_account_lookup_errors(provider: LookupProvider) -> None:
    with pytest.raises(NotFound):  # a Luhn-valid number nobody has
        await provider.lookup("billing.account_summary",
                              {"account": "4539578763621486", "tenant": "demo"})
    with pytest.raises(NotFound):  # demo's account asked for by acme
        await provider.lookup("billing.account_summary",
                              {"account": "4001001009", "tenant": "acme"})
    with pytest.raises(BadParams):
        await provider.lookup("billing.account_summary", {"account": "4001001009"})
    with pytest.raises(UnknownQuery) as exc:
        await provider.lookup("crm.favourite_colour", {"tenant": "demo"})
    assert exc.value.code == "unknown_query" and isinstance(exc.value, LookupError)
    assert provider.counts["not_found"] == 2 and provider.counts["failed"] == 2


async def test_answer_builds_lookup_results(provider: LookupProvider) -> None:
    ok = await provider.answer("q1", "crm.customer_by_ani", {"ani": ANN, "tenant": "demo"})
    assert ok.request_id == "q1" and ok.error is None and ok.data["value_tier"] == "platinum"
    missing = await provider.answer("q2", "billing.account_summary",
                                    {"account": "1234567812345670", "tenant": "demo"})
    assert missing.data is None and missing.error == "not_found"
    unknown = await provider.answer("q3", "nope", {})
    assert unknown.error == "unknown_query"


async def test_screen_pop_queries(provider: LookupProvider) -> None:
    c = await provider.customer_by_phone("demo", "(212) 555-0101")
    assert c is not None and c["id"] == "C-1001"
    assert c["phones"] == [{"number": "+12125550101", "label": "mobile"},
                           {"number": "+12125550191", "label": "home"}]
    assert await provider.customer_by_phone("demo", "not a number") is None
    assert await provider.customer_by_phone("acme", "(212) 555-0101") is None

    detail = await provider.repo.customer_detail("demo", "C-1002")
    assert detail is not None
    assert [a["number"] for a in detail["accounts"]] == ["4001002007", "4001005000"]
    main = detail["accounts"][0]
    assert [(i["id"], i["status"], i["amount"]) for i in main["invoices"]] == [
        ("INV-1002-10", "open", "155.10"), ("INV-1002-09", "overdue", "310.20"),
        ("INV-1002-08", "paid", "150.00")]
    assert main["payments"] == [{"id": "PAY-1002-1", "amount": "150.00", "currency": "USD",
                                 "date": "2026-09-12", "method": "transfer"}]
    assert main["summary"]["balance"] == "465.30"
    assert await provider.repo.customer_detail("acme", "C-1002") is None
    assert await provider.repo.count_customers("demo") == 4
    assert await provider.repo.count_customers("acme") == 2


async def test_deleting_a_tenant_deletes_its_crm_rows(crm_store, provider: LookupProvider) -> None:
    assert await crm_store.delete_tenant("acme")
    assert await provider.repo.count_customers("acme") == 0
    with pytest.raises(NotFound):
        await provider.lookup("billing.account_summary",
                              {"account": "5002002003", "tenant": "acme"})
    async with crm_store.engine.connect() as conn:
        for table in (customer_phones, invoices, payments):
            n = (await conn.execute(sa.select(sa.func.count()).select_from(table)
                                    .where(table.c.tenant == "acme"))).scalar_one()
            assert n == 0, table.name
    assert await provider.repo.count_customers("demo") == 4

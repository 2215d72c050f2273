"""The repository on SQLite and PostgreSQL: an import is one transaction, rows come back
as written, the audit and results round-trip, tenants stay apart, cascades work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.campaigns.model import CampaignError, CampaignSpec
from acd.campaigns.repository import CampaignRepository
from acd.dialer import events as dev
from acd.dialer.model import Mode, Outcome
from acd.store import Store
from tests.support.postgres import pg_database_url, pg_server, pg_url  # noqa: F401

from .conftest import T0, spec_body


@pytest.fixture(params=("sqlite", "postgresql"))
def repo_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    return str(request.getfixturevalue("pg_url"))     # an empty private database


@pytest.fixture
async def repo(repo_url: str) -> AsyncIterator[CampaignRepository]:
    store = await Store.open(repo_url)
    await store.upsert_tenant("t1", "One", {})
    await store.upsert_tenant("t2", "Two", {})
    try:
        yield CampaignRepository(store)
    finally:
        await store.close()


async def test_round_trip_on_each_backend(repo: CampaignRepository) -> None:
    spec = CampaignSpec.model_validate(spec_body())
    await repo.create("t1", spec, T0, "c1")
    await repo.create("t2", spec, T0, "c1")              # same id, other tenant
    rep = await repo.import_list("t1", "c1", b"Phone,Seg\n+14155552671,a\n+12125550142,b\n",
                                 mapping={"phone": "Phone", "segment": "Seg"}, now=T0)
    assert rep["created"] == 2
    refused = await repo.import_list("t1", "c1", b"Phone\n+13125550177\nbad\n",
                                     mapping={"phone": "Phone"}, now=T0)
    assert refused["rejected"] and len(await repo.leads("t1", "c1")) == 2
    assert await repo.leads("t2", "c1") == []
    assert (await repo.import_report("t1", "c1", refused["id"]))["errors"][0]["line"] == 3
    with pytest.raises(CampaignError):
        await repo.import_report("t2", "c1", refused["id"])

    lead = (await repo.leads("t1", "c1", segment="b"))[0]
    audit = dev.Audit(at=T0, call_id="t1/c1:1", lead_id=lead["id"], phone=lead["phone"],
                      lead_local_time="2026-03-10T14:00:00-04:00", tz=lead["tz"],
                      dnc_checked=True, dnc_listed=False, mode=Mode.PROGRESSIVE,
                      outcome=Outcome.ABANDONED, abandoned=True, played="sorry",
                      agent_id=None, ended_at=T0 + 5, answered_at=T0 + 3)
    await repo.apply_lead_notices("t1", "c1", [
        audit, dev.ScheduleRetry(lead["id"], T0 + 72 * 3600, Outcome.ABANDONED, 1)], T0)
    row = await repo.lead("t1", "c1", lead["id"])
    assert (row["attempts"], row["last_abandoned_at"], row["last_outcome"]) == \
        (1, T0 + 3, "abandoned")
    assert await repo.abandon_history("t1", "c1", T0 - 1) == [(T0 + 3, True)]
    assert (await repo.audit("t1", "c1"))[0]["played"] == "sorry"
    assert await repo.audit("t2", "c1") == []

    await repo.save_result("t1", "c1", lead["id"], disposition="sale",
                           answers={"interested": "no"}, agent_id="a1", notes=None, now=T0)
    summary = await repo.summary("t1", "c1")
    assert summary["dispositions"]["sale"] == 1 and summary["leads"] == {"pending": 2}
    assert "sale" in await repo.results_csv("t1", "c1")

    await repo.dnc_add("*", ["+14155552671"], T0)
    await repo.dnc_add("t2", ["+12125550142"], T0)
    assert await repo.dnc_numbers_for("t1") == {"+14155552671"}
    assert await repo.dnc_numbers_for("t2") == {"+14155552671", "+12125550142"}

    await repo.delete("t1", "c1")
    assert await repo.leads("t1", "c1") == []
    assert (await repo.get("t2", "c1"))["id"] == "c1"

"""REST: IVR trees, reload, statistics, contact traces; customers for screen pops."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd.api import create_app
from acd.ivr_service import IvrService
from acd.server import Server
from crm_bridge.service import CrmService
from ivr.loader import DEFAULT_DIR
from tests.crm_bridge.crm_helpers import AsyncCall

from .conftest import Api, demo_settings


@pytest.fixture
def tree_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ivr"
    shutil.copytree(DEFAULT_DIR, d)
    return d


@pytest.fixture
async def ivr_server(tmp_path: Path, tree_dir: Path) -> AsyncIterator[Server]:
    srv = Server(demo_settings(), tmp_path / "data")
    srv.add_gateway(CrmService())
    srv.add_gateway(IvrService(tree_dir, poll_interval=0))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def ivr_api(ivr_server: Server) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=create_app(ivr_server))
    async with httpx.AsyncClient(transport=transport, base_url="http://ipcc.test") as client:
        yield Api(client)


def finished(session: str, outcome: str, last: str, tree: str = "demo-main") -> dict[str, Any]:
    return {"session": session, "tree": tree, "tenant": "demo", "ani": "+12125550101",
            "dnis": "1000", "language": "en", "started_at": 100.0, "ended_at": 160.0,
            "outcome": outcome, "last_node": last,
            "nodes": [{"node": "choose_language", "at": 100.0}, {"node": last, "at": 150.0}],
            "inputs": [], "lookups": [], "menu_path": ["main_menu:3"], "warnings": []}


async def test_trees_are_tenant_scoped_and_need_a_supervisor(ivr_api: Api) -> None:
    r = await ivr_api.as_("supervisor", "GET", "/ivr/trees")
    assert r.status_code == 200, r.text
    trees = r.json()["trees"]
    assert [t["name"] for t in trees] == ["demo-main"]
    assert trees[0]["dnis"] == ["1000"] and trees[0]["entry"] == "choose_language"
    r = await ivr_api.as_("admin@acme", "GET", "/ivr/trees")
    assert [t["name"] for t in r.json()["trees"]] == ["acme-main"]
    r = await ivr_api.as_("agent1", "GET", "/ivr/trees")
    assert r.status_code == 403 and r.json()["error_id"] == "forbidden"


async def test_reload_refuses_a_bad_edit_and_applies_a_good_one(
        ivr_api: Api, ivr_server: Server, tree_dir: Path) -> None:
    path = tree_dir / "demo-main.yaml"
    good = path.read_text()
    before = ivr_server.ivr.tree("demo", "demo-main")

    r = await ivr_api.as_("supervisor", "POST", "/ivr/reload")
    assert r.status_code == 403                                # admin only

    path.write_text(good.replace("kind: menu", "kind: menuu", 1))
    r = await ivr_api.as_("admin", "POST", "/ivr/reload")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and list(body["refused"]) == ["demo-main"]
    assert any("menuu" in e for e in body["refused"]["demo-main"])
    assert ivr_server.ivr.tree("demo", "demo-main") is before  # old tree kept

    # acme's administrator does not see demo's refused tree.
    r = await ivr_api.as_("admin@acme", "POST", "/ivr/reload")
    assert r.json()["ok"] is True and r.json()["refused"] == {}

    path.write_text(good.replace("timeout: 6", "timeout: 7", 1))
    r = await ivr_api.as_("admin", "POST", "/ivr/reload")
    body = r.json()
    assert body["ok"] is True and body["applied"] == ["demo-main"]
    assert ivr_server.ivr.tree("demo", "demo-main") is not before
    r = await ivr_api.as_("admin", "POST", "/ivr/reload")
    assert r.json()["applied"] == [] and r.json()["unchanged"] == ["demo-main"]


async def test_stats_after_recorded_traces(ivr_api: Api, ivr_server: Server) -> None:
    r = await ivr_api.as_("supervisor", "GET", "/ivr/demo-main/stats")
    assert r.status_code == 200 and r.json()["sessions"] == 0
    ivr = ivr_server.ivr
    await ivr.record_trace("demo", "demo-main", finished("s1", "self_served", "bill_menu"), "c1")
    await ivr.record_trace("demo", "demo-main", finished("s2", "self_served", "bill_menu"), "c2")
    await ivr.record_trace("demo", "demo-main", finished("s3", "abandoned", "bill_account"))
    await ivr.record_trace("demo", "demo-main", finished("s4", "queued", "billing_queue"))
    r = await ivr_api.as_("supervisor", "GET", "/ivr/demo-main/stats")
    stats = r.json()
    assert stats["sessions"] == 4 and stats["containment_rate"] == 0.5
    assert stats["outcomes"]["self_served"] == 2 and stats["outcomes"]["abandoned"] == 1
    assert stats["drop_offs"] == {"bill_account": 1}
    assert stats["visits"] == {"bill_account": 1, "bill_menu": 2, "billing_queue": 1,
                               "choose_language": 4}
    r = await ivr_api.as_("admin@acme", "GET", "/ivr/demo-main/stats")
    assert r.status_code == 404 and r.json()["error_id"] == "ivr_not_found"
    r = await ivr_api.as_("supervisor", "GET", "/ivr/nope/stats")
    assert r.status_code == 404


async def test_contact_ivr_trace(ivr_api: Api, ivr_server: Server) -> None:
    await ivr_server.ivr.record_trace("demo", "demo-main",
                                      finished("s9", "queued", "billing_queue"), "call-9")
    r = await ivr_api.as_("agent1", "GET", "/contacts/call-9/ivr")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["trace"]["session"] == "s9" and body["trace"]["menu_path"] == ["main_menu:3"]
    assert body["sessions"][0]["outcome"] == "queued"
    r = await ivr_api.as_("admin@acme", "GET", "/contacts/call-9/ivr")
    assert r.status_code == 404
    r = await ivr_api.as_("agent1", "GET", "/contacts/nobody/ivr")
    assert r.status_code == 404 and r.json()["error_id"] == "contact_not_found"


async def test_contact_without_ivr_session(ivr_api: Api) -> None:
    r = await ivr_api.as_("supervisor", "POST", "/contacts",
                          json={"channel": "chat", "queue": "support"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await ivr_api.as_("supervisor", "GET", f"/contacts/{cid}/ivr")
    assert r.status_code == 404 and r.json()["error_id"] == "ivr_trace_not_found"


async def test_customer_screen_pop(ivr_api: Api) -> None:
    r = await ivr_api.as_("agent1", "GET", "/customers", params={"phone": "(212) 555-0101"})
    assert r.status_code == 200, r.text
    found = r.json()["customers"]
    assert [c["id"] for c in found] == ["C-1001"] and found[0]["value_tier"] == "platinum"
    r = await ivr_api.as_("agent1", "GET", "/customers", params={"phone": "+15550009999"})
    assert r.json()["customers"] == []
    r = await ivr_api.as_("agent1", "GET", "/customers")
    assert r.status_code == 422

    r = await ivr_api.as_("agent1", "GET", "/customers/C-1002")
    detail = r.json()
    assert detail["name"] == "Brightside Bakery LLC"
    acct = detail["accounts"][0]
    assert acct["summary"]["balance"] == "465.30" and acct["summary"]["overdue"] is True
    assert {i["status"] for i in acct["invoices"]} == {"open", "overdue", "paid"}
    r = await ivr_api.as_("admin@acme", "GET", "/customers/C-1002")
    assert r.status_code == 404 and r.json()["error_id"] == "customer_not_found"
    r = await ivr_api.as_("admin@acme", "GET", "/customers", params={"phone": "+39025550201"})
    assert r.json()["customers"][0]["id"] == "K-2001"


async def test_routes_answer_503_without_the_services(api: Api) -> None:
    """The plain API fixture runs neither gateway."""
    r = await api.as_("supervisor", "GET", "/ivr/trees")
    assert r.status_code == 503 and r.json()["error_id"] == "ivr_unavailable"
    r = await api.as_("agent1", "GET", "/customers/C-1001")
    assert r.status_code == 503 and r.json()["error_id"] == "crm_unavailable"


async def test_a_real_bill_inquiry_session_end_to_end(ivr_api: Api, ivr_server: Server) -> None:
    """The demo tree in force, the seeded CRM answering, the trace recorded and served."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    now = dt.datetime(2025, 3, 4, 10, tzinfo=ZoneInfo("America/New_York")).timestamp()
    tree = ivr_server.ivr.registry.for_dnis("1000")
    call = AsyncCall(tree, ivr_server.crm, "+12125550101", now, session_id="live-1")
    await call.start()
    await call.press("1")
    await call.press("3")
    await call.press("4001001009#")
    assert "bill_balance_is" in call.names()
    call.sim.hangup()
    await ivr_server.ivr.record_trace("demo", tree.name, call.session.trace(), "call-live-1")

    r = await ivr_api.as_("agent1", "GET", "/contacts/call-live-1/ivr")
    trace = r.json()["trace"]
    assert trace["outcome"] == "self_served" and trace["session"] == "live-1"
    collected = [i for i in trace["inputs"] if i["node"] == "bill_account"]
    assert collected and "4001001009" not in str(collected)     # masked
    r = await ivr_api.as_("supervisor", "GET", "/ivr/demo-main/stats")
    assert r.json()["sessions"] == 1 and r.json()["containment_rate"] == 1.0
    assert r.json()["visits"]["bill_say"] == 1

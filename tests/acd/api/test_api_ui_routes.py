"""/api/v1/ui/...: what the web pages ask for beyond the core API."""

from __future__ import annotations

import asyncio

from acd.api.intervals import fold
from acd.server import Server

from .conftest import Api


async def ready(api: Api, agent: str, site: str = "taipei") -> None:
    r = await api.as_(agent, "POST", f"/agents/{agent}/login", json={"device": "webrtc",
                                                                    "site": site})
    assert r.status_code == 200, r.text
    r = await api.as_(agent, "PUT", f"/agents/{agent}/state", json={"state": "ready"})
    assert r.status_code == 200, r.text


async def contact(api: Api, **body: object) -> str:
    r = await api.as_("admin", "POST", "/contacts", json={"channel": "chat", "queue": "sales",
                                                         **body})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_bootstrap_has_codes_queues_and_own_state(api: Api) -> None:
    await ready(api, "agent1")
    b = (await api.as_("agent1", "GET", "/ui/bootstrap")).json()
    assert b["me"]["agent_id"] == "agent1" and b["tenant"]["sites"] == ["taipei", "kaohsiung"]
    assert "lunch" in b["tenant"]["not_ready_reasons"]
    sales = next(q for q in b["queues"] if q["id"] == "sales")
    assert sales["dispositions"] == ["sold", "quote-sent", "not-interested", "follow-up"]
    assert b["agent"]["presence"] == "ready" and b["agent"]["wrapup_s"]["chat"] == 15.0
    b = (await api.as_("supervisor", "GET", "/ui/bootstrap")).json()
    assert b["agent"] is None


async def test_live_views(api: Api) -> None:
    await ready(api, "agent2")
    r = await api.as_("agent2", "GET", "/ui/agents/live")
    assert r.status_code == 403
    live = (await api.as_("supervisor", "GET", "/ui/agents/live")).json()
    by_id = {a["id"]: a for a in live["agents"]}
    assert len(by_id) == 10 and by_id["agent2"]["presence"] == "ready"
    assert by_id["agent2"]["since"] is not None and by_id["agent3"]["status"] == "logged_out"
    queues = (await api.as_("agent2", "GET", "/ui/queues/live")).json()["queues"]
    assert {q["id"] for q in queues} == {"sales", "support"}
    assert all("waiting" in q["stats"] for q in queues)
    mates = (await api.as_("agent2", "GET", "/ui/colleagues")).json()["agents"]
    assert {"id": "agent2", "name": "Agent 2", "presence": "ready", "status": "ready"} in mates


async def test_screen_pop_with_history_across_channels(api: Api, server: Server) -> None:
    who = {"name": "Mei Lin", "phone": "+886212345678", "id": "cust-9"}
    old = await contact(api, channel="email", customer=who)
    other = await contact(api, channel="sms", customer={"name": "Someone", "phone": "+1555"})
    await api.as_("supervisor", "DELETE", f"/contacts/{old}")
    await server.drain_writes()
    await server.store.update_contact(old, data={"disposition": "quote-sent", "notes": "n1"})
    await ready(api, "agent5")
    cid = await contact(api, customer=who, value_tier="gold",
                        data={"segment": "SMB", "account": "A-77"})
    pop = (await api.as_("agent5", "GET", f"/ui/contacts/{cid}/screenpop")).json()
    assert pop["customer"]["name"] == "Mei Lin" and pop["value_tier"] == "gold"
    assert pop["segment"] == "SMB" and pop["ivr"] == {"account": "A-77"}
    assert [h["id"] for h in pop["history"]] == [old]
    assert pop["history"][0]["channel"] == "email"
    assert pop["history"][0]["disposition"] == "quote-sent"
    assert other not in {h["id"] for h in pop["history"]}
    # an agent the contact is not offered to does not see it
    r = await api.as_("agent3", "GET", f"/ui/contacts/{cid}/screenpop")
    assert r.status_code == 403


async def test_extend_wrap_up_and_save_after_it(api: Api, server: Server) -> None:
    await ready(api, "agent5")
    cid = await contact(api, preferred_agent="agent5")
    assert (await api.as_("agent5", "POST", f"/contacts/{cid}/accept")).status_code == 200
    r = await api.as_("agent5", "POST", f"/ui/contacts/{cid}/extend-wrapup", json={})
    assert r.status_code == 409 and r.json()["error_id"] == "not_in_wrap_up"
    assert (await api.as_("agent5", "POST", f"/contacts/{cid}/complete")).status_code == 200
    before = server.clock()
    r = await api.as_("agent5", "POST", f"/ui/contacts/{cid}/extend-wrapup",
                      json={"seconds": 120})
    assert r.status_code == 200 and r.json()["wrapup_until"] >= before + 120
    handle = server._timers[("wrapup", cid, "agent5")]
    loop_left = handle.when() - asyncio.get_running_loop().time()
    assert loop_left > 60  # the chat wrap-up was 15 s; now about 120 s
    r = await api.as_("agent5", "POST", f"/ui/contacts/{cid}/disposition",
                      json={"disposition": "nope"})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_disposition"
    r = await api.as_("agent5", "POST", f"/ui/contacts/{cid}/disposition",
                      json={"disposition": "sold", "notes": "saved late"})
    assert r.status_code == 200
    row = await server.store.get_contact(cid)
    assert row["data"]["disposition"] == "sold" and row["data"]["notes"] == "saved late"
    assert server.engine.contact_view(cid)["state"] == "wrap_up"


async def test_transfer_with_notes_goes_to_the_colleague(api: Api, server: Server) -> None:
    await ready(api, "agent1")
    cid = await contact(api, preferred_agent="agent1", customer={"name": "Ann"},
                        data={"topic": "upgrade"})
    await api.as_("agent1", "POST", f"/contacts/{cid}/accept")
    await ready(api, "agent2")
    r = await api.as_("agent1", "POST", f"/ui/contacts/{cid}/transfer",
                      json={"to_agent": "agent2", "notes": "wants the gold plan"})
    assert r.status_code == 200, r.text
    new = r.json()["new_contact_id"]
    assert server.engine.contact_view(cid)["state"] == "wrap_up"
    view = server.engine.contact_view(new)
    assert view["state"] == "offered" and view["agent_id"] == "agent2"
    pop = (await api.as_("agent2", "GET", f"/ui/contacts/{new}/screenpop")).json()
    assert pop["transfer"]["notes"] == "wants the gold plan"
    assert pop["transfer"]["from_agent"] == "agent1" and pop["ivr"]["topic"] == "upgrade"
    r = await api.as_("agent1", "POST", f"/ui/contacts/{cid}/transfer", json={})
    assert r.status_code == 409


async def test_consult_reaches_the_colleague_only(api: Api) -> None:
    hub = api.client._transport.app.state.ui_hub  # type: ignore[attr-defined]
    from acd.auth import Principal

    inbox: asyncio.Queue[dict] = asyncio.Queue()
    other: asyncio.Queue[dict] = asyncio.Queue()
    hub.attach(Principal("agent2", "demo", "agent", "agent2"), inbox)
    hub.attach(Principal("agent3", "demo", "agent", "agent3"), other)
    r = await api.as_("agent1", "POST", "/ui/consult",
                      json={"to_agent": "agent2", "text": "<b>can you take a billing one?</b>"})
    assert r.status_code == 200 and r.json()["delivered"] == 1
    msg = inbox.get_nowait()
    assert msg["event"] == "consult.message" and msg["data"]["from"] == "agent1"
    assert msg["data"]["text"] == "<b>can you take a billing one?</b>"
    assert other.empty()
    r = await api.as_("agent1", "POST", "/ui/consult", json={"to_agent": "agent9", "text": "x"})
    assert r.json()["delivered"] == 0


async def test_intervals_from_the_journal(api: Api, server: Server) -> None:
    await ready(api, "agent5")
    start = server.clock()
    a = await contact(api, preferred_agent="agent5")
    await api.as_("agent5", "POST", f"/contacts/{a}/accept")
    b = await contact(api, queue="support")
    await api.as_("admin", "POST", f"/contacts/{b}/abandon")
    r = await api.as_("supervisor", "GET", f"/ui/intervals?since={start - 60}"
                      f"&until={start + 1740}&step_s=1800")
    body = r.json()
    assert body["total"] == [{"offered": 2, "handled": 1, "abandoned": 1, "sl_pct": 100.0}]
    assert body["queues"]["support"][0]["abandoned"] == 1
    r = await api.as_("supervisor", "GET", "/ui/intervals?since=10&until=5")
    assert r.status_code == 422
    assert (await api.as_("agent5", "GET", "/ui/intervals")).status_code == 403


async def test_ivr_diagram_for_admins(api: Api) -> None:
    trees = (await api.as_("admin", "GET", "/ui/ivr")).json()["trees"]
    assert trees == [{"name": "demo-main", "exists": True}]
    r = await api.as_("admin", "GET", "/ui/ivr/demo-main.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.lstrip().startswith(("<svg", "<?xml"))
    assert (await api.as_("admin", "GET", "/ui/ivr/..%2Fdemo.svg")).status_code == 404
    assert (await api.as_("supervisor", "GET", "/ui/ivr")).status_code == 403


def test_fold_counts_and_service_level() -> None:
    def n(at: float, state: str, reason: str | None = None, outcome: str | None = None,
          arrival: float = 0.0, queue: str = "q") -> dict:
        return {"at": at, "queue": queue, "state": state, "reason": reason, "outcome": outcome,
                "details": {"arrival": arrival}}

    notices = [
        n(10, "queued", "arrived", arrival=10), n(15, "connected", "accepted", arrival=10),
        n(20, "queued", "arrived", arrival=20), n(70, "connected", "accepted", arrival=20),
        n(30, "queued", "arrived", arrival=30), n(35, "ended", outcome="abandoned", arrival=30),
        n(40, "queued", "arrived", arrival=40), n(100, "ended", outcome="abandoned", arrival=40),
        n(130, "queued", "arrived", arrival=130, queue="r"),
        n(999, "queued", "arrived", arrival=999),  # outside
        {"at": "bad", "queue": "q"},
    ]
    out = fold(notices, since=0, until=180, step_s=60, thresholds={"q": 20})
    assert out["starts"] == [0, 60, 120]
    q = out["queues"]["q"]
    assert q[0] == {"offered": 4, "handled": 1, "abandoned": 1, "sl_pct": 100.0}
    # answered after 50 s (late) and abandoned after 60 s (counts against): 0 of 2
    assert q[1] == {"offered": 0, "handled": 1, "abandoned": 1, "sl_pct": 0.0}
    assert q[2]["sl_pct"] is None and out["queues"]["r"][2]["offered"] == 1
    assert out["total"][2]["offered"] == 1 and out["total"][0]["offered"] == 4

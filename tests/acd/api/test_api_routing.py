"""Contacts through the API: creation, offers, accept, wrap-up, queue order, stats."""

from __future__ import annotations

from acd.server import Server

from .conftest import Api


async def _ready(api: Api, agent: str, site: str = "taipei") -> None:
    r = await api.as_(agent, "POST", f"/agents/{agent}/login",
                      json={"device": "webrtc", "site": site, "seat": "A-12"})
    assert r.status_code == 200, r.text
    r = await api.as_(agent, "PUT", f"/agents/{agent}/state", json={"state": "ready"})
    assert r.status_code == 200, r.text
    assert r.json()["presence"] == "ready"


async def test_contact_is_offered_accepted_and_wrapped_up(api: Api, server: Server) -> None:
    await _ready(api, "agent5")  # sales only
    r = await api.as_("admin", "POST", "/contacts", json={
        "channel": "chat", "queue": "sales", "priority": 1,
        "customer": {"name": "Mei Lin", "phone": "+886212345678", "email": "mei@example.com"}})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    c = (await api.as_("agent5", "GET", f"/contacts/{cid}")).json()
    assert c["state"] == "offered" and c["agent_id"] == "agent5"
    assert c["customer"]["name"] == "Mei Lin"
    assert c["explanation"], "the routing decision explains itself"
    r = await api.as_("agent5", "POST", f"/contacts/{cid}/accept")
    assert r.status_code == 200 and r.json()["state"] == "connected"
    r = await api.as_("agent5", "POST", f"/contacts/{cid}/complete")
    assert r.json()["state"] == "wrap_up"
    r = await api.as_("agent5", "POST", f"/contacts/{cid}/wrapup",
                      json={"disposition": "nonsense"})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_disposition"
    r = await api.as_("agent5", "POST", f"/contacts/{cid}/wrapup",
                      json={"disposition": "sold", "notes": "2 lines"})
    assert r.status_code == 200
    c = (await api.as_("agent5", "GET", f"/contacts/{cid}")).json()
    assert c["state"] == "ended" and c["outcome"] == "answered"
    stats = (await api.as_("supervisor", "GET", "/queues/sales/stats")).json()
    assert stats["answered"] == 1 and stats["waiting"] == 0
    await server.drain_writes()
    row = await server.store.get_contact(cid)
    assert row["data"]["disposition"] == "sold" and row["outcome"] == "answered"


async def test_accepting_someone_elses_offer_is_refused(api: Api) -> None:
    await _ready(api, "agent5")
    cid = (await api.as_("admin", "POST", "/contacts",
                         json={"channel": "chat", "queue": "sales"})).json()["id"]
    r = await api.as_("agent1", "POST", f"/contacts/{cid}/accept")
    assert r.status_code == 409


async def test_waiting_contacts_in_routing_order(api: Api) -> None:
    ids = []
    for prio in (0, 5, 0, 5, 1):
        r = await api.as_("admin", "POST", "/contacts",
                          json={"channel": "email", "queue": "support", "priority": prio})
        ids.append(r.json()["id"])
    waiting = (await api.as_("supervisor", "GET", "/queues/support/contacts")).json()["contacts"]
    assert [c["id"] for c in waiting] == [ids[1], ids[3], ids[4], ids[0], ids[2]]
    assert [c["position"] for c in waiting] == [1, 2, 3, 4, 5]
    stats = (await api.as_("supervisor", "GET", "/queues/support/stats")).json()
    assert stats["waiting"] == 5


async def test_contact_validation(api: Api) -> None:
    r = await api.as_("admin", "POST", "/contacts", json={"channel": "pigeon", "queue": "sales"})
    assert r.status_code == 422 and r.json()["error_id"] == "validation_error"
    r = await api.as_("admin", "POST", "/contacts", json={"channel": "chat", "queue": "nope"})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_queue"
    r = await api.as_("admin", "GET", "/contacts/c-missing")
    assert r.status_code == 404 and r.json()["error_id"] == "contact_not_found"


async def test_callback_keeps_the_place_of_the_call(api: Api, server: Server) -> None:
    first = (await api.as_("admin", "POST", "/contacts",
                           json={"channel": "voice", "queue": "sales",
                                 "customer": {"phone": "+886911111111"}})).json()["id"]
    later = (await api.as_("admin", "POST", "/contacts",
                           json={"channel": "chat", "queue": "sales"})).json()["id"]
    await api.as_("admin", "POST", f"/contacts/{first}/abandon")
    cb = (await api.as_("admin", "POST", "/contacts",
                        json={"channel": "callback", "queue": "sales", "callback_of": first,
                              "customer": {"phone": "+886911111111"}})).json()["id"]
    waiting = (await api.as_("supervisor", "GET", "/queues/sales/contacts")).json()["contacts"]
    assert [c["id"] for c in waiting] == [cb, later]


async def test_not_ready_reason_and_logout(api: Api) -> None:
    await _ready(api, "agent2")
    r = await api.as_("agent2", "PUT", "/agents/agent2/state",
                      json={"state": "not_ready", "reason": "lunch"})
    assert r.json()["presence"] == "not_ready" and r.json()["reason"] == "lunch"
    r = await api.as_("agent2", "PUT", "/agents/agent2/state",
                      json={"state": "not_ready", "reason": "nap"})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_reason"
    r = await api.as_("agent2", "POST", "/agents/agent2/logout")
    assert r.json()["presence"] == "logged_out"
    r = await api.as_("agent2", "POST", "/agents/agent2/login", json={"device": "pager"})
    assert r.status_code == 422 and r.json()["error_id"] == "invalid_device"


async def test_journal_records_the_story(api: Api) -> None:
    await _ready(api, "agent5")
    cid = (await api.as_("admin", "POST", "/contacts",
                         json={"channel": "sms", "queue": "sales"})).json()["id"]
    events = (await api.as_("supervisor", "GET", "/journal")).json()["events"]
    kinds = [(e["kind"], e["entity_id"]) for e in events]
    assert ("offer", cid) in kinds and ("contact.updated", cid) in kinds
    assert ("agent.updated", "agent5") in kinds

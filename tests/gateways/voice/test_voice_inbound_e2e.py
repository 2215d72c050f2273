"""Inbound calls end to end with real pjsua2 peers: caller -> DNIS -> queue -> agent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.gateways.voice.rig import live_call, peer, tail_share, until

pytestmark = pytest.mark.timeout(60)


async def test_call_is_bridged_to_the_agent_with_audio_both_ways_and_a_cdr(
        rig_factory: Any, peers: list[Any], tmp_path: Path) -> None:
    rig = await rig_factory()
    (tmp_path / "caller").mkdir()
    (tmp_path / "agent").mkdir()
    agent = await peer(peers, tone=440, record_dir=tmp_path / "agent", auto_answer=200,
                       user="agent")
    caller = await peer(peers, tone=1000, record_dir=tmp_path / "caller", user="caller")
    rig.login("a1", agent.uri)

    n = await caller.call(rig.uri("2000"))
    await caller.wait_for("state", call=n, state="CONFIRMED", timeout=10)
    await agent.wait_for("state", call=0, state="CONFIRMED", timeout=10)
    call = await until(lambda: (c := live_call(rig.gw)) and c.bridge and c, 10, "bridge")
    assert rig.agent("a1")["status"] == "busy"
    contact = rig.server.engine.contact_view(call.contact_id)
    assert contact["state"] == "connected" and contact["agent_id"] == "a1"
    assert contact["data"]["dnis"] == "2000"
    await asyncio.sleep(3.0)          # media flows both ways while we listen
    caller.send("hangup", call=n)
    await agent.wait_for("disconnected", call=0, timeout=10)

    cdr = await rig.cdr()
    assert cdr["outcome"] == "answered"
    assert cdr["hangup_side"] == "caller"
    assert cdr["agent_id"] == "a1" and cdr["queue"] == "sales" and cdr["dnis"] == "2000"
    ts = cdr["timestamps"]
    assert ts["arrival"] <= ts["queued"] <= ts["offered"] <= ts["answered"] <= ts["ended"]
    assert {leg["role"] for leg in cdr["legs"]} == {"caller", "agent"}
    assert cdr["durations"]["talk_s"] > 2.0
    stored = await rig.server.store.list_cdrs("t1", contact_id=cdr["contact_id"])
    assert len(stored) == 1
    await until(lambda: rig.agent("a1")["status"] == "wrap_up"
                or rig.agent("a1")["status"] == "ready", 5, "agent in wrap-up")

    await caller.stop()
    await agent.stop()
    at_agent = tail_share(agent.recording(0), 1000, 2.5)
    at_caller = tail_share(caller.recording(n), 440, 2.5)
    assert at_agent[0] > 0.5 and at_agent[1] > 300, at_agent
    assert at_caller[0] > 0.5 and at_caller[1] > 300, at_caller

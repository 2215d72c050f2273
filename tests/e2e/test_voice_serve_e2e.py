"""`ipcc serve` with voice: a pjsua2 caller dials the demo's 2000 and reaches agent1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.gateways.voice.rig import free_port
from tests.support.proc import IpccProcess
from tests.support.sip_peer import SipPeer

pytestmark = pytest.mark.timeout(90)


async def test_serve_answers_a_call_and_bridges_it_to_a_logged_in_agent(tmp_path: Path) -> None:
    sip_port = free_port()
    ipcc = IpccProcess(tmp_path / "data", "--sip-port", str(sip_port), "--bus-url", "none")
    await asyncio.to_thread(ipcc.start)
    agent = caller = None
    try:
        assert f"SIP (voice): 127.0.0.1:{sip_port}" in ipcc.output()
        agent = await SipPeer(tone=440, auto_answer=200, user="agent1").start()
        caller = await SipPeer(tone=1000, user="caller").start()
        api = ipcc.client("agent1", "agent")
        r = await asyncio.to_thread(api.post, "/agents/agent1/login", json={"device": agent.uri})
        assert r.status_code == 200, r.text
        r = await asyncio.to_thread(api.put, "/agents/agent1/state", json={"state": "ready"})
        assert r.status_code == 200, r.text
        n = await caller.call(f"sip:2000@127.0.0.1:{sip_port}")
        await agent.wait_for("state", call=0, state="CONFIRMED", timeout=15)
        r = await asyncio.to_thread(api.get, "/calls")
        calls = r.json()["calls"]
        assert len(calls) == 1 and calls[0]["agent_id"] == "agent1"
        contact = calls[0]["contact_id"]
        caller.send("hangup", call=n)
        await agent.wait_for("disconnected", call=0, timeout=10)
        for _ in range(100):
            r = await asyncio.to_thread(api.get, f"/calls/{contact}")
            if r.json().get("phase") == "ended":
                break
            await asyncio.sleep(0.1)
        assert r.json()["outcome"] == "answered"
        health = await asyncio.to_thread(api.get, ipcc.url + "/healthz")
        assert health.json()["components"]["voice"]["ok"] is True
    finally:
        for p in (caller, agent):
            if p is not None:
                await p.stop()
        await asyncio.to_thread(ipcc.stop)

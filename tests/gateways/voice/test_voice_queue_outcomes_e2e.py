"""What happens to a call that is not simply answered: ring-no-answer, abandon, crash."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from acd.model import Channel
from tests.gateways.voice.rig import live_call, peer, tail_share, until

pytestmark = pytest.mark.timeout(60)


async def test_ring_no_answer_requeues_at_the_head_and_makes_the_agent_not_ready(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    agent = await peer(peers, user="deaf")              # rings (180), never answers
    caller = await peer(peers, tone=1000, user="caller")
    rig.login("a1", agent.uri)

    n = await caller.call(rig.uri("2000"))
    await agent.wait_for("incoming", call=0, timeout=10)
    call = live_call(rig.gw)
    cid = call.contact_id
    # a later contact in the same queue: the missed call must stay ahead of it
    later = await rig.server.create_contact("t1", channel=Channel.CALLBACK.value,
                                            queue="sales", customer={"phone": "+1555"})
    await agent.wait_for("disconnected", call=0, timeout=10)   # ring timeout: 3 s
    view = rig.agent("a1")
    assert view["presence"] == "not_ready" and view["reason"] == "no answer"
    assert rig.server.engine.waiting("sales") == [cid, later]
    assert rig.server.engine.contact_view(cid)["state"] == "queued"
    # the gateway learns of the cancelled agent leg from the worker a moment later
    await until(lambda: call.phase.value == "queued" and call.agent_leg is None, 5,
                "the call back in the queue phase")
    agent_leg = next(leg for leg in call.legs.values() if leg.role == "agent")
    assert not agent_leg.live and agent_leg.answered_at is None

    caller.send("hangup", call=n)
    cdr = await rig.cdr()
    assert cdr["outcome"] == "abandoned"
    assert cdr["agent_id"] is None and cdr["timestamps"]["offered"] is not None
    assert [leg["role"] for leg in cdr["legs"]] == ["caller", "agent"]


async def test_caller_hears_hold_music_and_abandons_while_queued(
        rig_factory: Any, peers: list[Any], tmp_path: Path) -> None:
    rig = await rig_factory()
    caller = await peer(peers, record_dir=tmp_path, user="caller")
    n = await caller.call(rig.uri("2000"))
    await caller.wait_for("state", call=n, state="CONFIRMED", timeout=10)
    call = await until(lambda: (c := live_call(rig.gw)) and c.contact_id and c, 10, "queued")
    cid = call.contact_id
    await asyncio.sleep(2.5)
    caller.send("hangup", call=n)
    cdr = await rig.cdr()
    assert cdr["outcome"] == "abandoned" and cdr["hangup_side"] == "caller"
    assert cdr["contact_id"] == cid and cdr["timestamps"]["answered"] is None
    await rig.server.drain_writes()
    row = await rig.server.store.get_contact(cid)
    assert row["state"] == "ended" and row["outcome"] == "abandoned"
    await caller.stop()
    # music on hold: the shipped loop is chords around 175-590 Hz, not silence
    _, rms = tail_share(caller.recording(n), 440, 1.5)
    assert rms > 200


async def test_worker_crash_during_a_call_gives_lost_on_crash(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    agent = await peer(peers, tone=440, auto_answer=200, user="agent")
    caller = await peer(peers, tone=1000, user="caller")
    rig.login("a1", agent.uri)
    await caller.call(rig.uri("2000"))
    call = await until(lambda: (c := live_call(rig.gw)) and c.bridge and c, 10, "bridge")
    pid = next(w.pid for w in rig.gw.pool.workers() if w.id == call.worker_id)
    os.kill(pid, signal.SIGKILL)
    cdr = await rig.cdr(timeout=15)
    assert cdr["outcome"] == "lost_on_crash"
    assert cdr["hangup_side"] == "system" and "lost" in cdr["hangup_cause"]
    assert all(leg["ended_by"] == "crash" for leg in cdr["legs"])
    # the agent is released into wrap-up, then ready again (wrap-up 1 s)
    await until(lambda: rig.agent("a1")["status"] in ("wrap_up", "ready"), 5, "agent free")
    # the pool replaced the worker and new calls work again
    await until(lambda: any(w.state == "ready" for w in rig.gw.pool.workers()), 15,
                "replacement worker")


async def test_caller_lost_on_crash_while_queued_ends_the_contact(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    caller = await peer(peers, user="caller")
    await caller.call(rig.uri("2000"))
    call = await until(lambda: (c := live_call(rig.gw)) and c.contact_id and c, 10, "queued")
    cid = call.contact_id
    pid = next(w.pid for w in rig.gw.pool.workers() if w.id == call.worker_id)
    os.kill(pid, signal.SIGKILL)
    cdr = await rig.cdr(timeout=15)
    assert cdr["outcome"] == "lost_on_crash"
    await rig.server.drain_writes()
    row = await rig.server.store.get_contact(cid)
    assert row["state"] == "ended" and row["outcome"] == "lost_on_crash"
    assert cid not in rig.server.engine.waiting("sales")


class _Bus:
    """Stands in for the MQTT bus: records what would be published."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def publish(self, topic: str, message: dict[str, Any], retain: bool = False) -> None:
        self.messages.append((topic, message))

    def status(self) -> dict[str, Any]:
        return {"url": "test"}

    async def stop(self) -> None:
        pass


async def test_queued_caller_hears_announcements_and_the_cdr_is_published(
        rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory(announce_every_s=1.0, language="zh")
    rig.server.bus = bus = _Bus()
    caller = await peer(peers, user="caller")
    n = await caller.call(rig.uri("2000"))
    call = await until(lambda: (c := live_call(rig.gw)) and c.contact_id and c, 10, "queued")
    await until(lambda: rig.gw.counters["announcements"] >= 2, 15, "two announcements")
    assert call.phase.value == "queued"
    caller.send("hangup", call=n)
    cdr = await rig.cdr()
    cdrs = [m for t, m in bus.messages if t == "t1/cdrs"]
    assert len(cdrs) == 1 and cdrs[0]["data"]["call_id"] == cdr["call_id"]
    assert cdrs[0]["data"]["outcome"] == "abandoned"


async def test_unknown_number_is_refused_with_a_cdr(rig_factory: Any, peers: list[Any]) -> None:
    rig = await rig_factory()
    caller = await peer(peers, user="caller")
    n = await caller.call(rig.uri("9999"))
    ended = await caller.wait_for("disconnected", call=n, timeout=10)
    assert ended["code"] == 404
    cdr = await rig.cdr()
    assert cdr["outcome"] == "failed" and cdr["hangup_cause"] == "unknown_dnis"

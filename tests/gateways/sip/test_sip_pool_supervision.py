"""The worker pool as a supervisor: crashes, capacity, health checks, drain, clean exit.

Workers are real processes; callers and agents are real pjsua2 peers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from gateways.sip import protocol
from gateways.sip.pool import NoCapacity, WorkerError, WorkerPool, WorkerUnavailable
from tests.support.sip_peer import SipPeer

from .conftest import EventLog, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[3]


async def start_peer(peers: list[SipPeer], **kw: Any) -> SipPeer:
    peer = SipPeer(**kw)
    peers.append(peer)
    return await peer.start()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_kill9_reports_lost_legs_and_replacement_serves_next_call(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer]) -> None:
    agent = await start_peer(peers, auto_answer=200, user="agent")
    caller = await start_peer(peers, user="caller")
    res = await pool.reserve(2)
    await caller.call(f"sip:1000@127.0.0.1:{res.sip_port}")
    cleg = (await events.wait("leg_incoming")).args["leg"]
    await pool.request(res.worker_id, "answer", leg=cleg)
    _, aleg = await pool.originate(agent.uri, reservation=res)
    await events.wait("leg_answered", leg=aleg)
    dead = next(w for w in pool.workers() if w.id == res.worker_id)

    os.kill(dead.pid, signal.SIGKILL)
    lost = await events.wait("worker_lost", worker=dead.id)
    assert sorted(lost.args["legs"]) == sorted([cleg, aleg])
    assert lost.args["reservations"] == [res.id]
    fresh = await events.wait("worker_ready", timeout=15.0,
                              where=lambda e: e.worker_id != dead.id)
    assert [w.id for w in pool.workers()] == [fresh.worker_id]
    with pytest.raises(WorkerUnavailable):
        await pool.request(dead.id, "ping")

    # the replacement takes the next call
    res2 = await pool.reserve(2)
    assert res2.worker_id == fresh.worker_id
    await caller.call(f"sip:1000@127.0.0.1:{res2.sip_port}")
    leg = (await events.wait("leg_incoming", reservation=res2.id)).args["leg"]
    assert leg.startswith(fresh.worker_id + "-")
    await pool.request(res2.worker_id, "answer", leg=leg)
    await events.wait("leg_answered", leg=leg)


async def test_fifth_leg_is_refused_with_486(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer]) -> None:
    agent = await start_peer(peers, auto_answer=200, user="agent")
    caller = await start_peer(peers, user="caller")
    wid = pool.workers()[0].id
    legs = [(await pool.originate(agent.uri, worker_id=wid))[1] for _ in range(4)]
    for leg in legs:
        await events.wait("leg_answered", leg=leg)
    with pytest.raises(WorkerError) as err:
        await pool.originate(agent.uri, worker_id=wid)
    assert err.value.code == "no_capacity"
    n = await caller.call(f"sip:1000@127.0.0.1:{pool.workers()[0].sip_port}")
    refused = await caller.wait_for("disconnected", call=n)
    assert refused["code"] == 486
    assert not events.find("leg_incoming")
    # full worker: a new contact's booking goes to a second worker the pool starts
    res = await pool.reserve(2)
    assert res.worker_id != wid and len(pool.workers()) == 2


async def test_reserve_grows_to_max_then_refuses(events: EventLog, tmp_path: Path) -> None:
    async with WorkerPool(size=1, max_size=2, socket_dir=tmp_path, on_event=events) as pool:
        stream = pool.events()
        first = [await pool.reserve(2) for _ in range(2)]
        assert {r.worker_id for r in first} == {pool.workers()[0].id}
        grown = await pool.reserve(2)
        assert grown.worker_id not in {r.worker_id for r in first}
        async def first_ready() -> Any:                       # subscribers see it too
            async for ev in stream:
                if ev.event == "worker_ready":
                    return ev
            return None
        seen = await asyncio.wait_for(first_ready(), 5.0)
        assert seen.worker_id == grown.worker_id
        await stream.aclose()
        await pool.reserve(2)
        with pytest.raises(NoCapacity):
            await pool.reserve(2)
        pool.release(first[0])
        again = await pool.reserve(2)
        assert again.worker_id == first[0].worker_id
        pids = [w.pid for w in pool.workers()]
    assert pids and not any(alive(p) for p in pids)          # close() took its children


async def test_unresponsive_worker_is_killed_and_replaced(events: EventLog,
                                                          tmp_path: Path) -> None:
    async with WorkerPool(size=1, socket_dir=tmp_path, ping_interval=0.2, ping_timeout=0.3,
                          max_missed_pings=2, on_event=events) as pool:
        stuck = pool.workers()[0]
        os.kill(stuck.pid, signal.SIGSTOP)
        try:
            lost = await events.wait("worker_lost", worker=stuck.id, timeout=10.0)
            assert "ping" in lost.args["reason"]
            await events.wait("worker_ready", timeout=15.0,
                              where=lambda e: e.worker_id != stuck.id)
            await eventually(lambda: not alive(stuck.pid), what="stuck worker gone")
            assert (await pool.request(pool.workers()[0].id, "ping"))["pong"] is True
        finally:
            if alive(stuck.pid):
                os.kill(stuck.pid, signal.SIGKILL)


async def test_drain_refuses_new_calls_waits_for_legs_then_restarts(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer]) -> None:
    caller = await start_peer(peers, user="caller")
    late = await start_peer(peers, user="late")
    old = pool.workers()[0]
    n = await caller.call(f"sip:1000@127.0.0.1:{old.sip_port}")
    leg = (await events.wait("leg_incoming")).args["leg"]
    await pool.request(old.id, "answer", leg=leg)
    await events.wait("leg_answered", leg=leg)

    drain = asyncio.create_task(pool.drain(old.id))
    await events.wait("worker_draining", worker=old.id)
    await events.wait("worker_load", accepting=False)
    # a stray INVITE reaching the draining worker is turned away
    m = await late.call(f"sip:1000@127.0.0.1:{old.sip_port}")
    assert (await late.wait_for("disconnected", call=m))["code"] == 503
    # new contacts go elsewhere
    res = await pool.reserve(2)
    assert res.worker_id != old.id
    assert not drain.done()
    # the last call ends: the worker stops and a fresh one takes its slot
    caller.send("hangup", call=n)
    await asyncio.wait_for(drain, 10.0)
    assert events.find("worker_stopped", worker=old.id)
    assert old.id not in [w.id for w in pool.workers()]
    assert len(pool.workers()) == 2
    assert not events.find("worker_lost")
    await eventually(lambda: not alive(old.pid), what="drained worker gone")


async def _fake_control(tmp_path: Path, send: bytes | None) -> int:
    """Run a worker against a hand-made control socket; return its exit code."""
    path = str(tmp_path / "c.sock")
    got: asyncio.Queue[bytes] = asyncio.Queue()
    conns: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conns.append(writer)
        await got.put(await reader.read(65536))      # the hello
        if send is None:
            writer.close()                            # control process "dies"
        else:
            writer.write(send)

    server = await asyncio.start_unix_server(accept, path=path)
    from gateways.sip.pool import _free_port
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateways.sip.worker", "--control", path, "--sip-port",
        str(_free_port("127.0.0.1")), "--id", "wx", cwd=str(ROOT),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        hello = protocol.Decoder().feed(await asyncio.wait_for(got.get(), 10.0))
        assert hello and isinstance(hello[0], protocol.Event) and hello[0].event == "hello"
        assert hello[0].args["protocol"] == protocol.VERSION
        return await asyncio.wait_for(proc.wait(), 10.0)
    finally:
        if proc.returncode is None:
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
        for w in conns:
            w.close()
        server.close()


async def test_worker_exits_when_its_control_stream_closes(tmp_path: Path) -> None:
    assert await _fake_control(tmp_path, None) == 0


async def test_worker_exits_on_protocol_garbage(tmp_path: Path) -> None:
    assert await _fake_control(tmp_path, b"\x00\x00\x00\x05hello") == 5


async def test_worker_that_cannot_bind_its_port_fails_start_cleanly(tmp_path: Path) -> None:
    import socket

    from gateways.sip.pool import PoolError

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        pool = WorkerPool(size=1, sip_port_base=port, socket_dir=tmp_path)
        with pytest.raises(PoolError) as err:
            await pool.start()
    assert err.value.code == "worker_start_failed"
    assert pool.workers() == []

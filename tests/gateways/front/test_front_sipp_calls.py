"""Real SIP peers through the built-in front: sipp uac -> SipFront -> two sipp uas workers.

The uas processes stand in for media workers (the pool's pjsua2 workers answer the same
way); the chooser round-robins between them like the pool's reserve() would.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from gateways.sip.front.server import SipFront
from tests.gateways.front.front_harness import (
    CountingChooser,
    free_port,
    received_requests,
    sipp_binary,
    uac,
    uas,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sipp_binary() is None,
                       reason="sipp not installed (Debian sip-tester; "
                              "scripts/install-test-deps.sh installs it)"),
    pytest.mark.timeout(120),
]

CALLS = 20


@pytest.fixture
async def front_and_workers(tmp_path: Path) -> Any:
    ports = [free_port(), free_port()]
    workers = [uas(p, tmp_path, f"uas{i}") for i, p in enumerate(ports)]
    chooser = CountingChooser([("127.0.0.1", p) for p in ports], capacity=50)
    front = SipFront("127.0.0.1", 0, chooser)
    await front.start()
    try:
        yield front, chooser, workers
    finally:
        await front.stop()
        for w in workers:
            w.stop()


async def run_uac(front: SipFront, tmp_path: Path, name: str, **kw: Any) -> None:
    caller = uac(front.address, tmp_path, name, calls=CALLS, **kw)
    try:
        rc = await asyncio.to_thread(caller.wait, 90)
    finally:
        caller.stop()
    err = tmp_path / f"{name}.err"
    detail = err.read_text(errors="replace")[-2000:] if err.exists() else ""
    assert rc == 0, f"sipp uac exit {rc}: {caller.output()}\n{detail}\nfront: {front.stats()}"


async def test_calls_all_succeed_and_are_spread_over_both_workers(
        front_and_workers: Any, tmp_path: Path) -> None:
    front, chooser, _ = front_and_workers
    await run_uac(front, tmp_path, "uac_udp")
    assert sorted(chooser.chosen.values()) == [CALLS // 2, CALLS // 2]
    stats = front.stats()
    assert stats["dialogs_opened"] == CALLS and stats["dialogs_released"] == CALLS
    assert stats["replied_100"] >= CALLS
    assert sum(chooser.load.values()) == 0  # every slot given back
    assert_affinity(tmp_path, CALLS)


def assert_affinity(workdir: Path, calls: int) -> None:
    """Each worker got the ACK and BYE of exactly the calls whose INVITE it got."""
    invites = [received_requests(workdir, f"uas{i}", "INVITE") for i in (0, 1)]
    assert all(invites) and not invites[0] & invites[1]
    assert len(invites[0] | invites[1]) == calls
    for i in (0, 1):
        assert received_requests(workdir, f"uas{i}", "ACK") == invites[i]
        assert received_requests(workdir, f"uas{i}", "BYE") == invites[i]


async def test_calls_over_tcp_reach_udp_workers(front_and_workers: Any,
                                                tmp_path: Path) -> None:
    front, chooser, _ = front_and_workers
    await run_uac(front, tmp_path, "uac_tcp", transport="t1")
    assert sorted(chooser.chosen.values()) == [CALLS // 2, CALLS // 2]
    assert front.stats()["tcp_accepted"] >= 1
    assert_affinity(tmp_path, CALLS)


async def garbage_flood(target: tuple[str, int], stop: asyncio.Event) -> int:
    """Random bytes, broken SIP and hostile-but-parseable requests, UDP and TCP."""
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                       local_addr=("127.0.0.1", 0))
    hostile = [
        b"INVITE sip:x SIP/2.0\r\n\r\n",
        (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-ipfdead\r\n"
         b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"),
        (b"BYE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKq\r\n"
         b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: ghost\r\n"
         b"CSeq: 1 BYE\r\nRoute: <sip:10.255.255.1;lr>\r\n\r\n"),
        b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
        b"\xff" * 1400,
    ]
    sent = 0
    try:
        while not stop.is_set() and sent < 20_000:
            for _ in range(20):
                if rng.random() < 0.5:
                    data = rng.randbytes(rng.randint(1, 1200))
                else:
                    data = rng.choice(hostile)
                transport.sendto(data, target)
                sent += 1
            try:  # a TCP peer that sends junk (the front must drop it, not die)
                _, w = await asyncio.open_connection(*target)
                w.write(rng.randbytes(300) + b"\r\n\r\n" + b"Content-Length: x\r\n\r\n")
                w.close()
            except OSError:
                pass
            await asyncio.sleep(0.005)
    finally:
        transport.close()
    return sent


async def test_calls_succeed_during_a_garbage_flood(front_and_workers: Any,
                                                    tmp_path: Path) -> None:
    front, chooser, _ = front_and_workers
    stop = asyncio.Event()
    flood = asyncio.create_task(garbage_flood(front.address, stop))
    try:
        await run_uac(front, tmp_path, "uac_flood")
    finally:
        stop.set()
        sent = await asyncio.wait_for(flood, 10)
    stats = front.stats()
    assert sent > 100 and stats["dropped_malformed"] > 50
    assert stats.get("dropped_internal_error", 0) == 0
    assert chooser.chosen and sum(chooser.chosen.values()) == CALLS

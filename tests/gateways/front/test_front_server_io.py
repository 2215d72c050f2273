"""SipFront's asyncio layer on loopback with Python peers: UDP, TCP, limits, garbage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateways.sip.front.message import parse_message
from gateways.sip.front.server import SipFront
from tests.gateways.front.front_harness import CountingChooser, request, response_to

WAIT = 5.0


class UdpPeer(asyncio.DatagramProtocol):
    """A UDP socket on 127.0.0.1 with a queue of what it received."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((data, addr))

    @property
    def addr(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def send(self, data: bytes, dest: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, dest)

    async def recv(self) -> bytes:
        data, _ = await asyncio.wait_for(self.queue.get(), WAIT)
        return data


async def udp_peer() -> UdpPeer:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(UdpPeer, local_addr=("127.0.0.1", 0))
    return proto


async def read_message(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    length = int(parse_message(head, stream=True).get("content-length") or 0)
    body = await asyncio.wait_for(reader.readexactly(length), WAIT) if length else b""
    return head + body


@pytest.fixture
async def setup() -> Any:
    workers = [await udp_peer(), await udp_peer()]
    chooser = CountingChooser([w.addr for w in workers], capacity=1)
    front = SipFront("127.0.0.1", 0, chooser, max_tcp_connections=3, tcp_idle_timeout=1.0,
                     retry_after=9)
    await front.start()
    try:
        yield front, workers, chooser
    finally:
        await front.stop()
        for w in workers:
            assert w.transport is not None
            w.transport.close()


async def test_udp_call_flow_through_the_front(setup: Any) -> None:
    front, workers, chooser = setup
    caller = await udp_peer()
    me = caller.addr
    caller.send(request("INVITE", via_port=me[1], call_id="u1"), front.address)
    assert parse_message(await caller.recv()).status == 100
    worker = workers[0]
    invite = await worker.recv()
    assert parse_message(invite).method == "INVITE"
    worker.send(response_to(invite, 200), front.address)
    assert parse_message(await caller.recv()).status == 200
    caller.send(request("ACK", via_port=me[1], call_id="u1", to_tag="worker-tag",
                        branch="z9hG4bKack"), front.address)
    assert parse_message(await worker.recv()).method == "ACK"
    caller.send(request("BYE", via_port=me[1], call_id="u1", cseq=2, to_tag="worker-tag",
                        branch="z9hG4bKbye"), front.address)
    bye = await worker.recv()
    worker.send(response_to(bye, 200), front.address)
    assert parse_message(await caller.recv()).status == 200
    assert chooser.released and front.stats()["forwarded_requests"] == 3
    assert caller.transport is not None
    caller.transport.close()


async def test_garbage_flood_does_not_stop_service_and_full_pool_gets_503(setup: Any) -> None:
    front, workers, _ = setup
    caller = await udp_peer()
    for i in range(300):
        caller.send(bytes((i * 7 + j) % 256 for j in range(i % 200)) or b"x", front.address)
        caller.send(b"INVITE sip:x SIP/2.0\r\nVia: junk\r\n\r\n", front.address)
        if i % 25 == 0:
            await asyncio.sleep(0.001)  # let the front read: this is not a socket-buffer test
    me = caller.addr
    for n in range(3):  # capacity: one dialog per worker, so the third gets 503
        caller.send(request("INVITE", via_port=me[1], call_id=f"g{n}",
                            branch=f"z9hG4bKg{n}"), front.address)
    statuses = sorted([parse_message(await caller.recv()).status for _ in range(3)])
    assert statuses == [100, 100, 503]
    got = {parse_message(await w.recv()).call_id for w in workers}
    assert got == {"g0", "g1"}
    stats = front.stats()
    assert stats["dropped_malformed"] >= 600 and stats["rejected_pool_full"] == 1
    assert caller.transport is not None
    caller.transport.close()


async def test_tcp_caller_ping_pong_and_replies_on_the_same_connection(setup: Any) -> None:
    front, workers, _ = setup
    reader, writer = await asyncio.open_connection(*front.address)
    me = writer.get_extra_info("sockname")[:2]
    writer.write(b"\r\n\r\n")
    assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"\r\n"
    writer.write(request("INVITE", transport="TCP", via_port=me[1], call_id="t1",
                         body=b"v=0\r\n"))
    assert parse_message(await read_message(reader), stream=True).status == 100
    invite = await workers[0].recv()
    fwd = parse_message(invite)
    assert fwd.body == b"v=0\r\n"
    assert "transport=tcp" in (fwd.values("record-route")[1])
    workers[0].send(response_to(invite, 180, "Ringing"), front.address)
    assert parse_message(await read_message(reader), stream=True).status == 180
    writer.close()


async def test_tcp_framing_error_closes_only_that_connection(setup: Any) -> None:
    front, _, _ = setup
    r1, w1 = await asyncio.open_connection(*front.address)
    w1.write(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: lots\r\n\r\n")
    assert await asyncio.wait_for(r1.read(), WAIT) == b""  # closed by the front
    r2, w2 = await asyncio.open_connection(*front.address)
    w2.write(request("OPTIONS", transport="TCP", uri="sip:127.0.0.1"))
    assert parse_message(await read_message(r2), stream=True).status == 200
    w2.close()
    assert front.stats()["tcp_framing_errors"] == 1


async def test_tcp_connection_limit_and_idle_timeout(setup: Any) -> None:
    front, _, _ = setup
    conns = [await asyncio.open_connection(*front.address) for _ in range(3)]
    extra_reader, extra_writer = await asyncio.open_connection(*front.address)
    assert await asyncio.wait_for(extra_reader.read(), WAIT) == b""  # refused
    # the idle ones are closed by the front's idle timeout (bounded wait, no timing claims)
    for reader, _ in conns:
        assert await asyncio.wait_for(reader.read(), WAIT) == b""
    stats = front.stats()
    assert stats["tcp_refused"] == 1 and stats["tcp_idle_closed"] == 3
    assert stats["tcp_connections"] == 0
    for _, writer in conns:
        writer.close()
    extra_writer.close()

"""asyncio I/O around the sans-I/O :class:`~.dispatcher.Dispatcher`: UDP and TCP listeners.

``SipFront(host, port, chooser)`` binds UDP and TCP on the same port (``port=0``: a free
one, read back from ``front.port``). The worker side is always UDP from the same socket,
so workers see the front's public address as the source of every request.

This layer owns everything the core must not: sockets, timers (TCP idle timeout, the
affinity expiry tick), connection limits and back-pressure. A packet that makes anything
here fail is counted and dropped; the listeners keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections import Counter
from typing import Any, Self

from .affinity import Address
from .dispatcher import Chooser, Dispatcher, Send
from .framing import FramingError, KeepAlive, StreamFramer
from .message import DEFAULT_LIMITS, Limits

__all__ = ["SipFront"]

log = logging.getLogger(__name__)

_WRITE_BUFFER_LIMIT = 1 << 20  # a TCP peer that stops reading is cut off past 1 MiB
_UDP_RCVBUF = 4 << 20  # asked for; the kernel caps it at net.core.rmem_max


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, front: SipFront) -> None:
        self.front = front

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.front._on_message(data, (str(addr[0]), int(addr[1])), "udp")

    def error_received(self, exc: Exception) -> None:
        # e.g. ICMP port unreachable from a worker that died: count, keep serving
        self.front.io_counters["udp_errors"] += 1


class SipFront:
    """The built-in SIP front: a stateless dispatcher on UDP and TCP.

    ``advertise_host``: the address put in Via/Record-Route (defaults to ``host``; must be
    set when binding a wildcard address). Extra keyword arguments go to
    :class:`Dispatcher` (``retry_after``, ``idle_timeout``, ``setup_timeout``, ...).
    """

    def __init__(self, host: str, port: int, chooser: Chooser, *,
                 advertise_host: str | None = None, tcp: bool = True,
                 max_tcp_connections: int = 256, tcp_idle_timeout: float = 300.0,
                 expiry_interval: float = 1.0, limits: Limits = DEFAULT_LIMITS,
                 **dispatcher_options: Any) -> None:
        if advertise_host is None and host in ("0.0.0.0", "::", ""):
            raise ValueError("binding a wildcard address needs advertise_host")
        self.host = host
        self.port = port
        self.chooser = chooser
        self.advertise_host = advertise_host or host
        self.tcp = tcp
        self.max_tcp_connections = max_tcp_connections
        self.tcp_idle_timeout = tcp_idle_timeout
        self.expiry_interval = expiry_interval
        self.limits = limits
        self.dispatcher_options = dispatcher_options
        self.dispatcher: Dispatcher | None = None
        self.io_counters: Counter[str] = Counter()
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._conns: dict[Address, asyncio.StreamWriter] = {}
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None

    @property
    def address(self) -> Address:
        return self.advertise_host, self.port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _attempt in range(20 if self.port == 0 else 1):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self.port))
            port = int(udp.get_extra_info("sockname")[1])
            if not self.tcp:
                break
            try:
                server = await asyncio.start_server(self._on_connection, self.host, port,
                                                    reuse_address=True)
            except OSError:
                udp.close()
                if self.port != 0:
                    raise
                continue  # the TCP twin of a free UDP port was taken: try another
            self._server = server
            break
        else:
            raise OSError("no port free for both UDP and TCP")
        self._udp = udp
        self.port = port
        sock = udp.get_extra_info("socket")
        if sock is not None:  # bursts (or floods) should not overflow the default buffer
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_RCVBUF)
        self.dispatcher = Dispatcher(self.advertise_host, port, self.chooser,
                                     limits=self.limits, secret=os.urandom(16),
                                     aliases=(self.host,), **self.dispatcher_options)
        self._ticker = loop.create_task(self._tick())
        log.info("SIP front on %s:%d (udp%s)", self.host, port, "+tcp" if self.tcp else "")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is not None:
            self._server.close()
        for writer in list(self._conns.values()):
            writer.close()
        for task in list(self._conn_tasks):
            task.cancel()
        if self._conn_tasks:
            await asyncio.wait(self._conn_tasks, timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def stats(self) -> dict[str, Any]:
        core = self.dispatcher.stats() if self.dispatcher is not None else {}
        return {**core, **self.io_counters, "tcp_connections": len(self._conns),
                "address": f"{self.advertise_host}:{self.port}"}

    # -- inbound ---------------------------------------------------------------------------
    def _on_message(self, data: bytes, source: Address, transport: str) -> None:
        if self.dispatcher is None:
            return
        try:
            sends = self.dispatcher.handle(data, source, asyncio.get_running_loop().time(),
                                           transport)
        except Exception:  # the core promises not to raise; never trust a promise here
            self.io_counters["core_errors"] += 1
            log.exception("dispatcher raised")
            return
        for send in sends:
            self._send(send)

    def _send(self, send: Send) -> None:
        try:
            if send.transport == "udp":
                if self._udp is None or not _is_ip(send.dest[0]):
                    self.io_counters["dropped_unroutable"] += 1
                    return
                self._udp.sendto(send.data, send.dest)
                return
            writer = self._conns.get(send.dest)
            if writer is None or writer.is_closing():
                self.io_counters["dropped_no_connection"] += 1
                return
            if writer.transport.get_write_buffer_size() > _WRITE_BUFFER_LIMIT:
                self.io_counters["closed_slow_reader"] += 1
                writer.close()
                return
            writer.write(send.data)
        except (OSError, RuntimeError, ValueError):
            self.io_counters["send_errors"] += 1

    async def _on_connection(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer_info = writer.get_extra_info("peername")
        if (len(self._conns) >= self.max_tcp_connections or task is None
                or not peer_info):
            self.io_counters["tcp_refused"] += 1
            writer.close()
            return
        peer = (str(peer_info[0]), int(peer_info[1]))
        self._conn_tasks.add(task)
        self._conns[peer] = writer
        self.io_counters["tcp_accepted"] += 1
        framer = StreamFramer(self.limits)
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), self.tcp_idle_timeout)
                if not data:
                    break
                for item in framer.feed(data):
                    if isinstance(item, KeepAlive):
                        writer.write(b"\r\n")
                    else:
                        self._on_message(item.data, peer, "tcp")
        except TimeoutError:
            self.io_counters["tcp_idle_closed"] += 1
        except FramingError:
            self.io_counters["tcp_framing_errors"] += 1
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            if self._conns.get(peer) is writer:
                del self._conns[peer]
            self._conn_tasks.discard(task)
            writer.close()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.expiry_interval)
            if self.dispatcher is not None:
                try:
                    self.dispatcher.expire(loop.time())
                except Exception:
                    log.exception("affinity expiry failed")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``host`` right now (helper for callers/tests)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError("no free UDP+TCP port")

"""Test tools for the bus: a subscriber that collects, a gate in front of a broker, and the
embedded broker as a killable child process.

Why a gate: "broker comes back, queued events are delivered" can only be checked if the
checking subscriber is subscribed *before* the bus reconnects; otherwise a fast reconnect
would deliver into the void and the test would flake. :class:`GatedProxy` sits between
the bus and the real broker. With the gate shut its port refuses connections, exactly as
a dead broker does; the test opens it once the subscriber is ready.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import aiomqtt

from acd.bus import parse_url
from tests.support.mosquitto import START_TIMEOUT_S, free_port, mqtt_ping

REPO = Path(__file__).resolve().parents[3]


def unique_prefix() -> str:
    """A topic prefix no other test (or test run) shares on a common broker."""
    return f"ipcc-test/{uuid.uuid4().hex[:12]}"


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Poll ``predicate`` on the event loop until true; AssertionError after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


class Collector:
    """An aiomqtt subscriber that records every message under a topic filter."""

    def __init__(self, url: str, topic_filter: str, qos: int = 1) -> None:
        self.address = parse_url(url)
        self.topic_filter = topic_filter
        self.qos = qos
        self.messages: list[aiomqtt.Message] = []
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._client = aiomqtt.Client(self.address.host, self.address.port,
                                      identifier=f"collector-{uuid.uuid4().hex[:8]}",
                                      timeout=5)
        await self._client.__aenter__()
        await self._client.subscribe(self.topic_filter, qos=self.qos)
        self._task = asyncio.ensure_future(self._collect(self._client))
        return self

    async def _collect(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                self.messages.append(message)
        except aiomqtt.MqttError:
            pass  # broker went away; the test decides whether that matters

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            try:
                await asyncio.wait_for(self._client.__aexit__(None, None, None), 5)
            except (TimeoutError, aiomqtt.MqttError, OSError):
                pass

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(bytes(m.payload)) for m in self.messages]  # type: ignore[arg-type]

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        await wait_until(lambda: len(self.messages) >= n, timeout,
                         f"{n} messages on {self.topic_filter} (have {len(self.messages)})")
        return self.payloads()


class GatedProxy:
    """A TCP forwarder to ``upstream`` whose listening port can be shut and reopened.

    Shut: the port refuses connections and every forwarded connection is aborted. When
    either side of a forwarded connection ends, the other side is aborted too, so the
    bus sees a broker crash as a reset, as it would without the proxy.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                      reuse_address=True)

    async def shut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._pipes):
            t.cancel()
        if self._pipes:
            await asyncio.wait(set(self._pipes), timeout=2)
        if server is not None:
            await asyncio.wait_for(server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), 2)
            self._writers.add(up_writer)
            a = asyncio.ensure_future(self._pump(reader, up_writer))
            b = asyncio.ensure_future(self._pump(up_reader, writer))
            try:
                await asyncio.wait({a, b}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                a.cancel()
                b.cancel()
                await asyncio.gather(a, b, return_exceptions=True)
        except (TimeoutError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()
            self._pipes.discard(task)

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except OSError:
            pass


class EmbeddedBrokerProcess:
    """``python -m acd.broker --port PORT`` as a child process, killable like mosquitto."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "acd.broker", "--port", str(self.port)], cwd=REPO, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if mqtt_ping(self.host, self.port, timeout=0.5):
                return
            time.sleep(0.02)
        self.kill()
        self._log.seek(0)
        raise RuntimeError("embedded broker process did not start:\n"
                           + self._log.read().decode("utf-8", "replace")[-4000:])

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
            self.proc = None

    def close(self) -> None:
        self.kill()
        self._log.close()

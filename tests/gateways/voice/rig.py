"""Helpers for voice tests: a real Server + VoiceGateway (real pjsua2 workers) and peers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acd import events as ev
from acd.server import Server
from config.schema import Settings
from gateways.voice import VoiceGateway
from tests.support.sip_peer import SipPeer
from tests.support.tone_analysis import read_wav


def free_port() -> int:
    """A port free for both UDP and TCP (the front and the workers bind both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def voice_settings(sip_port: int, **sip: Any) -> Settings:
    """A small tenant: queues sales (ring 3 s) and support; agents a1..a3; DNIS 2000/2100."""
    tenant = {
        "id": "t1", "name": "Test", "language": sip.pop("language", "en"),
        "skills": [{"id": "sales"}, {"id": "support"}],
        "queues": [
            {"id": "sales", "skills": {"sales": 1}, "ring_timeout_s": 3,
             "wrapup_s": {"voice": 1}},
            {"id": "support", "skills": {"support": 1}, "ring_timeout_s": 3,
             "wrapup_s": {"voice": 1}},
        ],
        "agents": [
            {"id": "a1", "password": "pw", "skills": {"sales": 5}},
            {"id": "a2", "password": "pw", "skills": {"support": 5}},
            {"id": "a3", "password": "pw", "skills": {"sales": 3, "support": 3}},
        ],
        "users": [{"username": "sup", "password": "pw", "role": "supervisor"}],
        "dnis": {"2000": {"queue": "sales"}, "2100": {"queue": "support"},
                 "1000": {"ivr": "demo-main", "queue": "support", "greeting": "welcome"}},
    }
    sip_cfg = {"host": "127.0.0.1", "port": sip_port, "workers": 1, "max_workers": 2,
               "announce_every_s": 0, "stats_interval_s": 1.0} | sip
    return Settings.model_validate({"server": {"sip": sip_cfg, "bus": {"url": "none"}},
                                    "tenants": [tenant]})


class VoiceRig:
    def __init__(self, server: Server, gw: VoiceGateway, port: int) -> None:
        self.server = server
        self.gw = gw
        self.port = port

    def uri(self, number: str) -> str:
        return f"sip:{number}@127.0.0.1:{self.port}"

    def login(self, agent: str, device: str, ready: bool = True) -> None:
        self.server.handle(ev.AgentLoggedIn(agent, device))
        if ready:
            self.server.handle(ev.AgentWentReady(agent))

    def agent(self, agent: str) -> dict[str, Any]:
        return self.server.engine.agent_view(agent)

    async def cdrs(self) -> list[dict[str, Any]]:
        return [r["payload"] for r in await self.server.store.list_cdrs("t1")]

    async def cdr(self, timeout: float = 10.0) -> dict[str, Any]:
        """The one CDR the test expects (after the call ended)."""
        await until(lambda: not self.gw.calls, timeout, "calls to end")
        rows = await self.cdrs()
        assert len(rows) == 1, rows
        return rows[0]


async def until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
                ) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)


def live_call(gw: VoiceGateway) -> Any:
    return next(iter(gw.calls.values())).call if gw.calls else None


def tail_share(path: Path, freq: float, seconds: float, width: float = 15.0) -> tuple[float, float]:
    """(share of energy near ``freq``, RMS) over the last ``seconds`` of a WAV."""
    samples, rate = read_wav(path)
    samples = samples[-int(seconds * rate):]
    if len(samples) < rate // 10:
        return 0.0, 0.0
    rms = float(np.sqrt(np.mean(samples ** 2)))
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    power[freqs < 50] = 0.0
    total = float(power.sum()) or 1.0
    return float(power[np.abs(freqs - freq) <= width].sum() / total), rms


@pytest.fixture
async def rig_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    made: list[Server] = []

    async def make(**sip: Any) -> VoiceRig:
        port = free_port()
        server = Server(voice_settings(port, **sip), tmp_path / f"data{len(made)}")
        gw = VoiceGateway()
        server.add_gateway(gw)
        await server.start()
        made.append(server)
        return VoiceRig(server, gw, port)

    try:
        yield make
    finally:
        for server in made:
            await server.stop()


@pytest.fixture
async def peers() -> AsyncIterator[list[SipPeer]]:
    started: list[SipPeer] = []
    try:
        yield started
    finally:
        for peer in started:
            try:
                await peer.stop(timeout=3.0)
            except Exception:  # noqa: BLE001 - the process must go whatever happened
                peer.kill()


async def peer(peers: list[SipPeer], **kw: Any) -> SipPeer:
    p = SipPeer(**kw)
    peers.append(p)
    await p.start()
    return p


async def api_client(server: Server, username: str, password: str = "pw") -> Any:
    """An httpx client on the ASGI app (no socket), logged in as ``username``."""
    import httpx

    from acd.api import create_app

    transport = httpx.ASGITransport(app=create_app(server))
    client = httpx.AsyncClient(transport=transport, base_url="http://ipcc.test/api/v1",
                               timeout=20)
    r = await client.post("/auth/token", json={"username": username, "password": password,
                                               "tenant": "t1"})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client

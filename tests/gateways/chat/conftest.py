"""A control process with the chat gateway on a free loopback port, an in-process API
client for agents, and an aiosmtpd relay on the same loop for transcripts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP
from websockets.asyncio.client import ClientConnection, connect

from acd.api import create_app
from acd.server import Server
from config.schema import ChatSettings, ChatSmtpSettings, ChatTopicDef
from gateways.chat import ChatGateway
from tests.acd.api.conftest import Api, demo_settings
from tests.agent_ui.conftest import browser  # noqa: F401 - the Chromium fixture

SHOP = "https://shop.example"


class Relay:
    """Collects what the SMTP relay receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.received = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.received.set()
        return "250 OK"


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Relay, int]]:
    r = Relay()
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(r, hostname="relay.test"), "127.0.0.1", 0)
    try:
        yield r, srv.sockets[0].getsockname()[1]
    finally:
        srv.close()
        await srv.wait_closed()


def chat_settings(smtp_port: int, **over: Any) -> Any:
    base = demo_settings()
    chat = ChatSettings(
        port=0, allowed_origins={"demo": [SHOP]},
        topics={"demo": [ChatTopicDef(id="billing", label="Billing", queue="support")]},
        canned={"demo": ["Hello, how can I help?", "One moment please."]},
        smtp=ChatSmtpSettings(host="127.0.0.1", port=smtp_port, sender="chat@demo.test"),
        max_message_chars=200, max_attachment_bytes=1000, **over)
    return base.model_copy(update={"server": base.server.model_copy(update={"chat": chat})})


@pytest.fixture
def chat_over() -> dict[str, Any]:
    return {}


@pytest.fixture
async def chat_server(tmp_path: Path, relay: tuple[Relay, int],
                      chat_over: dict[str, Any]) -> AsyncIterator[Server]:
    srv = Server(chat_settings(relay[1], **chat_over), tmp_path / "data")
    srv.add_gateway(ChatGateway())
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def gw(chat_server: Server) -> ChatGateway:
    return next(g for g in chat_server.gateways if isinstance(g, ChatGateway))


@pytest.fixture
async def api(chat_server: Server) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=create_app(chat_server))
    async with httpx.AsyncClient(transport=transport, base_url="http://ipcc.test") as client:
        yield Api(client)


class Visitor:
    """A visitor's WebSocket with helpers to wait for a frame of a given type."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def expect(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                f = json.loads(await self.ws.recv())
                self.seen.append(f)
                if f.get("type") == kind and all(f.get(k) == v for k, v in match.items()):
                    return f  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.ws.close()


async def open_visitor(gw: ChatGateway, tenant: str = "demo", origin: str | None = SHOP,
                       **hello: Any) -> tuple[Visitor, dict[str, Any]]:
    kw: dict[str, Any] = {"open_timeout": 5}
    if origin:
        kw["origin"] = origin
    ws = await connect(f"ws://127.0.0.1:{gw.port}/{tenant}", **kw)
    v = Visitor(ws)
    await v.send(type="hello", **hello)
    welcome = await v.expect("welcome")
    return v, welcome


async def ready_agent(api: Api, agent: str = "agent1") -> None:
    r = await api.as_(agent, "POST", f"/agents/{agent}/login", json={"device": "webrtc"})
    assert r.status_code == 200, r.text
    r = await api.as_(agent, "PUT", f"/agents/{agent}/state", json={"state": "ready"})
    assert r.status_code == 200, r.text

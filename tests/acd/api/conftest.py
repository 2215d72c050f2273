"""A running control process (engine + SQLite store, no bus) behind an in-process client."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest

from acd.api import create_app
from acd.server import Server
from config.loader import load_settings

ROOT = Path(__file__).resolve().parents[3]


def demo_settings(bus_url: str = "none") -> Any:
    s = load_settings(ROOT / "config" / "demo.yaml")
    server = s.server.model_copy(update={
        "bus": s.server.bus.model_copy(update={"url": bus_url}),
        "store": s.server.store.model_copy(update={"url": None}),
    })
    return s.model_copy(update={"server": server})


class Api:
    """A thin client that logs in and remembers tokens per user."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def login(self, username: str, password: str, tenant: str | None = None) -> str:
        body = {"username": username, "password": password}
        if tenant:
            body["tenant"] = tenant
        r = await self.client.post("/api/v1/auth/token", json=body)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        self.tokens[f"{username}@{tenant or 'demo'}"] = token
        return str(token)

    async def as_(self, user: str, method: str, path: str, **kw: Any) -> httpx.Response:
        token = self.tokens.get(user if "@" in user else f"{user}@demo")
        if token is None:
            name, _, tenant = user.partition("@")
            password = {"admin": "admin", "supervisor": "supervisor"}.get(name, "agent")
            token = await self.login(name, password, tenant or None)
        headers = {"Authorization": f"Bearer {token}"}
        return await self.client.request(method, "/api/v1" + path, headers=headers, **kw)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(demo_settings(), tmp_path / "data")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=create_app(server))
    async with httpx.AsyncClient(transport=transport, base_url="http://ipcc.test") as client:
        yield Api(client)

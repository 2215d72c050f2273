"""A control process with its web UI served by uvicorn on a free loopback port, in the
test's own event loop (so tests can reach into the server while a browser drives it),
and Debian's Chromium driven by Playwright's async API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd.api import create_app
from acd.server import Server
from tests.acd.api.conftest import demo_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class LiveUi:
    server: Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def token(self, username: str, password: str) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as c:
            r = await c.post("/api/v1/auth/token",
                             json={"username": username, "password": password})
            r.raise_for_status()
            return str(r.json()["access_token"])

    async def call(self, user: str, password: str, method: str, path: str,
                   **kw: Any) -> httpx.Response:
        token = await self.token(user, password)
        async with httpx.AsyncClient(base_url=self.url + "/api/v1", timeout=10,
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            return await c.request(method, path, **kw)


@pytest.fixture
async def live_ui(tmp_path: Path) -> AsyncIterator[LiveUi]:
    import uvicorn

    server = Server(demo_settings(), tmp_path / "data")
    await server.start()
    config = uvicorn.Config(create_app(server), host="127.0.0.1", port=0, log_level="warning",
                            ws="websockets-sansio", lifespan="off")
    web = uvicorn.Server(config)
    web.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(web.serve())
    try:
        for _ in range(200):
            if web.started or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        port = web.servers[0].sockets[0].getsockname()[1]
        yield LiveUi(server, port)
    finally:
        web.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:  # a stuck connection: stop waiting for a clean shutdown
            task.cancel()
        await server.stop()


def _browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    why = _browser_missing()
    if why:
        pytest.skip(why)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    timeout=30_000)
        try:
            yield b
        finally:
            await b.close()

"""The visitor widget and the agent desktop in Debian Chromium (Playwright): a visitor on
a customer's page chats with an agent both ways, reloads and gets the conversation back;
hostile text stays text."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from acd.api import create_app
from acd.server import Server
from config.schema import ChatSettings
from gateways.chat import ChatGateway
from tests.acd.api.conftest import demo_settings
from tests.agent_ui.conftest import LiveUi
from tests.agent_ui.test_ui_browser_flows import sign_in, start_shift

pytestmark = pytest.mark.timeout(90)
T = 10_000
SHOP_HOST = "127.0.0.2"  # another origin on loopback (a public one would be blocked by
# the browser's private network rules from loading a loopback script)
HOSTILE = '<img src=x onerror="window.__pwned=1">hi <b>there</b>'


async def _shop_server() -> tuple[Any, str, list[str]]:
    """A customer's web site: one page embedding the widget (body filled in later)."""
    page: list[str] = [""]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            body = page[0].encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        finally:
            writer.close()

    srv = await asyncio.start_server(serve, SHOP_HOST, 0)
    return srv, f"http://{SHOP_HOST}:{srv.sockets[0].getsockname()[1]}", page


@pytest.fixture
async def live_chat(tmp_path: Path) -> AsyncIterator[tuple[LiveUi, ChatGateway, str]]:
    import uvicorn

    shop_srv, shop_url, shop_page_body = await _shop_server()
    base = demo_settings()
    settings = base.model_copy(update={"server": base.server.model_copy(update={
        "chat": ChatSettings(port=0, allowed_origins={"demo": [shop_url]})})})
    server = Server(settings, tmp_path / "data")
    gw = ChatGateway()
    server.add_gateway(gw)
    await server.start()
    web = uvicorn.Server(uvicorn.Config(create_app(server), host="127.0.0.1", port=0,
                                       log_level="warning", ws="websockets-sansio",
                                       lifespan="off"))
    web.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(web.serve())
    try:
        for _ in range(200):
            if web.started or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        shop_page_body[0] = (
            f'<!doctype html><title>Shop</title><h1>Shop</h1>'
            f'<script src="http://127.0.0.1:{gw.port}/widget.js" data-tenant="demo" '
            f'data-entry="sales"></script>')
        yield LiveUi(server, web.servers[0].sockets[0].getsockname()[1]), gw, shop_url
    finally:
        shop_srv.close()
        web.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()
        await server.stop()


async def test_widget_and_agent_desktop_chat_both_ways(live_chat: Any, browser: Any) -> None:
    ui, gw, shop_url = live_chat
    errors: list[str] = []
    agent_ctx = await browser.new_context()
    agent = await agent_ctx.new_page()
    agent.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(agent, ui, "agent1", "agent")
    await agent.wait_for_url("**/ui/agent", timeout=T)
    await start_shift(agent, "taipei", "A-1", "sip:1001@pbx.test")
    await agent.click("#btn-ready")
    await agent.wait_for_selector("#state-label[data-state=ready]", timeout=T)

    shop_ctx = await browser.new_context()
    shop = await shop_ctx.new_page()
    shop.on("pageerror", lambda e: errors.append(str(e)))
    await shop.goto(shop_url + "/")
    await shop.click("[data-testid=chat-open]")
    await shop.fill("input[name=name]", "Mei")
    await shop.click("[data-testid=chat-start]")

    offer = agent.locator(".offer")
    await offer.wait_for(timeout=T)
    await offer.locator(".accept").click()
    log = agent.locator(".pane[data-state=connected] [data-testid=agent-chat-log]")
    await log.wait_for(timeout=T)
    await shop.wait_for_selector("[data-testid=chat-status]:has-text('joined')", timeout=T)

    await shop.fill("[data-testid=chat-input]", HOSTILE)
    await shop.click("[data-testid=chat-send]")
    await log.locator("li.visitor").filter(has_text="hi <b>there</b>").wait_for(timeout=T)
    await agent.fill("[data-testid=agent-chat-input]", "Hello Mei, how can I help?")
    await agent.click("[data-testid=agent-chat-send]")
    await shop.locator("[data-testid=chat-log] li.agent").filter(
        has_text="how can I help").wait_for(timeout=T)
    # the visitor read it: the agent sees the receipt
    await log.locator("li.agent .receipt:has-text('Read')").wait_for(timeout=T)

    # reload: the same conversation comes back with both messages
    conv_ids = [c.id for c in gw.conversations("demo")]
    await shop.reload()
    items = shop.locator("[data-testid=chat-log] li")
    await items.nth(1).wait_for(timeout=T)
    texts = await items.all_text_contents()
    assert any(HOSTILE in x for x in texts) and any("how can I help" in x for x in texts)
    assert [c.id for c in gw.conversations("demo")] == conv_ids
    assert len(gw.conversations("demo")[0].messages) == 2  # nothing stored twice

    for p in (shop, agent):
        assert await p.locator("img").count() == 0
        assert await p.evaluate("window.__pwned === undefined")
    assert not errors, errors
    await shop_ctx.close()
    await agent_ctx.close()

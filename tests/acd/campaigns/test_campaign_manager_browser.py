"""The campaign manager in a real browser (Debian Chromium through Playwright): create a
campaign, import a list and read the report, start it, watch the live figures move and
the results chart appear. Skipped when Chromium or Playwright is missing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from acd import events as ev
from acd.api import create_app
from acd.campaigns.runner import CampaignRunner
from acd.dialer import events as dev
from acd.dialer.model import AnswerKind
from acd.server import Server
from tests.acd.api.conftest import demo_settings

from .conftest import FakeDialer

expect: Any = None
try:
    from playwright.async_api import expect
except ImportError:  # the browser fixture skips the test
    pass

pytestmark = pytest.mark.timeout(90)
T = 10_000

CSV = b"Name,Phone,Seg\nAnn,+1 415 555 2671,gold\nBob,not a number,\nCid,+1 212 555 0142,\n"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Server, CampaignRunner, FakeDialer, str]]:
    import uvicorn

    dialer = FakeDialer()
    runner = CampaignRunner(dialer=dialer, tick_s=0.2)
    server = Server(demo_settings(), tmp_path / "data")
    server.add_gateway(runner)
    await server.start()
    web = uvicorn.Server(uvicorn.Config(create_app(server), host="127.0.0.1", port=0,
                                        log_level="warning", lifespan="off"))
    web.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(web.serve())
    try:
        for _ in range(200):
            if web.started or task.done():
                break
            await asyncio.sleep(0.02)
        port = web.servers[0].sockets[0].getsockname()[1]
        yield server, runner, dialer, f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()
        await server.stop()


async def test_manager_creates_imports_starts_and_sees_results(live, browser: Any) -> None:
    server, runner, dialer, url = live
    ctx = await browser.new_context()
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url + "/ui/login")
    await page.fill("#username", "supervisor")
    await page.fill("#password", "supervisor")
    await page.click("#login-btn")
    await page.wait_for_url("**/ui/supervisor", timeout=T)
    await page.goto(url + "/ui/campaigns")

    await page.click("#cmp-new")
    form = "#cmp-form"
    await page.fill(f"{form} [name=id]", "spring")
    await page.fill(f"{form} [name=name]", "Spring offer")
    await page.fill(f"{form} [name=queue]", "sales")
    await page.fill(f"{form} [name=caller_id]", "+14155550100")
    await page.fill(f"{form} [name=company]", "Acme")
    await page.fill(f"{form} [name=callback_number]", "+1 415 555 0100")
    await page.fill(f"{form} [name=win_start]", "00:00")   # real clock: any hour will do
    await page.fill(f"{form} [name=win_end]", "23:59")
    await page.fill(f"{form} [name=survey]",
                    '[{"id": "interested", "text": "Interested?", "type": "yes_no"}]')
    await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("#cmp-detail:not([hidden])", timeout=T)
    assert await page.text_content("#cmp-state") == "Draft"

    await page.set_input_files("#import-form [name=file]", files=[
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV}])
    await page.fill("#import-form [name=phone]", "Phone")
    await page.fill("#import-form [name=first_name]", "Name")
    await page.fill("#import-form [name=segment]", "Seg")
    await page.click("#import-form button[type=submit]")
    await page.wait_for_selector("#import-summary.error", timeout=T)   # refused: one bad row
    assert "3" in (await page.text_content("#import-report tbody tr td"))
    await page.select_option("#import-form [name=on_error]", "skip")
    await page.click("#import-form button[type=submit]")
    await page.wait_for_selector("#import-summary.ok", timeout=T)

    await page.click("#cmp-actions [data-action=start]")
    await expect(page.locator("#cmp-state")).to_have_text("Running", timeout=T)
    server.handle(ev.AgentLoggedIn("agent1", "webrtc", "taipei"))
    server.handle(ev.AgentWentReady("agent1"))
    assert len(dialer.dials) == 1, "no dial (23:59-00:00 local time is outside the window)"
    d = dialer.dials[0][0]
    runner.call_event(d.call_id, dev.CallAnswered(d.call_id, AnswerKind.HUMAN))
    runner.call_event(d.call_id, dev.CallEnded(d.call_id, disposition="sale"))
    await runner.repo.save_result("demo", "spring", d.lead_id, disposition="sale",
                                  answers={"interested": "yes"}, agent_id="agent1",
                                  notes=None, now=server.clock())
    await runner.flush()
    await expect(page.locator("#cmp-progress [data-f=connected] dd")).to_have_text("1",
                                                                                timeout=T)
    await page.wait_for_selector("#cmp-chart svg rect.bar", timeout=T)
    labels = await page.locator("#cmp-chart svg text.label").all_text_contents()
    assert "sale" in labels and "yes" in labels

    await page.click("#cmp-actions [data-action=pause]")
    await expect(page.locator("#cmp-state")).to_have_text("Paused", timeout=T)
    assert await page.is_disabled("#cmp-actions [data-action=pause]")
    assert errors == []
    await ctx.close()

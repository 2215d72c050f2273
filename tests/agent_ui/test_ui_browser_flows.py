"""The web UI in a real browser (Debian Chromium through Playwright): an agent starts a
shift with a seat, goes ready, gets an offer with a hostile customer name, accepts it and
wraps up; a supervisor in a second browser context sees the change and forces a state;
the language switches to Traditional Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LiveUi

expect: Any = None
try:
    from playwright.async_api import expect
except ImportError:  # the browser fixture skips these tests
    pass

pytestmark = pytest.mark.timeout(60)
T = 10_000  # ms: the longest any single UI step may take

XSS_NAME = '<img src=x onerror="window.__pwned=1">Mei<script>window.__pwned=2</script>'


async def sign_in(page: Any, ui: LiveUi, username: str, password: str) -> None:
    await page.goto(ui.url + "/ui/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-btn")


async def start_shift(page: Any, site: str, seat: str, sip: str) -> None:
    await page.wait_for_selector("#shift:not([hidden])", timeout=T)
    await page.select_option("#shift-site", site)
    await page.fill("#shift-seat", seat)
    await page.check("input[name=device][value=sip]")
    await page.fill("#shift-sip", sip)
    await page.click("#shift-start")
    await page.wait_for_selector("#desk:not([hidden])", timeout=T)


async def test_shift_offer_accept_and_wrap_up(live_ui: LiveUi, browser: Any) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    await sign_in(page, live_ui, "agent1", "agent")
    await page.wait_for_url("**/ui/agent", timeout=T)
    await start_shift(page, "kaohsiung", "B-7", "sip:1001@pbx.test")
    view = live_ui.server.engine.agent_view("agent1")
    assert (view["presence"], view["session_site"], view["seat"], view["device"]) == \
        ("not_ready", "kaohsiung", "B-7", "sip:1001@pbx.test")
    await page.wait_for_selector("#state-label[data-state=not_ready]", timeout=T)

    await page.click("#btn-ready")
    await page.wait_for_selector("#state-label[data-state=ready]", timeout=T)
    assert live_ui.server.engine.agent_view("agent1")["presence"] == "ready"

    r = await live_ui.call("admin", "admin", "POST", "/contacts", json={
        "channel": "chat", "queue": "sales", "value_tier": "gold", "preferred_agent": "agent1",
        "customer": {"name": XSS_NAME, "phone": "+886212345678"},
        "data": {"segment": "SMB", "account": "A-77"}})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]

    offer = page.locator(f".offer[data-contact='{cid}']")
    await offer.wait_for(timeout=T)
    # the hostile name is shown as text: no element was made from it, no script ran
    assert await offer.locator(".customer-name").text_content() == XSS_NAME
    await page.wait_for_selector(f".offer[data-contact='{cid}'] .pop dl", timeout=T)
    assert await page.locator(".offer img, .offer script").count() == 0
    assert "A-77" in (await offer.locator(".pop").text_content() or "")
    assert await page.evaluate("window.__pwned === undefined")

    await offer.locator(".accept").click()
    pane = page.locator(f".pane[data-contact='{cid}']")
    await page.wait_for_selector(f".pane[data-contact='{cid}'][data-state=connected]",
                                 timeout=T)
    assert live_ui.server.engine.contact_view(cid)["state"] == "connected"

    await pane.locator(".complete").click()
    await page.wait_for_selector(f".pane[data-contact='{cid}'][data-state=wrap_up]",
                                 timeout=T)
    await pane.locator(".disposition").select_option("sold")
    await pane.locator(".notes").fill("Upgraded to the <b>gold</b> plan")
    await pane.locator(".save").click()
    await pane.wait_for(state="detached", timeout=T)

    await live_ui.server.drain_writes()
    row = await live_ui.server.store.get_contact(cid)
    assert row["data"]["disposition"] == "sold"
    assert row["data"]["notes"] == "Upgraded to the <b>gold</b> plan"
    assert live_ui.server.engine.contact_view(cid)["outcome"] == "answered"
    assert not dialogs and not errors and await page.evaluate("window.__pwned === undefined")
    await ctx.close()


async def test_supervisor_sees_agent_change_and_forces_not_ready(live_ui: LiveUi,
                                                                browser: Any) -> None:
    sup_ctx = await browser.new_context()
    sup = await sup_ctx.new_page()
    await sign_in(sup, live_ui, "supervisor", "supervisor")
    await sup.wait_for_url("**/ui/supervisor", timeout=T)
    row = sup.locator("#agent-grid tr[data-agent=agent2]")
    await row.wait_for(timeout=T)
    await sup.wait_for_selector("#conn.up", timeout=T)
    assert await row.locator("[data-state]").get_attribute("data-state") == "logged_out"
    await sup.wait_for_selector(".qcard[data-queue=sales]", timeout=T)

    agent_ctx = await browser.new_context()
    agent = await agent_ctx.new_page()
    await sign_in(agent, live_ui, "agent2", "agent")
    await start_shift(agent, "taipei", "A-12", "sip:1002@pbx.test")
    await agent.click("#btn-ready")
    await agent.wait_for_selector("#state-label[data-state=ready]", timeout=T)

    # pushed over the WebSocket to the supervisor's page
    await sup.wait_for_selector("#agent-grid tr[data-agent=agent2] [data-state=ready]",
                                timeout=T)
    assert "A-12" in (await row.text_content() or "")
    await expect(sup.locator(".qcard[data-queue=sales] [data-s=ready] b")).to_have_text(
        "1", timeout=T)

    await row.locator("select").select_option("lunch")
    await row.locator(".force-nr").click()
    await sup.wait_for_selector("#agent-grid tr[data-agent=agent2] [data-state=not_ready]",
                                timeout=T)
    await agent.wait_for_selector("#state-label[data-state=not_ready]", timeout=T)
    assert live_ui.server.engine.agent_view("agent2")["reason"] == "lunch"
    assert "Lunch" in (await agent.locator("#state-reason").text_content() or "")
    await agent_ctx.close()
    await sup_ctx.close()


async def test_language_switch_to_traditional_chinese(live_ui: LiveUi, browser: Any) -> None:
    ctx = await browser.new_context(locale="en-US")
    page = await ctx.new_page()
    await page.goto(live_ui.url + "/ui/login")
    assert (await page.locator("h1").text_content()) == "Sign in to ipcc"
    await page.select_option("#lang-select", "zh_TW")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-TW", timeout=T)
    assert (await page.locator("h1").text_content()) == "登入 ipcc"
    await page.fill("#username", "agent3")
    await page.fill("#password", "agent")
    await page.click("#login-btn")
    await page.wait_for_selector("#shift:not([hidden])", timeout=T)
    assert (await page.locator("#shift h1").text_content()) == "開始您的班次"
    # strings set by the JavaScript come from the same catalogue
    await page.select_option("#shift-site", "taipei")
    await page.click("#shift-start")
    await page.wait_for_selector("#state-label[data-state=not_ready]", timeout=T)
    assert (await page.locator("#state-label").text_content()) == "未就緒"
    # and back
    await page.select_option("#lang-select", "en")
    await expect(page.locator("html")).to_have_attribute("lang", "en", timeout=T)
    await page.wait_for_selector("#state-label[data-state=not_ready]", timeout=T)
    assert (await page.locator("#state-label").text_content()) == "Not ready"
    await ctx.close()


async def test_denied_microphone_is_explained(live_ui: LiveUi, browser: Any) -> None:
    ctx = await browser.new_context()  # no permission granted: getUserMedia fails
    page = await ctx.new_page()
    await sign_in(page, live_ui, "agent4", "agent")
    await page.wait_for_selector("#shift:not([hidden])", timeout=T)
    await page.select_option("#shift-site", "taipei")
    await page.check("input[name=device][value=webrtc]")
    await page.click("#shift-start")
    await page.wait_for_selector("#mic-status:not([hidden])", timeout=T)
    text = await page.locator("#mic-status").text_content() or ""
    assert "microphone" in text.lower()
    # no voice service in this server: the call controls say so and stay disabled
    await page.wait_for_selector("#voice-status:not([hidden])", timeout=T)
    assert await page.locator("#dial-btn").is_disabled()
    await ctx.close()


async def test_admin_edits_a_queue_and_sees_the_ivr_tree(live_ui: LiveUi, browser: Any) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await sign_in(page, live_ui, "admin", "admin")
    await page.wait_for_url("**/ui/admin", timeout=T)
    await page.click("[data-tab=queues]")
    await page.click("#queues-table tr[data-id=sales] button")
    await page.fill("#queue-form [name=dispositions]", "sold, lost, <i>odd</i>")
    await page.fill("#queue-form [name=sl_target_pct]", "90")
    await page.click("#queue-form button[type=submit]")
    await page.wait_for_selector("#admin-msg.ok", timeout=T)
    q = (await live_ui.call("admin", "admin", "GET", "/queues/sales")).json()
    assert q["dispositions"] == ["sold", "lost", "<i>odd</i>"] and q["sl_target_pct"] == 90
    assert q["overflows"] == [{"after_s": 600.0, "action": "callback", "target": None}]
    assert await page.locator("#queues-table i").count() == 0
    await page.click("[data-tab=ivr]")
    img = page.locator("#ivr-list img")
    await img.wait_for(timeout=T)
    for _ in range(100):  # the diagram loaded (an <img> of a failed request stays 0 wide)
        if await img.evaluate("i => i.complete && i.naturalWidth > 0"):
            break
        await page.wait_for_timeout(50)
    assert await img.evaluate("i => i.naturalWidth") > 0
    await ctx.close()

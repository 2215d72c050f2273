"""The campaign manager page renders for supervisors (English and Traditional Chinese),
is refused to agents, and carries its strings and script without inline code."""

from __future__ import annotations

import json
import re

import httpx

from tests.agent_ui.test_ui_security import hidden, sign_in


async def _client(served):
    from acd.api import create_app

    transport = httpx.ASGITransport(app=create_app(served[0]))
    return httpx.AsyncClient(transport=transport, base_url="http://ipcc.test")


async def test_page_renders_for_supervisors(served) -> None:
    async with await _client(served) as c:
        assert (await c.get("/ui/campaigns")).status_code == 303    # log in first
        r = await sign_in(c, "supervisor", "supervisor")
        assert r.status_code == 303
        page = await c.get("/ui/campaigns")
        assert page.status_code == 200
        html = page.text
        assert '<script type="module" src="/ui/static/campaigns.js">' in html
        assert 'href="/ui/campaigns" class="active"' in html
        for needle in ('id="cmp-table"', 'id="import-form"', 'id="cmp-progress"',
                       'id="cmp-chart"', 'name="on_error"', 'data-action="pause"'):
            assert needle in html
        strings = json.loads(re.search(r'id="campaign-i18n">(.*?)</script>', html,
                                       re.DOTALL).group(1))
        assert strings["state.running"] == "Running"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert (await c.get("/ui/static/campaigns.js")).status_code == 200

        r = await c.post("/ui/lang", data={"lang": "zh_TW", "next": "/ui/campaigns",
                                           "csrf": hidden(html, "csrf")})
        assert r.status_code == 303
        zh = (await c.get("/ui/campaigns")).text
        assert "匯入名單" in zh and "即時進度" in zh
        strings = json.loads(re.search(r'id="campaign-i18n">(.*?)</script>', zh,
                                       re.DOTALL).group(1))
        assert strings["state.paused"] == "已暫停"


async def test_page_is_refused_to_agents(served) -> None:
    async with await _client(served) as c:
        await sign_in(c, "agent1", "agent")
        r = await c.get("/ui/campaigns")
        assert r.status_code == 403
        assert "/ui/campaigns" not in (await c.get("/ui/agent")).text   # no nav link

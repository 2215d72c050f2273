"""The web UI's session without a browser: cookie flags, CSRF refusal on every
state-changing route, the Content-Security-Policy, the WebSocket's Origin check, tenant
isolation, and the page catalogue."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from acd import events as ev
from acd.api import create_app
from acd.api.deps import SESSION_COOKIE
from acd.server import Server
from tests.acd.api.conftest import demo_settings

from .conftest import LiveUi

BASE = "http://ipcc.test"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(demo_settings(), tmp_path / "data")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(server))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


def csrf_meta(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert m
    return m.group(1)


async def sign_in(c: httpx.AsyncClient, username: str, password: str,
                  tenant: str = "") -> httpx.Response:
    page = await c.get("/ui/login")
    return await c.post("/ui/login", data={"username": username, "password": password,
                                           "tenant": tenant,
                                           "csrf": hidden(page.text, "csrf")})


async def test_login_sets_a_strict_httponly_session_cookie(client: httpx.AsyncClient) -> None:
    r = await sign_in(client, "agent1", "agent")
    assert r.status_code == 303 and r.headers["location"] == "/ui/agent"
    cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    flags = {f.strip().lower() for f in session.split(";")[1:]}
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on loopback; https pages get Secure


async def test_login_refused_without_the_form_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/ui/login", data={"username": "agent1", "password": "agent",
                                             "csrf": "forged"})
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
    r = await sign_in(client, "agent1", "wrong")
    assert r.status_code == 401 and "Unknown user or wrong password." in r.text


async def test_csp_and_companion_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/ui/login")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    # no inline script: every <script> either loads a file or is a JSON data block
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/ui/static/' in tag or 'type="application/json"' in tag, tag
    await sign_in(client, "supervisor", "supervisor")
    page = await client.get("/ui/supervisor")
    assert page.status_code == 200 and "content-security-policy" in page.headers
    # the API's own docs page is not under the UI policy
    assert "content-security-policy" not in (await client.get("/api/v1/openapi.json")).headers


async def test_cookie_requests_need_the_csrf_header(client: httpx.AsyncClient,
                                                    server: Server) -> None:
    await sign_in(client, "agent1", "agent")
    page = await client.get("/ui/agent")
    token = csrf_meta(page.text)
    assert len(token) >= 32
    # reading needs no token
    assert (await client.get("/api/v1/agents/agent1/state")).status_code == 200
    body = {"device": "webrtc", "site": "taipei"}
    for headers in ({}, {"X-CSRF-Token": "0" * len(token)}):
        r = await client.post("/api/v1/agents/agent1/login", json=body, headers=headers)
        assert r.status_code == 403 and r.json()["error_id"] == "csrf_failed"
    assert server.engine.agent_view("agent1")["presence"] == "logged_out"
    r = await client.post("/api/v1/agents/agent1/login", json=body,
                          headers={"X-CSRF-Token": token, "Origin": "http://evil.test"})
    assert r.status_code == 403 and r.json()["error_id"] == "csrf_failed"
    r = await client.post("/api/v1/agents/agent1/login", json=body,
                          headers={"X-CSRF-Token": token, "Origin": BASE})
    assert r.status_code == 200 and r.json()["presence"] == "not_ready"
    for method, path in [("PUT", "/agents/agent1/state"), ("POST", "/contacts"),
                         ("POST", "/ui/consult"), ("DELETE", "/queues/sales")]:
        r = await client.request(method, "/api/v1" + path, json={})
        assert r.status_code == 403, (method, path)
    # the page's own forms check their token too
    r = await client.post("/ui/logout", data={"csrf": "forged"})
    assert r.status_code == 403
    r = await client.post("/ui/lang", data={"csrf": "forged", "lang": "zh_TW"})
    assert r.status_code == 403 and "ipcc_lang" not in r.cookies
    r = await client.post("/ui/logout", data={"csrf": token})
    assert r.status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_bearer_token_needs_no_csrf_header(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/token", json={"username": "agent1", "password": "agent"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.post("/api/v1/agents/agent1/login", json={"device": "webrtc"},
                          headers=headers)
    assert r.status_code == 200


async def test_pages_follow_roles_and_redirect_to_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/ui/agent")
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")
    await sign_in(client, "agent1", "agent")
    assert (await client.get("/ui/agent")).status_code == 200
    assert (await client.get("/ui/supervisor")).status_code == 403
    assert (await client.get("/ui/admin")).status_code == 403
    assert (await client.get("/api/v1/ui/agents/live")).status_code == 403


async def test_open_redirect_is_refused(client: httpx.AsyncClient) -> None:
    page = await client.get("/ui/login")
    r = await client.post("/ui/login", data={"username": "agent1", "password": "agent",
                                             "csrf": hidden(page.text, "csrf"),
                                             "next": "//evil.test/ui/x"})
    assert r.headers["location"] == "/ui/agent"


async def test_language_is_chosen_and_kept(client: httpx.AsyncClient) -> None:
    r = await client.get("/ui/login", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert '<html lang="zh-TW">' in r.text  # before sign-in: the browser's language
    r = await client.get("/ui/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert '<html lang="en">' in r.text
    r = await client.post("/ui/lang", data={"csrf": hidden(r.text, "csrf"), "lang": "zh_TW",
                                            "next": "/ui/login"})
    assert r.status_code == 303 and r.cookies.get("ipcc_lang") == "zh_TW"
    page = await client.get("/ui/login")
    assert '<html lang="zh-TW">' in page.text and "登入 ipcc" in page.text
    # numbers and dates rendered by the server follow the language
    assert "年" in re.search(r'class="today"[^>]*>([^<]*)<', page.text).group(1)


async def test_tenant_isolation_on_ui_endpoints(client: httpx.AsyncClient,
                                                server: Server) -> None:
    cid = await server.create_contact("demo", channel="chat", queue="sales",
                                      customer={"name": "Mei", "phone": "+886212345678"})
    await sign_in(client, "admin", "admin", tenant="acme")
    token = csrf_meta((await client.get("/ui/admin")).text)
    assert (await client.get(f"/api/v1/ui/contacts/{cid}/screenpop")).status_code == 404
    live = (await client.get("/api/v1/ui/agents/live")).json()
    assert {a["id"] for a in live["agents"]} == {"acme1", "acme2"}
    queues = (await client.get("/api/v1/ui/queues/live")).json()
    assert [q["id"] for q in queues["queues"]] == ["claims"]
    r = await client.post("/api/v1/ui/consult", json={"to_agent": "agent1", "text": "hi"},
                          headers={"X-CSRF-Token": token})
    assert r.status_code == 404
    assert [t["name"] for t in (await client.get("/api/v1/ui/ivr")).json()["trees"]] == \
        ["acme-main"]
    assert (await client.get("/api/v1/ui/ivr/demo-main.svg")).status_code == 404


def test_catalogues_cover_every_string() -> None:
    from babel.messages.pofile import read_po

    from agent_ui import i18n
    from agent_ui.strings import js_strings

    root = Path(i18n.__file__).parent / "locale"
    with open(root / "messages.pot", "rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    assert set(js_strings(str).values()) <= ids
    with open(root / "zh_TW" / "LC_MESSAGES" / "messages.po", "rb") as f:
        zh = {m.id: m.string for m in read_po(f) if m.id}
    assert set(zh) == ids and all(zh.values()), "untranslated zh_TW strings"
    # the compiled catalogue is the one shipped with the .po
    trans = i18n.translations("zh_TW")
    assert all(trans.gettext(k) == v for k, v in zh.items())
    # templates: every visible text goes through _() - no bare letters between tags
    for tpl in (Path(i18n.__file__).parent / "templates").glob("*.html"):
        text = re.sub(r"{%.*?%}|{{.*?}}|<script.*?</script>|<[^>]+>", " ", tpl.read_text(),
                      flags=re.DOTALL)
        words = [w for w in re.findall(r"[A-Za-z]{2,}", text)
                 if w not in ("ipcc", "Alt", "WebRTC")]
        assert not words, f"{tpl.name}: untranslated text {words[:5]}"


async def test_websocket_checks_origin_and_session(live_ui: LiveUi) -> None:
    async with httpx.AsyncClient(base_url=live_ui.url) as c:
        r = await sign_in(c, "agent1", "agent")
        assert r.status_code == 303
        cookie = f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}"
    ws_url = live_ui.url.replace("http://", "ws://") + "/api/v1/ws"
    host = live_ui.url.removeprefix("http://")
    # another site's page riding on the agent's cookie is refused
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(ws_url, additional_headers={"Cookie": cookie},
                                      origin="http://evil.test", open_timeout=5):
            pass
    # no session at all
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(ws_url, origin=f"http://{host}", open_timeout=5):
            pass
    # same origin with the session: live events arrive
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie},
                                  origin=f"http://{host}", open_timeout=5) as ws:
        live_ui.server.handle(ev.AgentLoggedIn("agent1", "webrtc", "taipei", "A-1"))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert msg["event"] == "agent.updated" and msg["id"] == "agent1"


def test_scripts_never_write_html() -> None:
    """Data reaches the page as text: no HTML-parsing sinks in the UI's scripts."""
    from agent_ui import i18n

    for js in (Path(i18n.__file__).parent / "static").glob("*.js"):
        code = "\n".join(line for line in js.read_text().splitlines()
                         if not line.strip().startswith("//"))
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                     "eval(", "new Function"):
            assert sink not in code, f"{js.name} uses {sink}"

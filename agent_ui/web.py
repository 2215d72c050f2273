"""The web UI's pages: log-in, agent desktop, supervisor console, administration.

Pages are Jinja2 shells; the data comes from the REST API (``/api/v1``) through plain
JavaScript modules in ``agent_ui/static`` that use the same session. No business rule
lives here: the pages ask the API and show what it answers.

Security, in one place:

* The session is an HttpOnly, ``SameSite=Strict`` cookie holding an API token
  (``Secure`` when the page is served over HTTPS). Scripts never see it.
* Every state-changing request carries a CSRF token: API calls in the
  ``X-CSRF-Token`` header (checked in :mod:`acd.api.deps`), the page's own forms
  (log-out, language) in a hidden field; the log-in form has a pre-session token of its
  own (double submit: cookie and field must match).
* Every page is served with a Content-Security-Policy that allows scripts only from
  this origin's files: no inline script, no ``eval``. Data reaches scripts as JSON
  blocks (``type="application/json"``, never executed) and is put into the page with
  ``textContent``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acd.api.deps import SESSION_COOKIE, csrf_token, same_origin
from acd.api.errors import ApiError
from acd.auth import Principal, TokenError

from . import i18n
from .strings import js_strings

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "ipcc_lang"
LOGIN_CSRF_COOKIE = "ipcc_login_csrf"
ROLE_HOME = {"agent": "/ui/agent", "supervisor": "/ui/supervisor", "admin": "/ui/admin"}
PAGE_ROLES = {"agent": ("agent", "supervisor", "admin"),
              "supervisor": ("supervisor", "admin"), "admin": ("admin",),
              "campaigns": ("supervisor", "admin")}


def content_security_policy(host: str | None) -> str:
    ws = f" ws://{host} wss://{host}" if host else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{ws}; media-src 'self' blob:; font-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds the CSP and companions to every response under ``/ui`` (and ``/``).

    The API keeps its own headers: its interactive docs page needs inline scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith("/ui")):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                     if k == b"host"), None)
        extra = [(b"content-security-policy", content_security_policy(host).encode()),
                 (b"x-content-type-options", b"nosniff"),
                 (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin"),
                 (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() != b"content-security-policy"]
                message = dict(message)
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Pages:
    """Renders the pages of one server; one Jinja2 environment per language."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._envs: dict[str, jinja2.Environment] = {}

    def env(self, locale: str) -> jinja2.Environment:
        env = self._envs.get(locale)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                autoescape=True, extensions=["jinja2.ext.i18n"],
                undefined=jinja2.StrictUndefined)
            env.install_gettext_translations(i18n.translations(locale),  # type: ignore[attr-defined]
                                             newstyle=True)
            self._envs[locale] = env
        return env

    # ------------------------------------------------------------- sessions

    def session(self, request: Request) -> tuple[Principal, str] | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or self.server.tokens is None:
            return None
        try:
            p = self.server.tokens.verify(token)
        except TokenError:
            return None
        if p.tenant not in self.server.tenants:
            return None
        return p, token

    def locale(self, request: Request, p: Principal | None) -> str:
        tenant_lang = None
        if p is not None and p.tenant in self.server.tenants:
            tenant_lang = self.server.tenants[p.tenant].language
        return i18n.choose(request.cookies.get(LANG_COOKIE),
                           request.headers.get("accept-language"), tenant_lang)

    def render(self, request: Request, template: str, *, p: Principal | None,
               token: str | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        locale = self.locale(request, p)
        trans = i18n.translations(locale)
        now = self.server.clock()
        boot = {"page": ctx.get("page", template.removesuffix(".html")), "locale": locale,
                "lang": i18n.bcp47(locale), "now": now,
                "me": None if p is None else {"username": p.username, "tenant": p.tenant,
                                              "role": p.role, "agent_id": p.agent_id}}
        tenant = self.server.tenants.get(p.tenant) if p else None
        html = self.env(locale).get_template(template).render(
            locale=locale, lang=i18n.bcp47(locale), locales=i18n.LOCALES,
            csrf=csrf_token(self.server, token) if token else "",
            me=p, tenant_name=tenant.name if tenant else "",
            today=i18n.fmt_date(now, locale), boot=boot,
            strings=js_strings(trans.gettext), next_url=str(request.url.path), **ctx)
        return HTMLResponse(html, status_code=status,
                            headers={"Cache-Control": "no-store"})


def _safe_next(value: str | None, default: str) -> str:
    """Only our own pages: no scheme, no host, no protocol-relative ``//``."""
    if value and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:65536].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def install_ui(app: FastAPI, server: Any) -> None:
    """Mount the pages under ``/ui`` and the static files under ``/ui/static``."""
    pages = Pages(server)
    app.state.ui_pages = pages
    app.add_middleware(SecurityHeaders)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/ui/", status_code=303)

    @app.get("/ui", include_in_schema=False)
    @app.get("/ui/", include_in_schema=False)
    async def home(request: Request) -> Response:
        s = pages.session(request)
        if s is None:
            return RedirectResponse("/ui/login", status_code=303)
        return RedirectResponse(ROLE_HOME.get(s[0].role, "/ui/login"), status_code=303)

    @app.get("/ui/login", include_in_schema=False)
    async def login_page(request: Request, next: str | None = None) -> Response:
        return _login_form(request, next, error=None, status=200)

    def _login_form(request: Request, next_url: str | None, error: str | None,
                    status: int, username: str = "", tenant: str = "") -> Response:
        login_csrf = secrets.token_urlsafe(24)
        resp = pages.render(request, "login.html", p=None, token=None, status=status,
                            page="login", login_csrf=login_csrf, error=error,
                            username=username, tenant=tenant,
                            next=_safe_next(next_url, ""))
        resp.set_cookie(LOGIN_CSRF_COOKIE, login_csrf, httponly=True, samesite="strict",
                        path="/ui", secure=_secure(request), max_age=3600)
        return resp

    @app.post("/ui/login", include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        form = await _form(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        origin = request.headers.get("origin")
        if (not cookie or not secrets.compare_digest(cookie, form.get("csrf", ""))
                or (origin is not None and not same_origin(origin, request.headers.get("host")))):
            return _login_form(request, form.get("next"), error="csrf", status=403)
        from acd.api.routes_ops import TokenIn
        from acd.api.routes_ops import token as issue_token

        try:
            answer = await issue_token(TokenIn(username=form.get("username", "") or "-",
                                               password=form.get("password", ""),
                                               tenant=form.get("tenant") or None), server)
        except ApiError:
            return _login_form(request, form.get("next"), error="credentials", status=401,
                               username=form.get("username", ""),
                               tenant=form.get("tenant", ""))
        target = _safe_next(form.get("next"), ROLE_HOME.get(answer["role"], "/ui/"))
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(SESSION_COOKIE, answer["access_token"], httponly=True,
                        samesite="strict", path="/", secure=_secure(request),
                        max_age=int(answer["expires_in"]))
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
        return resp

    def _check_form_csrf(request: Request, form: dict[str, str]) -> bool:
        s = pages.session(request)
        origin = request.headers.get("origin")
        if origin is not None and not same_origin(origin, request.headers.get("host")):
            return False
        if s is not None:
            return secrets.compare_digest(form.get("csrf", ""), csrf_token(server, s[1]))
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        return bool(cookie) and secrets.compare_digest(cookie, form.get("csrf", ""))

    @app.post("/ui/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await _form(request)
        if not _check_form_csrf(request, form):
            return Response("CSRF check failed", status_code=403, media_type="text/plain")
        resp = RedirectResponse("/ui/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.post("/ui/lang", include_in_schema=False)
    async def set_language(request: Request) -> Response:
        form = await _form(request)
        if not _check_form_csrf(request, form):
            return Response("CSRF check failed", status_code=403, media_type="text/plain")
        lang = form.get("lang", "")
        resp = RedirectResponse(_safe_next(form.get("next"), "/ui/"), status_code=303)
        if lang in i18n.LOCALES:
            resp.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/",
                            secure=_secure(request), max_age=365 * 86400)
        return resp

    def _page(name: str) -> Any:
        async def page(request: Request) -> Response:
            s = pages.session(request)
            if s is None:
                return RedirectResponse(f"/ui/login?next=/ui/{name}", status_code=303)
            p, token = s
            if p.role not in PAGE_ROLES[name] or (name == "agent" and not p.agent_id):
                return pages.render(request, "forbidden.html", p=p, token=token, status=403,
                                    page="forbidden")
            return pages.render(request, f"{name}.html", p=p, token=token, page=name)
        page.__name__ = f"page_{name}"
        return page

    for name in PAGE_ROLES:
        app.add_api_route(f"/ui/{name}", _page(name), methods=["GET"], include_in_schema=False)

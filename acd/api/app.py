"""The ASGI application: REST API under /api/v1, live updates on /api/v1/ws, /healthz."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from acd.auth import TokenError
from acd.server import Server

from . import errors
from .deps import SESSION_COOKIE, same_origin
from .routes_calls import router as calls_router
from .routes_campaigns import router as campaigns_router
from .routes_chat import install as install_chat
from .routes_config import router as config_router
from .routes_ivr import router as ivr_router
from .routes_ops import router as ops_router
from .routes_ui import UiHub
from .routes_ui import router as ui_router

log = logging.getLogger("ipcc.api")


def create_app(server: Server) -> FastAPI:
    app = FastAPI(title="ipcc", version="1", openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None)
    app.state.server = server
    errors.install(app)
    app.include_router(ops_router, prefix="/api/v1")
    app.include_router(config_router, prefix="/api/v1")
    app.include_router(ui_router, prefix="/api/v1")
    app.include_router(calls_router, prefix="/api/v1")
    app.include_router(campaigns_router, prefix="/api/v1")
    app.include_router(ivr_router, prefix="/api/v1")
    app.state.ui_hub = UiHub()
    install_chat(app)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        components: dict[str, Any] = server.health()
        try:
            components["store"] = await server.store.health()
        except Exception as exc:  # the store being down is what health reports
            components["store"] = {"ok": False, "error": str(exc)}
        ok = bool(components["store"].get("ok"))
        return JSONResponse({"status": "ok" if ok else "degraded", "components": components},
                            status_code=200 if ok else 503)

    @app.websocket("/api/v1/ws")
    async def live(ws: WebSocket) -> None:
        """Live updates for the caller's tenant: contact, agent, offer and queue events.

        Authenticate with ``?token=...`` (browsers cannot set headers on WebSockets) or
        with the web UI's session cookie; a cookie-authenticated handshake must come from
        this same origin (a page of another site cannot ride on the agent's session)."""
        token = ws.query_params.get("token", "")
        if not token:
            token = ws.cookies.get(SESSION_COOKIE, "")
            if token and not same_origin(ws.headers.get("origin"), ws.headers.get("host")):
                await ws.close(code=4403)
                return
        assert server.tokens is not None
        try:
            p = server.tokens.verify(token)
        except TokenError:
            await ws.close(code=4401)
            return
        if p.tenant not in server.tenants:
            await ws.close(code=4401)
            return
        await ws.accept()
        queue = server.listen(p.tenant)
        app.state.ui_hub.attach(p, queue)
        try:
            while True:
                message = await queue.get()
                await ws.send_json(message)
        except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
            pass
        finally:
            app.state.ui_hub.detach(p, queue)
            server.unlisten(p.tenant, queue)

    try:
        from agent_ui.web import install_ui
    except ImportError as exc:  # the API serves on without its pages
        log.warning("web UI not available: %s", exc)
    else:
        install_ui(app, server)
    return app

"""Request dependencies: who is calling, and may they do this.

Two ways in: ``Authorization: Bearer <token>`` (integrations, scripts) or the web UI's
session cookie (an HttpOnly cookie holding the same kind of token). A cookie is sent by
the browser on its own, so a cookie-authenticated request that changes state must also
carry the session's CSRF token in the ``X-CSRF-Token`` header (a value derived from the
session token with a server-side key, which another site's page cannot read or compute)
and, when the browser sends an ``Origin``, come from this same origin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from acd.auth import Principal, TokenError
from acd.server import Server

from .errors import ApiError

_bearer = HTTPBearer(auto_error=False)

SESSION_COOKIE = "ipcc_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_csrf_keys: weakref.WeakKeyDictionary[Server, bytes] = weakref.WeakKeyDictionary()


def get_server(request: Request) -> Server:
    return request.app.state.server  # type: ignore[no-any-return]


def csrf_key(data_dir: Path) -> bytes:
    """The key CSRF tokens are derived with: made once, kept in the data directory (so
    pages rendered before a restart keep working), never sent to a browser."""
    path = Path(data_dir) / "csrf.secret"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key.hex())
    path.chmod(0o600)
    return key


def csrf_token(server: Server, session_token: str) -> str:
    """The CSRF token of a session: HMAC of the session token (stateless, per session)."""
    key = _csrf_keys.get(server)
    if key is None:
        key = _csrf_keys[server] = csrf_key(server.data_dir)
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()[:40]


def same_origin(origin: str | None, host: str | None) -> bool:
    """Does an ``Origin`` header name the host the request was sent to?"""
    if not origin or not host or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


def check_csrf(request: Request, server: Server, session_token: str) -> None:
    """Refuse a cookie-authenticated state change without the session's CSRF token or
    from another origin."""
    origin = request.headers.get("origin")
    if origin is not None and not same_origin(origin, request.headers.get("host")):
        raise ApiError(403, "csrf_failed", "cross-origin request refused")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, csrf_token(server, session_token)):
        raise ApiError(403, "csrf_failed", "missing or wrong X-CSRF-Token header")


def principal(request: Request,
              cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
              ) -> Principal:
    server = get_server(request)
    if cred is None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise ApiError(401, "unauthorized", "a bearer token is required")
        if request.method not in SAFE_METHODS:
            check_csrf(request, server, token)
    elif cred.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "a bearer token is required")
    else:
        token = cred.credentials
    assert server.tokens is not None
    try:
        p = server.tokens.verify(token)
    except TokenError as exc:
        raise ApiError(401, "invalid_token", str(exc)) from None
    if p.tenant not in server.tenants:
        raise ApiError(401, "invalid_token", "the token's tenant no longer exists")
    return p


def supervisor(p: Annotated[Principal, Depends(principal)]) -> Principal:
    if p.role not in ("admin", "supervisor"):
        raise ApiError(403, "forbidden", "this needs the supervisor or admin role")
    return p


def admin(p: Annotated[Principal, Depends(principal)]) -> Principal:
    if p.role != "admin":
        raise ApiError(403, "forbidden", "this needs the admin role")
    return p


Caller = Annotated[Principal, Depends(principal)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Admin = Annotated[Principal, Depends(admin)]
ServerDep = Annotated[Server, Depends(get_server)]

"""Request dependencies: who is calling, and may they do this."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from acd.auth import Principal, TokenError
from acd.server import Server

from .errors import ApiError

_bearer = HTTPBearer(auto_error=False)


def get_server(request: Request) -> Server:
    return request.app.state.server  # type: ignore[no-any-return]


def principal(request: Request,
              cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
              ) -> Principal:
    if cred is None or cred.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "a bearer token is required")
    server = get_server(request)
    assert server.tokens is not None
    try:
        p = server.tokens.verify(cred.credentials)
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

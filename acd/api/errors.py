"""API errors: every error body is ``{"status", "error_id", "message", "details"}``.

``error_id`` is stable: integrations act on it, not on the message text.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from acd.events import EngineError

# engine error ids -> HTTP status
_ENGINE_STATUS = {
    "agent_not_found": 404,
    "contact_not_found": 404,
    "queue_not_found": 404,
}


class ApiError(Exception):
    def __init__(self, status: int, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.details = details


def body(status: int, error_id: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"status": status, "error_id": error_id, "message": message, "details": details or {}}


def _json(status: int, error_id: str, message: str, details: Any = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(status, error_id, message, details), status_code=status,
                        headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json(exc.status, exc.error_id, exc.message, exc.details, headers)

    @app.exception_handler(EngineError)
    async def _engine_error(_: Request, exc: EngineError) -> JSONResponse:
        status = _ENGINE_STATUS.get(exc.error_id, 409)
        return _json(status, exc.error_id, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                    for e in exc.errors()]
        return _json(422, "validation_error", "the request is not valid", {"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        ids = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        return _json(exc.status_code, ids.get(exc.status_code, "http_error"), str(exc.detail))

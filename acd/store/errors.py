"""Errors raised by the store.

    StoreError                 every failure the store reports on purpose
    ├── NotFoundError          the row to update does not exist (error_id "not_found")
    ├── ConflictError          a key already exists or a constraint refused the row
    │                          ("conflict", "unknown_tenant", "invalid")
    └── StoreClosedError       the store was used after close() ("store_closed")

Like :class:`acd.events.EngineError`, each carries a stable ``error_id`` the REST layer can
map to an HTTP status, and ``details``. Driver exceptions that are not about the caller's
data (the database is down, the disk is full) are not wrapped: they are operational faults,
not answers.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    def __init__(self, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details


class NotFoundError(StoreError):
    def __init__(self, what: str, key: Any) -> None:
        super().__init__("not_found", f"{what} {key!r} not found", what=what, key=key)


class ConflictError(StoreError):
    pass


class StoreClosedError(StoreError):
    def __init__(self) -> None:
        super().__init__("store_closed", "the store is closed")


def integrity_error(exc: Exception, what: str, key: Any) -> ConflictError:
    """Translate a driver IntegrityError about ``what``/``key`` into a ConflictError."""
    text = str(exc).lower()
    if "foreign key" in text:
        return ConflictError("unknown_tenant", f"{what} {key!r}: tenant does not exist",
                             what=what, key=key)
    if "check constraint" in text or "violates check" in text:
        return ConflictError("invalid", f"{what} {key!r}: value refused by a constraint",
                             what=what, key=key)
    return ConflictError("conflict", f"{what} {key!r} already exists", what=what, key=key)

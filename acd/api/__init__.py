"""The REST API (``/api/v1``) and the live-update WebSocket."""

from .app import create_app

__all__ = ["create_app"]

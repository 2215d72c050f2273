"""Safety checks of the public chat endpoint (sans-I/O: time is passed in).

- Token buckets per client IP (handshakes) and per conversation (messages). A refusal
  carries the seconds to wait, which the gateway sends as ``Retry-After``; one visitor
  exhausting its bucket leaves every other bucket untouched.
- Origin allow-list per tenant for the widget's WebSocket.
- Message text and attachment checks (size, declared type, type sniffed from the bytes).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .conversation import Attachment, ChatError


@dataclass
class TokenBucket:
    rate: float      # tokens per second
    burst: int
    tokens: float
    updated: float

    def take(self, now: float, cost: float = 1.0) -> float:
        """0.0 when allowed (and the token spent), else seconds until it would be."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate


class RateLimiter:
    """Buckets by key, bounded: full buckets are forgotten when the map grows large."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float) -> float:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            b = self._buckets[key] = TokenBucket(self.rate, self.burst, float(self.burst), now)
        return b.take(now)

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items()
                if b.tokens + (now - b.updated) * b.rate >= b.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:  # all busy: drop the oldest half
            for k in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[
                    : self.max_keys // 2]:
                del self._buckets[k]

    def __len__(self) -> int:
        return len(self._buckets)


def normalize_origin(origin: str) -> str:
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:
        return origin.strip().lower()
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def origin_allowed(origin: str | None, tenant: str, allowed: Mapping[str, Iterable[str]],
                   own: Iterable[str] = ()) -> bool:
    """May a page of ``origin`` open the chat of ``tenant``?

    The tenant's own list, else the ``"*"`` list, else only this server's web origins
    (``own``). ``"*"`` inside a list allows any origin. No Origin header (not a browser:
    a script or a server-side client) is allowed; a browser always sends one."""
    if origin is None:
        return True
    if tenant in allowed:
        entries = list(allowed[tenant])
    elif "*" in allowed:
        entries = list(allowed["*"])
    else:
        entries = list(own)
    if "*" in entries:
        return True
    want = normalize_origin(origin)
    return any(normalize_origin(e) == want for e in entries)


# --------------------------------------------------------------- attachments

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def sniff(data: bytes) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def check_text(text: object, max_chars: int) -> str:
    if not isinstance(text, str):
        raise ChatError("bad_message", "text must be a string")
    if len(text) > max_chars:
        raise ChatError("message_too_large", f"a message holds at most {max_chars} characters")
    if not text.strip():
        raise ChatError("bad_message", "empty message")
    return text


def check_attachment(name: object, mime: object, data_b64: object, *, max_bytes: int,
                     types: Iterable[str]) -> tuple[Attachment, bytes]:
    """Decode and vet an attachment; the type must be allowed *and* match its bytes
    (a script renamed to .png is refused)."""
    if not isinstance(name, str) or not name or len(name) > 200:
        raise ChatError("bad_attachment", "an attachment needs a file name (<= 200 chars)")
    if not isinstance(mime, str) or not isinstance(data_b64, str):
        raise ChatError("bad_attachment", "an attachment needs a type and base64 data")
    if len(data_b64) > (max_bytes * 4) // 3 + 8:
        raise ChatError("attachment_too_large", f"attachments hold at most {max_bytes} bytes")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ChatError("bad_attachment", "attachment data is not base64") from None
    if len(data) > max_bytes:
        raise ChatError("attachment_too_large", f"attachments hold at most {max_bytes} bytes")
    allowed = set(types)
    mime = mime.split(";")[0].strip().lower()
    if mime not in allowed:
        raise ChatError("attachment_type", f"type {mime!r} is not accepted")
    if sniff(data) != mime:
        raise ChatError("attachment_type", "the file's content does not match its type")
    clean = "".join(c for c in name if c.isprintable() and c not in '/\\"')[:200] or "file"
    return Attachment(name=clean, mime=mime, size=len(data)), data

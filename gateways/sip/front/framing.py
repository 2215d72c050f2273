"""Sans-I/O framing of SIP over a byte stream (TCP), RFC 3261 section 18.3.

On a stream the only message boundary is ``Content-Length``: the framer buffers bytes,
finds the end of the header section, reads Content-Length (compact ``l:`` too) and cuts
the body. It also answers RFC 5626 keep-alives: a double CRLF "ping" between messages
asks for a single CRLF "pong".

A framing error (header section over the limit, a Content-Length that is not a number
or is over the limit) is not recoverable on a stream -- the framer cannot know where the
next message starts -- so it raises :class:`FramingError` and the I/O layer closes the
connection. A message that frames fine but does not parse is the dispatcher's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .message import DEFAULT_LIMITS, Limits

__all__ = ["Frame", "FramingError", "KeepAlive", "StreamFramer"]

_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)\r?$",
                             re.IGNORECASE | re.MULTILINE)


class FramingError(ValueError):
    """The stream cannot be cut into messages any more; close the connection."""


@dataclass(frozen=True)
class Frame:
    """One complete message as bytes (header section + body of Content-Length)."""

    data: bytes


@dataclass(frozen=True)
class KeepAlive:
    """A CRLFCRLF ping was received; the peer expects a CRLF pong."""


class StreamFramer:
    """Feed bytes with :meth:`feed`; it returns the frames and pings now complete."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame | KeepAlive]:
        self._buf += data
        out: list[Frame | KeepAlive] = []
        while True:
            item = self._next()
            if item is None:
                break
            out.append(item)
        if len(self._buf) > self.limits.max_message:
            raise FramingError("incomplete message over the size limit")
        return out

    def _next(self) -> Frame | KeepAlive | None:
        buf = self._buf
        while buf:
            if buf.startswith(b"\r\n\r\n"):
                del buf[:4]
                return KeepAlive()
            if len(buf) < 4 and b"\r\n\r\n".startswith(bytes(buf)):
                return None  # maybe the start of a ping: wait for more
            if buf.startswith(b"\r\n"):
                del buf[:2]  # a lone CRLF (a pong, or padding) between messages
                continue
            break
        if not buf:
            return None
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self.limits.max_message:
                raise FramingError("header section over the size limit")
            return None
        head = bytes(buf[:end])
        lengths = _CONTENT_LENGTH.findall(head)
        length = 0
        if lengths:
            values = {v.strip() for v in lengths}
            if len(values) != 1:
                raise FramingError("conflicting Content-Length headers")
            value = values.pop()
            if not value.isdigit() or len(value) > 9:
                raise FramingError("bad Content-Length")
            length = int(value)
        total = end + 4 + length
        if length > self.limits.max_body or total > self.limits.max_message:
            raise FramingError("message over the size limit")
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        return Frame(frame)

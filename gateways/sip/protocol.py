"""Sans-I/O codec for the control stream between the control process and a media worker.

One stream per worker (a Unix socket locally; TCP/TLS for a remote media host later)
carries *frames*: a 4-byte big-endian unsigned length followed by that many bytes of
UTF-8 JSON. Every JSON object carries ``"v": 1`` and a ``"type"``:

* ``request`` -- ``{"v":1,"type":"request","id":7,"op":"answer","args":{...}}``
* ``reply``   -- ``{"v":1,"type":"reply","id":7,"result":{...}}`` or
  ``{"v":1,"type":"reply","id":7,"error":{"code":"no_such_leg","message":"..."}}``
* ``event``   -- ``{"v":1,"type":"event","id":12,"event":"dtmf","args":{...}}``
  (an event's ``id`` is the sender's sequence number, useful in logs and gap checks).

The codec knows nothing about sockets, clocks or asyncio: bytes go into
:meth:`Decoder.feed`, messages come out; :func:`encode` turns a message into bytes.
Why sans-I/O: the same codec serves the worker, the pool, tests and fuzzers, and a peer
that sends garbage can only ever produce a :class:`ProtocolError`, never a hang or some
other exception deep in the I/O layer.

The op and event vocabularies are *not* checked here (they are strings); see
``docs/media-protocol.md``. That keeps room for new leg kinds (WebRTC: ``webrtc_offer``)
without a codec change; a new incompatible framing bumps ``VERSION``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
#: Default ceiling for one frame's JSON body; a control message is a few hundred bytes.
MAX_FRAME = 1 << 20
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid control-stream frame.

    ``code`` is a stable identifier (``frame_too_large``, ``bad_json``, ``bad_version``,
    ``bad_message``, ``bad_utf8``) so that the I/O layer can log and act on it.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


MessageId = int | str


@dataclass(frozen=True)
class ErrorInfo:
    """Why a request failed: a stable ``code`` a program can act on, and prose."""

    code: str
    message: str = ""

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Request:
    id: MessageId
    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    id: MessageId
    result: Any = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Event:
    event: str
    args: dict[str, Any] = field(default_factory=dict)
    id: MessageId | None = None


Message = Request | Reply | Event


# --------------------------------------------------------------------------- encoding


def to_json(msg: Message) -> dict[str, Any]:
    """The JSON object for ``msg`` (without framing)."""
    if isinstance(msg, Request):
        return {"v": VERSION, "type": "request", "id": msg.id, "op": msg.op, "args": msg.args}
    if isinstance(msg, Reply):
        out: dict[str, Any] = {"v": VERSION, "type": "reply", "id": msg.id}
        if msg.error is not None:
            out["error"] = msg.error.to_json()
        else:
            out["result"] = msg.result
        return out
    if isinstance(msg, Event):
        return {"v": VERSION, "type": "event", "id": msg.id, "event": msg.event,
                "args": msg.args}
    raise TypeError(f"not a control message: {msg!r}")


def encode(msg: Message, max_frame: int = MAX_FRAME) -> bytes:
    """Frame ``msg``: 4-byte big-endian length + compact UTF-8 JSON.

    Raises ``ValueError`` when the body would exceed ``max_frame`` (the peer would reject
    it) and ``TypeError`` when args are not JSON-serialisable: both are caller bugs.
    """
    body = json.dumps(to_json(msg), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
    if len(body) > max_frame:
        raise ValueError(f"message of {len(body)} bytes exceeds max frame {max_frame}")
    return _HEADER.pack(len(body)) + body


def request(id: MessageId, op: str, **args: Any) -> bytes:
    return encode(Request(id, op, args))


def reply(id: MessageId, result: Any = None) -> bytes:
    return encode(Reply(id, result))


def error_reply(id: MessageId, code: str, message: str = "") -> bytes:
    return encode(Reply(id, None, ErrorInfo(code, message)))


def event(name: str, seq: MessageId | None = None, **args: Any) -> bytes:
    return encode(Event(name, args, seq))


# --------------------------------------------------------------------------- decoding


def _required_id(obj: dict[str, Any]) -> MessageId:
    mid = obj.get("id")
    # bool is an int subclass; an id of `true` is a peer bug, not an id.
    if isinstance(mid, bool) or not isinstance(mid, (int, str)):
        raise ProtocolError("bad_message", f"id must be an integer or string, got {mid!r}")
    return mid


def _optional_id(obj: dict[str, Any]) -> MessageId | None:
    return None if obj.get("id") is None else _required_id(obj)


def _check_args(obj: dict[str, Any], key: str) -> dict[str, Any]:
    args = obj.get(key, {})
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise ProtocolError("bad_message", f"{key} must be an object")
    return args


def _check_name(obj: dict[str, Any], key: str) -> str:
    name = obj.get(key)
    if not isinstance(name, str) or not name:
        raise ProtocolError("bad_message", f"{key} must be a non-empty string")
    return name


def from_json(obj: Any) -> Message:
    """Validate one decoded JSON value and build the message it describes."""
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", "frame body must be a JSON object")
    version = obj.get("v")
    if isinstance(version, bool) or version != VERSION:
        raise ProtocolError("bad_version", f"unsupported protocol version {version!r}, "
                                           f"this side speaks {VERSION}")
    kind = obj.get("type")
    if kind == "request":
        return Request(_required_id(obj), _check_name(obj, "op"), _check_args(obj, "args"))
    if kind == "reply":
        mid = _required_id(obj)
        err = obj.get("error")
        if err is not None:
            if not isinstance(err, dict) or not isinstance(err.get("code"), str):
                raise ProtocolError("bad_message", "error must be an object with a code")
            text = err.get("message", "")
            return Reply(mid, None, ErrorInfo(err["code"], text if isinstance(text, str)
                                              else str(text)))
        return Reply(mid, obj.get("result"))
    if kind == "event":
        return Event(_check_name(obj, "event"), _check_args(obj, "args"), _optional_id(obj))
    raise ProtocolError("bad_message", f"unknown message type {kind!r}")


class Decoder:
    """Incremental frame decoder: ``feed(bytes) -> list[Message]``.

    Frames may arrive split or coalesced in any way. An oversize length prefix is
    rejected as soon as the 4 header bytes are in (no waiting for a body that may never
    come). After a :class:`ProtocolError` the stream is out of sync, so the decoder stays
    failed and every later ``feed`` raises the same error: the I/O layer must close the
    connection.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._failed: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        if self._failed is not None:
            raise self._failed
        self._buf += data
        out: list[Message] = []
        try:
            while len(self._buf) >= _HEADER.size:
                (length,) = _HEADER.unpack_from(self._buf)
                if length > self.max_frame:
                    raise ProtocolError("frame_too_large",
                                        f"frame of {length} bytes exceeds {self.max_frame}")
                end = _HEADER.size + length
                if len(self._buf) < end:
                    break
                body = bytes(self._buf[_HEADER.size:end])
                del self._buf[:end]
                out.append(decode_body(body))
        except ProtocolError as exc:
            self._failed = exc
            self._buf.clear()
            raise
        return out


def decode_body(body: bytes) -> Message:
    """Decode one frame body (no length prefix)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("bad_utf8", str(exc)) from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProtocolError("bad_json", "nesting too deep") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError("bad_json", str(exc)) from None
    return from_json(obj)


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON; accepting them would let one side send what the other
    # (or a strict JSON consumer downstream) cannot re-encode.
    raise ValueError(f"non-standard JSON constant {name}")

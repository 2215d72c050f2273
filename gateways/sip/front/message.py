"""Sans-I/O SIP message parser and serializer for the front (RFC 3261 sections 7, 20, 25).

The front sees every packet anybody sends to its public port, so this parser is strict
where routing depends on it and bounded everywhere: it either returns a
:class:`SipMessage` or raises :class:`ParseError` -- never another exception -- and it
refuses oversize messages, header floods and lying ``Content-Length`` values before doing
work proportional to them.

Why not reuse :mod:`gateways.sip.sipmsg`: that one is a forgiving reader of messages the
SIP stack already accepted; a proxy must also *rewrite* (Via, Route, Record-Route,
Max-Forwards) and re-serialize byte-faithfully, and must reject what it cannot route.

Text handling: header bytes are decoded as UTF-8 with ``surrogateescape`` so that any byte
sequence survives a parse/serialize round trip unchanged, and the values stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "COMPACT_FORMS", "Limits", "ParseError", "SipMessage", "SipUri", "Via",
    "parse_message", "parse_uri", "parse_via", "split_header_list",
]


class ParseError(ValueError):
    """The bytes are not a SIP message this front can route (garbage, too big, malformed).

    The only exception the parsing functions of this module raise on bad input.
    """


@dataclass(frozen=True)
class Limits:
    """Hard ceilings; anything above is refused before it costs memory or time."""

    max_message: int = 65_535      # the largest UDP datagram; also the TCP frame ceiling
    max_headers: int = 128         # header lines after unfolding
    max_line: int = 8_192          # one header (after unfolding) or the start line
    max_body: int = 60_000
    max_via: int = 32              # Via values: a longer path is a loop or an attack


DEFAULT_LIMITS = Limits()

# RFC 3261 section 7.3.3 and the IANA registry of compact forms.
COMPACT_FORMS = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact",
    "k": "Supported", "l": "Content-Length", "m": "Contact", "n": "Identity-Info",
    "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To", "u": "Allow-Events",
    "v": "Via", "x": "Session-Expires", "y": "Identity",
}

_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?$", re.IGNORECASE)
_MANDATORY = ("via", "call-id", "cseq", "from", "to")
_INT31 = 2**31 - 1


def canonical_name(name: str) -> str:
    """Lower-case long form of a header name, the key every lookup uses."""
    low = name.lower()
    if len(low) == 1:
        return COMPACT_FORMS.get(low, low).lower()
    return low


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quotes and ``<...>``.

    Used for Via, Route and Record-Route, whose values may be combined on one line
    (RFC 3261 section 7.3.1).
    """
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    angle = 0
    for ch in value:
        if quoted:
            buf.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "<":
            angle += 1
        elif ch == ">" and angle:
            angle -= 1
        elif ch == "," and not angle:
            parts.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if quoted or angle:
        raise ParseError("unterminated quote or angle bracket in header list")
    parts.append("".join(buf).strip())
    if any(not p for p in parts):
        raise ParseError("empty element in header list")
    return parts


def _split_params(text: str) -> list[tuple[str, str | None]]:
    params: list[tuple[str, str | None]] = []
    for raw in text.split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not name:
            raise ParseError("parameter without a name")
        params.append((name.lower(), value.strip() if sep else None))
    return params


def _host_port(text: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` -> (host, port or None)."""
    text = text.strip()
    if not text:
        raise ParseError("empty host")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ParseError("unterminated IPv6 reference")
        host, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise ParseError("junk after IPv6 reference")
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_raw = text.partition(":")
        port_text = port_text_raw if sep else None
    if not host or any(c.isspace() for c in host) or any(c in host for c in "<>@;,\"\\/"):
        raise ParseError(f"bad host {host!r}")
    if port_text is None:
        return host.lower(), None
    if not port_text.isdigit() or not port_text.isascii() or not 0 < int(port_text) < 65536:
        raise ParseError(f"bad port {port_text!r}")
    return host.lower(), int(port_text)


@dataclass(frozen=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=...;received=...;rport=...``."""

    transport: str
    host: str
    port: int | None
    params: tuple[tuple[str, str | None], ...] = ()

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value if value is not None else ""
        return None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.params)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    def response_address(self) -> tuple[str, int]:
        """Where a response for this hop goes (RFC 3261 18.2.2 with RFC 3581 rport)."""
        host = self.param("received") or self.host
        rport = self.param("rport")
        if rport and rport.isdigit() and 0 < int(rport) < 65536:
            return host, int(rport)
        return host, self.port or (5061 if self.transport == "TLS" else 5060)

    def with_params(self, **updates: str | None) -> Via:
        """A copy with parameters set (value None: a flag like bare ``rport``)."""
        params = [(k, v) for k, v in self.params if k not in updates]
        params.extend(updates.items())
        return Via(self.transport, self.host, self.port, tuple(params))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        sent_by = f"{host}:{self.port}" if self.port else host
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params)
        return f"SIP/2.0/{self.transport} {sent_by}{params}"


def parse_via(value: str) -> Via:
    """Parse one Via value (not a comma list)."""
    proto, sep, rest = value.strip().partition(" ")
    if not sep:
        raise ParseError("Via without sent-by")
    pieces = [p.strip() for p in proto.split("/")]
    if len(pieces) != 3 or pieces[0].upper() != "SIP" or pieces[1] != "2.0":
        raise ParseError(f"bad Via protocol {proto!r}")
    transport = pieces[2].upper()
    if not _TOKEN.match(transport):
        raise ParseError("bad Via transport")
    sent_by, _, params = rest.strip().partition(";")
    host, port = _host_port(sent_by)
    return Via(transport, host, port, tuple(_split_params(params)))


@dataclass(frozen=True)
class SipUri:
    """The routing-relevant parts of a ``sip:``/``sips:`` URI."""

    scheme: str
    user: str | None
    host: str
    port: int | None
    params: tuple[tuple[str, str | None], ...] = ()

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value if value is not None else ""
        return None


def parse_uri(text: str) -> SipUri:
    """Parse a SIP URI, bare or as a name-addr (``"Name" <sip:u@h:p;lr>;x=y``)."""
    text = text.strip()
    if "<" in text:
        start = text.index("<")
        end = text.find(">", start)
        if end < 0:
            raise ParseError("unterminated <uri>")
        text = text[start + 1:end].strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("sip", "sips"):
        raise ParseError(f"not a SIP URI: {text[:40]!r}")
    rest = rest.split("?", 1)[0]
    user: str | None = None
    if "@" in rest:
        user, _, rest = rest.rpartition("@")
    hostport, _, params = rest.partition(";")
    host, port = _host_port(hostport)
    return SipUri(scheme, user, host, port, tuple(_split_params(params)))


@dataclass
class SipMessage:
    """A parsed request or response, mutable so the proxy can rewrite its headers.

    ``headers`` keeps each line's name as written (compact or long) and its value; every
    lookup goes through :func:`canonical_name`, so ``v:`` and ``Via:`` are one header.
    """

    method: str | None = None          # requests
    uri: str | None = None
    status: int | None = None          # responses
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    # -- header access ---------------------------------------------------------------
    def get(self, name: str) -> str | None:
        """The first header ``name`` (any spelling), or None."""
        key = canonical_name(name)
        for hname, value in self.headers:
            if canonical_name(hname) == key:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        key = canonical_name(name)
        return [v for h, v in self.headers if canonical_name(h) == key]

    def values(self, name: str) -> list[str]:
        """All comma-separated elements of a list header (Via, Route, Record-Route)."""
        out: list[str] = []
        for value in self.get_all(name):
            out.extend(split_header_list(value))
        return out

    def set(self, name: str, value: str) -> None:
        """Replace the first header ``name`` (dropping the others), or append it."""
        key = canonical_name(name)
        out: list[tuple[str, str]] = []
        done = False
        for hname, old in self.headers:
            if canonical_name(hname) == key:
                if not done:
                    out.append((hname, value))
                    done = True
                continue
            out.append((hname, old))
        if not done:
            out.append((name, value))
        self.headers = out

    def remove(self, name: str) -> None:
        key = canonical_name(name)
        self.headers = [(h, v) for h, v in self.headers if canonical_name(h) != key]

    def prepend(self, name: str, value: str) -> None:
        """Insert a header before every other header of the same name (Via, Record-Route).

        Placed at the position of the first existing one so header order stays natural.
        """
        key = canonical_name(name)
        for i, (hname, _) in enumerate(self.headers):
            if canonical_name(hname) == key:
                self.headers.insert(i, (name, value))
                return
        self.headers.append((name, value))

    def pop_first_value(self, name: str) -> str | None:
        """Remove and return the first element of a list header (our Via, our Route)."""
        key = canonical_name(name)
        for i, (hname, value) in enumerate(self.headers):
            if canonical_name(hname) != key:
                continue
            parts = split_header_list(value)
            if len(parts) == 1:
                del self.headers[i]
            else:
                self.headers[i] = (hname, ", ".join(parts[1:]))
            return parts[0]
        return None

    def replace_first_value(self, name: str, new: str) -> None:
        key = canonical_name(name)
        for i, (hname, value) in enumerate(self.headers):
            if canonical_name(hname) == key:
                parts = split_header_list(value)
                parts[0] = new
                self.headers[i] = (hname, ", ".join(parts))
                return
        raise KeyError(name)

    # -- routing shortcuts --------------------------------------------------------------
    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """(number, method); validated at parse time."""
        num, _, method = (self.get("cseq") or "").strip().partition(" ")
        return int(num), method.strip().upper()

    def top_via(self) -> Via:
        vias = self.values("via")
        if not vias:
            raise ParseError("no Via")
        return parse_via(vias[0])

    def tag(self, header: str) -> str | None:
        """The ``tag`` parameter of From or To (outside the ``<uri>``)."""
        value = self.get(header) or ""
        if ">" in value:
            value = value.rsplit(">", 1)[1]
        elif ";" in value:
            # addr-spec form: params after the URI belong to the header, not the URI
            value = value.split(";", 1)[1]
            value = ";" + value
        for key, val in _split_params(value):
            if key == "tag":
                return val or None
        return None

    # -- serialization -----------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Wire form; Content-Length always present and equal to the body length."""
        if self.method is not None:
            start = f"{self.method} {self.uri} SIP/2.0"
        else:
            start = f"SIP/2.0 {self.status} {self.reason}".rstrip()
        lines = [start]
        for hname, value in self.headers:
            if canonical_name(hname) == "content-length":
                continue
            lines.append(f"{hname}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("utf-8", "surrogateescape") + self.body

    def copy(self) -> SipMessage:
        return SipMessage(self.method, self.uri, self.status, self.reason,
                          list(self.headers), self.body)


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return data[:crlf], data[crlf + 4:]
    if lf >= 0:
        return data[:lf], data[lf + 2:]
    # a datagram may end right after the last header line with no blank line
    return data, b""


def parse_message(data: bytes, limits: Limits = DEFAULT_LIMITS,
                  stream: bool = False) -> SipMessage:
    """Parse one complete SIP message.

    ``stream``: the bytes came from a stream framer, which already cut the body to
    ``Content-Length`` (so a missing one means an empty body). For a datagram, a present
    ``Content-Length`` must not exceed the bytes received (RFC 3261 18.3: extra bytes are
    discarded); an absent one means the rest of the datagram.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ParseError("not bytes")
    data = bytes(data)
    if len(data) > limits.max_message:
        raise ParseError("message too large")
    data = data.lstrip(b"\r\n")
    if not data:
        raise ParseError("empty message")
    raw_head, rest = _split_head(data)
    if b"\x00" in raw_head:
        raise ParseError("NUL in header section")
    text = raw_head.decode("utf-8", "surrogateescape")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0]
    if len(start) > limits.max_line:
        raise ParseError("start line too long")
    msg = _parse_start_line(start)
    msg.headers = _parse_headers(lines[1:], limits)
    _check_mandatory(msg, limits)
    msg.body = _take_body(msg, rest, limits, stream)
    return msg


def _parse_start_line(line: str) -> SipMessage:
    if line.upper().startswith("SIP/"):
        m = _STATUS_LINE.match(line)
        if not m:
            raise ParseError("bad status line")
        return SipMessage(status=int(m.group(1)), reason=(m.group(2) or "").strip())
    parts = line.split(" ")
    if len(parts) != 3:
        raise ParseError("bad request line")
    method, uri, version = parts
    if not _TOKEN.match(method) or version.upper() != "SIP/2.0":
        raise ParseError("bad request line")
    if not uri or any(c.isspace() for c in uri) or ":" not in uri:
        raise ParseError("bad Request-URI")
    return SipMessage(method=method.upper(), uri=uri)


def _parse_headers(lines: list[str], limits: Limits) -> list[tuple[str, str]]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not unfolded:
                raise ParseError("continuation line before any header")
            unfolded[-1] += " " + line.strip()
        elif line:
            unfolded.append(line)
        else:
            raise ParseError("empty line inside the header section")
        if len(unfolded) > limits.max_headers:
            raise ParseError("too many headers")
        if len(unfolded[-1]) > limits.max_line:
            raise ParseError("header line too long")
    headers: list[tuple[str, str]] = []
    for line in unfolded:
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.match(name):
            raise ParseError(f"bad header line {line[:40]!r}")
        headers.append((name, value.strip()))
    return headers


def _check_mandatory(msg: SipMessage, limits: Limits) -> None:
    present = {canonical_name(h) for h, _ in msg.headers}
    missing = [h for h in _MANDATORY if h not in present]
    if missing:
        raise ParseError(f"missing {', '.join(missing)}")
    if len(msg.get_all("call-id")) != 1 or not msg.call_id or " " in msg.call_id.strip():
        raise ParseError("bad Call-ID")
    num, _, method = (msg.get("cseq") or "").strip().partition(" ")
    if not num.isdigit() or not num.isascii() or int(num) > _INT31:
        raise ParseError("bad CSeq number")
    method = method.strip().upper()
    if not _TOKEN.match(method or "-") or not method:
        raise ParseError("bad CSeq method")
    if msg.method is not None and method != msg.method:
        raise ParseError("CSeq method differs from the request method")
    vias = msg.values("via")
    if len(vias) > limits.max_via:
        raise ParseError("too many Via values")
    for via in vias:
        parse_via(via)
    if msg.method is not None:
        mf = msg.get("max-forwards")
        if mf is not None and (not mf.strip().isdigit() or not mf.strip().isascii()
                               or int(mf) > 255):
            raise ParseError("bad Max-Forwards")
        parse_uri(msg.uri or "")


def _take_body(msg: SipMessage, rest: bytes, limits: Limits, stream: bool) -> bytes:
    values = msg.get_all("content-length")
    if not values:
        return b"" if stream else rest
    if len({v.strip() for v in values}) != 1:
        raise ParseError("conflicting Content-Length headers")
    value = values[0].strip()
    if not value.isdigit() or not value.isascii() or len(value) > 9:
        raise ParseError("bad Content-Length")
    length = int(value)
    if length > limits.max_body:
        raise ParseError("body too large")
    if length > len(rest):
        raise ParseError("Content-Length larger than the data")
    return rest[:length]

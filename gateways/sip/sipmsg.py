"""Just enough SIP message parsing for a worker to describe an inbound INVITE.

pjsua2 hands the application the raw INVITE text (``SipRxData.wholeMsg``); the control
process wants the request-URI user (the dialled number, DNIS) and the headers that
routing and CRM screen-pops use (``X-*``, ``P-Asserted-Identity``, ``Diversion``,
``User-to-User``...). This parser is deliberately forgiving and bounded: it never raises
on odd input (the SIP stack already accepted the message), caps the number and size of
headers it returns, and expands the compact header forms of RFC 3261 section 7.3.3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HEADERS = 64
MAX_VALUE = 1024

COMPACT = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
}


@dataclass(frozen=True)
class RequestHead:
    method: str = ""
    uri: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None


def parse_request_head(text: str) -> RequestHead:
    """Request line and headers (folded lines joined; repeats joined with ", ")."""
    head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    if not lines:
        return RequestHead()
    parts = lines[0].split()
    method, uri = (parts[0], parts[1]) if len(parts) >= 3 else ("", "")
    unfolded: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line:
            unfolded.append(line)
    headers: dict[str, str] = {}
    canon: dict[str, str] = {}
    for line in unfolded:
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or " " in name:
            continue
        name = COMPACT.get(name.lower(), name) if len(name) == 1 else name
        key = canon.setdefault(name.lower(), name)
        value = value.strip()[:MAX_VALUE]
        if key in headers:
            headers[key] = (headers[key] + ", " + value)[:MAX_VALUE]
        elif len(headers) < MAX_HEADERS:
            headers[key] = value
    return RequestHead(method, uri, headers)


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:1000@host;x=y`` -> ``1000``), or ''."""
    uri = uri.strip()
    if "<" in uri and ">" in uri:
        uri = uri[uri.index("<") + 1:uri.index(">")]
    for scheme in ("sips:", "sip:", "tel:"):
        if uri.lower().startswith(scheme):
            uri = uri[len(scheme):]
            break
    else:
        return ""
    if "@" in uri:
        return uri.split("@", 1)[0].split(";", 1)[0]
    # tel:+1555;phone-context=... has no host part
    return uri.split(";", 1)[0] if scheme == "tel:" else ""

"""Where a call goes: dialled number -> tenant and entry point; agent device -> SIP URI.

Sans-I/O: plain functions over the tenants' settings and the trunk settings, so the rules
are testable without a media plane.

DNIS
----
Each tenant lists its numbers (``tenants[t].dnis``)::

    "2000": {"queue": "sales"}
    "1000": {"ivr": "demo-main", "queue": "support", "greeting": "welcome"}

A number belongs to at most one tenant; when two tenants claim the same number the first
tenant in id order wins (and the clash is logged by the gateway). The request-URI user
is matched as dialled, then without a leading ``+``.

Devices
-------
An agent logs in with a device: a ``sip:`` URI is dialled as is; a ``tel:`` number goes
through the configured trunk (``uri_template`` with ``{number}``); ``webrtc`` needs the
browser softphone, which this gateway does not host, so such an offer is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")


@dataclass(frozen=True)
class Entry:
    """What a dialled number leads to inside one tenant."""

    tenant: str
    dnis: str
    queue: str | None = None
    ivr: str | None = None
    greeting: str | None = None


def resolve_dnis(tenants: Mapping[str, Any], dnis: str) -> Entry | None:
    """The entry serving ``dnis``; ``tenants`` maps id -> object or dict with ``dnis``."""
    candidates = [dnis]
    if dnis.startswith("+"):
        candidates.append(dnis[1:])
    for tid in sorted(tenants):
        t = tenants[tid]
        table = t.get("dnis") if isinstance(t, Mapping) else getattr(t, "dnis", None)
        for number in candidates:
            spec = (table or {}).get(number)
            if spec:
                spec = spec if isinstance(spec, Mapping) else dict(spec)
                return Entry(tid, number, spec.get("queue"), spec.get("ivr"),
                             spec.get("greeting"))
    return None


def dnis_clashes(tenants: Mapping[str, Any]) -> dict[str, list[str]]:
    """Numbers claimed by more than one tenant (number -> tenant ids)."""
    owners: dict[str, list[str]] = {}
    for tid in sorted(tenants):
        t = tenants[tid]
        table = t.get("dnis") if isinstance(t, Mapping) else getattr(t, "dnis", None)
        for number in table or {}:
            owners.setdefault(number, []).append(tid)
    return {n: ts for n, ts in owners.items() if len(ts) > 1}


def uri_user(uri: str) -> str:
    """``"Bob" <sip:+1555@host;tag=x>`` -> ``+1555`` (empty when there is none)."""
    m = re.search(r"<([^>]*)>", uri)
    inner = m.group(1) if m else uri
    inner = inner.split(";", 1)[0]
    if ":" in inner:
        inner = inner.split(":", 1)[1]
    if "@" not in inner:
        return ""
    return inner.split("@", 1)[0]


class DialError(Exception):
    """A device or number cannot be dialled; ``code`` is stable (``no_trunk``,
    ``webrtc_unsupported``, ``bad_device``, ``bad_number``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def number_uri(number: str, trunk: Any) -> str:
    """The SIP URI reaching ``number`` through ``trunk`` (settings with uri_template)."""
    number = number.strip()
    if number.startswith("tel:"):
        number = number[4:].split(";", 1)[0]
    number = number.replace("-", "").replace(" ", "")
    if not _NUMBER.match(number):
        raise DialError("bad_number", f"not a phone number: {number!r}")
    if trunk is None:
        raise DialError("no_trunk", "no SIP trunk is configured (server.sip.trunk)")
    return str(trunk.uri_template).replace("{number}", number)


def device_uri(device: str | None, trunk: Any) -> str:
    """The SIP URI to ring an agent's device."""
    if not device:
        raise DialError("bad_device", "the agent has no device")
    if device.startswith(("sip:", "sips:")):
        return device
    if device.startswith("tel:"):
        return number_uri(device, trunk)
    if device == "webrtc":
        raise DialError("webrtc_unsupported",
                        "webrtc devices need the browser softphone, which is not built")
    raise DialError("bad_device", f"cannot dial device {device!r}")


def transfer_uri(to: str, target: str, trunk: Any, agent_device: str | None = None) -> str:
    """The URI for a transfer or consult target of kind ``to`` (agent or number)."""
    if to == "agent":
        return device_uri(agent_device, trunk)
    if to == "number":
        return number_uri(target, trunk)
    raise DialError("bad_target", f"cannot dial a {to!r} target")

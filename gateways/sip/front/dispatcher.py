"""The front's brain: a stateless SIP proxy (RFC 3261 16.11) with Call-ID affinity.

Sans-I/O: ``Dispatcher.handle(data, source, now, transport)`` takes one datagram (or one
framed stream message) and returns the packets to send as :class:`Send` values. It never
raises: garbage is counted and dropped, and the next packet is served as if nothing
happened.

Routing rules (docs/sip-front.md has the why):

* New INVITE (no To tag): the injected chooser picks a worker with free capacity
  (``choose(call_id) -> (host, port) | None``); None means the pool is full and the front
  answers ``503`` with ``Retry-After`` itself. Otherwise the front answers ``100 Trying``
  at once (the caller stops retransmitting; sipp's uac expects it), remembers
  Call-ID -> worker, adds a Record-Route (two when the caller uses TCP: RFC 5658 style
  double record-routing, one URI per transport) and forwards.
* In-dialog requests (To tag), ACK and CANCEL: routed by Call-ID affinity -- to the worker
  when they come from the caller side, to the caller's address when they come from the
  worker. Record-Route makes real UAs send them through the front; affinity is what
  routes them, so UAs that ignore Record-Route (sipp's uac sends ACK/BYE to the front
  anyway) work too, and a hostile Route header cannot make the front relay anywhere.
  Unknown dialog: ``481`` (ACK: dropped, nothing answers an ACK).
* Every forwarded request gets Max-Forwards decremented (``483`` at zero) and a Via whose
  branch is a hash of the incoming top Via branch, so a retransmission or a CANCEL gets
  the same branch as the original INVITE without the front keeping transaction state.
* Responses: the top Via must be ours (our host:port and branch prefix); it is popped and
  the response goes to the next Via's ``received``/``rport`` (RFC 3581). Workers' 100 to
  INVITE is dropped (the caller already had ours).
* Out-of-dialog OPTIONS: answered ``200`` by the front itself (health checks, including
  Kamailio's probing). Other out-of-dialog non-INVITE methods: ``405`` -- the media workers
  are user agents for calls, not registrars or presence servers.

The chooser may also have ``release(call_id, worker)``; the front calls it once per dialog
when the dialog ends (BYE, rejected INVITE, expiry), so a pool can free the slot.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .affinity import Address, AffinityTable, Dialog
from .message import (
    DEFAULT_LIMITS,
    Limits,
    ParseError,
    SipMessage,
    Via,
    parse_message,
    parse_uri,
    parse_via,
)

__all__ = ["BRANCH_PREFIX", "Chooser", "Dispatcher", "Send"]

log = logging.getLogger(__name__)

BRANCH_PREFIX = "z9hG4bK-ipf"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY"
DEFAULT_MAX_FORWARDS = 70


@dataclass(frozen=True)
class Send:
    """A packet for the I/O layer: ``transport`` is ``udp`` or ``tcp`` (existing conn)."""

    dest: Address
    data: bytes
    transport: str = "udp"


@runtime_checkable
class Chooser(Protocol):
    """Picks a worker for a new dialog; None when every worker is full."""

    def choose(self, call_id: str) -> Address | None: ...


class Dispatcher:
    """Stateless proxy core. ``host``/``port``: the address the front advertises in Via
    and Record-Route (and answers for); ``aliases``: other host names meaning "us"."""

    def __init__(self, host: str, port: int, chooser: Chooser, *, retry_after: int = 5,
                 setup_timeout: float = 300.0, idle_timeout: float = 4 * 3600.0,
                 linger: float = 32.0, max_dialogs: int = 100_000,
                 limits: Limits = DEFAULT_LIMITS, secret: bytes = b"",
                 aliases: tuple[str, ...] = (), server: str = "ipcc-front") -> None:
        self.host = host
        self.port = port
        self.chooser = chooser
        self.retry_after = retry_after
        self.limits = limits
        self.secret = secret
        self.server = server
        self.aliases = {host.lower(), *(a.lower() for a in aliases)}
        self.dialogs = AffinityTable(setup_timeout=setup_timeout, idle_timeout=idle_timeout,
                                     linger=linger, max_dialogs=max_dialogs,
                                     on_release=self._release)
        self.counters: Counter[str] = Counter()

    # -- public ------------------------------------------------------------------------
    def handle(self, data: bytes, source: Address, now: float,
               transport: str = "udp") -> list[Send]:
        """One inbound message -> packets to send. Never raises."""
        self.counters["received"] += 1
        try:
            self.dialogs.expire(now)
            msg = parse_message(data, self.limits, stream=transport != "udp")
            if msg.is_request:
                return self._on_request(msg, source, now, transport)
            return self._on_response(msg, source, now)
        except ParseError as exc:
            self.counters["dropped_malformed"] += 1
            log.debug("dropped malformed message from %s: %s", source, exc)
        except Exception:  # the front must keep serving whatever one packet does
            self.counters["dropped_internal_error"] += 1
            log.exception("internal error on a message from %s", source)
        return []

    def expire(self, now: float) -> None:
        """Drop affinity entries whose time is up (the I/O layer calls this on a timer)."""
        self.dialogs.expire(now)

    def stats(self) -> dict[str, Any]:
        return {**self.counters, "dialogs": len(self.dialogs),
                "live_dialogs": self.dialogs.live_count()}

    def is_us(self, host: str, port: int | None) -> bool:
        return host.lower() in self.aliases and (port or 5060) == self.port

    # -- requests ------------------------------------------------------------------------
    def _on_request(self, msg: SipMessage, source: Address, now: float,
                    transport: str) -> list[Send]:
        self._stamp_received(msg, source, transport)
        method = msg.method or ""
        mf_text = msg.get("max-forwards")
        max_forwards = int(mf_text) if mf_text is not None else DEFAULT_MAX_FORWARDS
        to_tag = msg.tag("to")
        if method == "OPTIONS" and to_tag is None:
            return self._reply(msg, source, transport, 200, "OK",
                               [("Allow", ALLOW), ("Accept", "application/sdp")])
        if max_forwards <= 0:
            if method == "ACK":
                return self._drop("ack_too_many_hops")
            return self._reply(msg, source, transport, 483, "Too Many Hops")
        self._pop_own_routes(msg)
        dialog = self.dialogs.get(msg.call_id, now)
        if method == "INVITE" and to_tag is None:
            return self._on_new_invite(msg, dialog, source, now, transport, max_forwards)
        if method in ("ACK", "CANCEL") or to_tag is not None:
            if dialog is None:
                if method == "ACK":
                    return self._drop("ack_without_dialog")
                return self._reply(msg, source, transport, 481,
                                   "Call/Transaction Does Not Exist")
            if method == "BYE":
                self.dialogs.apply(dialog, "bye", now)
            else:
                self.dialogs.touch(dialog, now)
            return self._forward_in_dialog(msg, dialog, source, transport, max_forwards)
        return self._reply(msg, source, transport, 405, "Method Not Allowed",
                           [("Allow", ALLOW)])

    def _on_new_invite(self, msg: SipMessage, dialog: Dialog | None, source: Address,
                       now: float, transport: str, max_forwards: int) -> list[Send]:
        cseq, _ = msg.cseq
        retransmission = dialog is not None and (
            dialog.state != "ending" or dialog.invite_cseq == cseq)
        if dialog is not None and retransmission:
            worker = dialog.worker
        else:
            if self.dialogs.full:
                self.counters["rejected_table_full"] += 1
                return self._reply_unavailable(msg, source, transport)
            try:
                choice = self.chooser.choose(msg.call_id)
            except Exception:
                log.exception("chooser.choose(%r) failed", msg.call_id)
                choice = None
            if choice is None:
                self.counters["rejected_pool_full"] += 1
                return self._reply_unavailable(msg, source, transport)
            worker = (str(choice[0]), int(choice[1]))
            if self.is_us(*worker):
                self.counters["dropped_loop"] += 1
                log.error("chooser returned the front's own address %s", worker)
                self._release_choice(msg.call_id, worker)
                return self._reply(msg, source, transport, 500, "Server Internal Error")
            self.dialogs.open(msg.call_id, worker, source, transport, cseq, now)
            self.counters["dialogs_opened"] += 1
        out = self._reply(msg, source, transport, 100, "Trying")
        fwd = msg.copy()
        fwd.set("Max-Forwards", str(max_forwards - 1))
        if transport != "udp":
            fwd.prepend("Record-Route", f"<sip:{self._hostport()};transport={transport};lr>")
        fwd.prepend("Record-Route", f"<sip:{self._hostport()};lr>")
        out.append(self._forward_request(fwd, msg, worker, "udp"))
        return out

    def _forward_in_dialog(self, msg: SipMessage, dialog: Dialog, source: Address,
                           transport: str, max_forwards: int) -> list[Send]:
        fwd = msg.copy()
        fwd.set("Max-Forwards", str(max_forwards - 1))
        if source == dialog.worker and transport == "udp":
            dest, out_transport = dialog.client, dialog.client_transport
            self.counters["forwarded_to_caller"] += 1
        else:
            dest, out_transport = dialog.worker, "udp"
        return [self._forward_request(fwd, msg, dest, out_transport)]

    def _forward_request(self, fwd: SipMessage, orig: SipMessage, dest: Address,
                         transport: str) -> Send:
        via = Via(transport.upper(), self.host, self.port,
                  (("branch", self._branch(orig)),))
        fwd.prepend("Via", str(via))
        self.counters["forwarded_requests"] += 1
        return Send(dest, fwd.to_bytes(), transport)

    def _stamp_received(self, msg: SipMessage, source: Address, transport: str) -> None:
        """RFC 3261 18.2.1 ``received`` and RFC 3581 ``rport`` on the top Via.

        Over TCP both are always set: the response must find its way back to the very
        connection (source port) the request came on, and the front keeps no transaction.
        """
        top = msg.top_via()
        updates: dict[str, str | None] = {}
        if top.host != source[0] or transport != "udp" or top.has("rport"):
            updates["received"] = source[0]
        if top.has("rport") or transport != "udp":
            updates["rport"] = str(source[1])
        if updates:
            msg.replace_first_value("via", str(top.with_params(**updates)))

    def _pop_own_routes(self, msg: SipMessage) -> None:
        """Loose routing (RFC 3261 16.4): remove the Route entries naming the front."""
        while True:
            routes = msg.values("route")
            if not routes:
                return
            uri = parse_uri(routes[0])
            if not self.is_us(uri.host, uri.port):
                return
            msg.pop_first_value("route")

    def _branch(self, orig: SipMessage) -> str:
        """Deterministic branch (RFC 3261 16.11): same input branch -> same output branch.

        A CANCEL carries its INVITE's branch, so it maps to the branch the worker saw on
        the INVITE. The hash is keyed with the front's secret and covers only what the
        response will carry in the next Via (plus Call-ID, From tag and CSeq number for
        pre-RFC 3261 branches), so :meth:`_on_response` can recompute it: a response with
        a forged front Via is dropped instead of being reflected to its next Via.
        """
        num, _ = orig.cseq
        return self._branch_for(orig.top_via(), orig.call_id, orig.tag("from"), num)

    def _branch_for(self, via: Via, call_id: str, from_tag: str | None, num: int) -> str:
        branch = via.branch or ""
        if branch.startswith("z9hG4bK"):
            key = f"{branch}|{via.host}|{via.port}"
        else:
            key = f"{call_id}|{from_tag or ''}|{num}|{via.host}|{via.port}|{branch}"
        digest = hashlib.sha256(self.secret + key.encode("utf-8", "surrogateescape"))
        return BRANCH_PREFIX + digest.hexdigest()[:24]

    # -- responses -----------------------------------------------------------------------
    def _on_response(self, msg: SipMessage, source: Address, now: float) -> list[Send]:
        top = msg.top_via()
        if not (self.is_us(top.host, top.port) and (top.branch or "").startswith(BRANCH_PREFIX)):
            return self._drop("response_not_ours")
        msg.pop_first_value("via")
        vias = msg.values("via")
        if not vias:
            return self._drop("response_without_next_via")
        nxt = parse_via(vias[0])
        status = msg.status or 0
        num, method = msg.cseq
        if top.branch != self._branch_for(nxt, msg.call_id, msg.tag("from"), num):
            return self._drop("response_forged")
        dialog = self.dialogs.get(msg.call_id, now)
        if dialog is not None:
            if method == "INVITE" and 200 <= status < 300:
                self.dialogs.apply(dialog, "answered", now)
            elif (method == "INVITE" and status >= 300 and dialog.state == "early"
                  and num == dialog.invite_cseq):
                self.dialogs.apply(dialog, "rejected", now)
            elif method == "BYE" and status >= 200:
                self.dialogs.apply(dialog, "bye", now)
            else:
                self.dialogs.touch(dialog, now)
            if status == 100 and method == "INVITE" and source == dialog.worker:
                return self._drop("worker_trying")
        transport = "tcp" if nxt.transport == "TCP" else "udp"
        self.counters["forwarded_responses"] += 1
        return [Send(nxt.response_address(), msg.to_bytes(), transport)]

    # -- local answers -----------------------------------------------------------------------
    def _reply_unavailable(self, msg: SipMessage, source: Address,
                           transport: str) -> list[Send]:
        return self._reply(msg, source, transport, 503, "Service Unavailable",
                           [("Retry-After", str(self.retry_after))])

    def _reply(self, msg: SipMessage, source: Address, transport: str, status: int,
               reason: str, extra: list[tuple[str, str]] | None = None) -> list[Send]:
        """A response generated by the front (RFC 3261 8.2.6), sent statelessly."""
        if msg.method == "ACK":
            return []
        headers: list[tuple[str, str]] = [("Via", v) for v in msg.values("via")]
        to = msg.get("to") or ""
        if status > 100 and msg.tag("to") is None:
            to += ";tag=" + self._local_tag(msg)
        headers += [("From", msg.get("from") or ""), ("To", to),
                    ("Call-ID", msg.call_id), ("CSeq", msg.get("cseq") or "")]
        if status == 100 and msg.get("timestamp") is not None:
            headers.append(("Timestamp", msg.get("timestamp") or ""))
        headers += list(extra or [])
        headers.append(("Server", self.server))
        resp = SipMessage(status=status, reason=reason, headers=headers)
        self.counters[f"replied_{status}"] += 1
        if transport != "udp":
            dest = source  # the connection the request came on
        else:
            dest = msg.top_via().response_address()
        return [Send(dest, resp.to_bytes(), transport)]

    def _local_tag(self, msg: SipMessage) -> str:
        """Same request (retransmission) -> same To tag, without keeping state."""
        key = f"{msg.call_id}|{msg.top_via().branch}|{msg.tag('from')}"
        return hashlib.sha256(self.secret + key.encode("utf-8", "surrogateescape")
                              ).hexdigest()[:16]

    # -- helpers ---------------------------------------------------------------------------
    def _hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def _drop(self, reason: str) -> list[Send]:
        self.counters[f"dropped_{reason}"] += 1
        return []

    def _release(self, dialog: Dialog) -> None:
        self.counters["dialogs_released"] += 1
        self._release_choice(dialog.call_id, dialog.worker)

    def _release_choice(self, call_id: str, worker: Address) -> None:
        release = getattr(self.chooser, "release", None)
        if release is None:
            return
        try:
            release(call_id, worker)
        except Exception:
            log.exception("chooser.release(%r, %r) failed", call_id, worker)

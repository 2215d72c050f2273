"""The pjsua2 side of a media worker: call legs, players, recorders, the bridge.

Only the worker process imports this module (it imports pjsua2). Everything here runs on
the worker's one thread: pjsua2 is configured with ``threadCnt = 0`` and
``mainThreadOnly = True``, and :meth:`MediaEngine.poll` (called every few ms from the
worker's asyncio loop) runs ``libHandleEvents``, inside which pjsua2 invokes the
callbacks below. Callbacks therefore never block and never destroy pjsua2 objects; they
record facts and queue clean-up for the end of ``poll``.

Decisions live in the sans-I/O helpers: :mod:`legstate` (what a leg may do next),
:mod:`mixer` (who hears whom), :mod:`dtmf` (digit collection). This module translates
them into pjsua2 calls and turns pjsua2 callbacks into protocol events through ``emit``.

Errors from primitives are :class:`MediaError` with a stable code (see
docs/media-protocol.md); pjsua2's own ``Error`` becomes code ``sip_error``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pjsua2 as pj

from . import legstate, ports
from .dtmf import DtmfResult, LegDigits
from .legstate import IllegalTransition, LegState
from .mixer import Edge, Mixer, MixError, Node, Recording
from .ports import MediaError, pj_message
from .sipmsg import parse_request_head, uri_user

log = logging.getLogger(__name__)

Emit = Callable[..., None]

MAX_LEGS = 4                    # the pjsua2 wheel's compile-time PJSUA_MAX_CALLS
MAX_IDENTITIES = 5              # extra accounts for originate(from=...); pjsua allows 8
_MEDIA_OK = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
             pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
_DTMF_METHODS = {"rfc2833": pj.PJSUA_DTMF_METHOD_RFC2833,
                 "rfc4733": pj.PJSUA_DTMF_METHOD_RFC2833,
                 "info": pj.PJSUA_DTMF_METHOD_SIP_INFO}


#: Headers that describe the SIP transaction/dialog rather than the call; leg_incoming
#: carries the others (X-*, P-Asserted-Identity, Diversion, User-to-User, ...).
_DIALOG_HEADERS = frozenset({
    "via", "from", "to", "call-id", "cseq", "contact", "content-type", "content-length",
    "max-forwards", "allow", "allow-events", "supported", "require", "proxy-require",
    "route", "record-route", "user-agent", "session-expires", "min-se", "accept",
    "accept-encoding", "accept-language", "expires", "content-disposition"})


@dataclass
class Leg:
    id: str
    call: Any                       # _Call (pj.Call subclass)
    direction: str                  # "in" | "out"
    state: LegState
    account: Any
    audio: Any = None               # pj.AudioMedia once media is up
    media_index: int = -1
    hangup_by: str | None = None    # "local" once we hung up
    digits: LegDigits = field(default_factory=LegDigits)
    last_stats: dict[str, Any] | None = None
    announced: bool = True          # False for calls refused before leg_incoming


@dataclass
class Play:
    id: str
    leg: str
    port: Any                       # AudioMediaPlayer | ToneGenerator
    kind: str                       # "file" | "tone" | "moh"
    loop: bool
    done: bool = False


@dataclass
class Recorder:
    id: str
    path: str
    port: Any                       # AudioMediaRecorder


class _Call(pj.Call):  # type: ignore[misc]
    """Forwards pjsua2 callbacks for one leg to the engine by leg id."""

    def __init__(self, engine: MediaEngine, account: Any, leg_id: str,
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.engine = engine
        self.leg_id = leg_id

    # An exception escaping a SWIG director callback would unwind through pjsua's C
    # code; log it here instead and keep the worker serving its other legs.

    def onCallState(self, prm: Any) -> None:
        try:
            self.engine._on_call_state(self.leg_id)
        except Exception:
            log.exception("leg %s: onCallState", self.leg_id)

    def onCallMediaState(self, prm: Any) -> None:
        try:
            self.engine._on_media_state(self.leg_id)
        except Exception:
            log.exception("leg %s: onCallMediaState", self.leg_id)

    def onDtmfDigit(self, prm: Any) -> None:
        try:
            method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
            self.engine._on_dtmf(self.leg_id, prm.digit, method)
        except Exception:
            log.exception("leg %s: onDtmfDigit", self.leg_id)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, engine: MediaEngine) -> None:
        super().__init__()
        self.engine = engine

    def onIncomingCall(self, prm: Any) -> None:
        try:
            self.engine._on_incoming(self, prm)
        except Exception:
            log.exception("incoming call")


def rtp_port_base(sip_port: int) -> int:
    """First RTP port a worker tries: one of 1000 windows of 40 ports in 20000-59999."""
    return 20000 + (sip_port % 1000) * 40


class MediaEngine:
    """One pjsua2 endpoint with its legs; primitives are methods, facts go to ``emit``."""

    def __init__(self, worker_id: str, emit: Emit, *, sip_port: int, host: str = "127.0.0.1",
                 tcp: bool = True, max_legs: int = MAX_LEGS, moh_file: str | None = None,
                 stats_interval: float = 0.0) -> None:
        self.worker_id = worker_id
        self.emit = emit
        self.sip_port = sip_port
        self.host = host
        self.tcp = tcp
        self.max_legs = max_legs
        self.moh_file = moh_file
        self.stats_interval = stats_interval
        self.accepting = True
        self.legs: dict[str, Leg] = {}
        self.plays: dict[str, Play] = {}
        self.recorders: dict[str, Recorder] = {}
        self.mixer = Mixer()
        self._applied: dict[Edge, tuple[int, int]] = {}
        self._ids = itertools.count(1)
        self._ended: list[Leg] = []     # disconnected legs, destroyed after the callback
        self._refused: list[Any] = []   # calls we turned away (draining / full)
        self._identities: dict[str, Any] = {}
        self._next_stats = 0.0
        self._load = -1
        self._now = 0.0
        self.ep: Any = None
        self.account: Any = None
        self.transports: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.ep, self.transports = ports.create_endpoint(
            self.worker_id, self.sip_port, self.host, self.tcp, self.max_legs, self)
        self.account = self._make_account(f"sip:media-{self.worker_id}@{self.host}:"
                                          f"{self.sip_port}")

    def _make_account(self, uri: str) -> Any:
        acfg = pj.AccountConfig()
        acfg.idUri = uri
        # RTP ports: pjsua scans upwards from one base (4000 by default) with a bounded
        # number of retries, so dozens of workers on one host starting from the same base
        # run out of retries ("Address already in use" on originate). Each worker starts
        # from its own 40-port window instead (derived from its SIP port).
        acfg.mediaConfig.transportConfig.port = rtp_port_base(self.sip_port)
        acc = _Account(self)
        acc.create(acfg)
        return acc

    def shutdown(self, grace_ms: int = 1000) -> None:
        """Hang up everything, let BYEs go out, destroy objects, then the library."""
        if self.ep is None:
            return
        for leg in list(self.legs.values()):
            if leg.state in legstate.LIVE:
                self._hangup_call(leg, 503 if leg.state is LegState.INCOMING else None)
        waited = 0
        while any(leg.state is not LegState.ENDED for leg in self.legs.values()) \
                and waited < grace_ms:
            self.ep.libHandleEvents(20)
            self._after_events(self._now)
            waited += 20
        self._applied.clear()
        self.plays.clear()
        self.recorders.clear()      # destroying a recorder writes the WAV header sizes
        self.legs.clear()
        self._ended.clear()
        self._refused.clear()
        for acc in [self.account, *self._identities.values()]:
            try:
                acc.shutdown()
            except pj.Error:
                pass
        self._identities.clear()
        self.account = None
        # Calls are over and their BYEs went out above; NO_NETWORK skips pjsua's fixed
        # one-second wait for unregistrations we never made.
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        self.ep = None

    # ------------------------------------------------------------------ the poll

    def poll(self, now: float) -> None:
        """Run pjsua2's event processing once, then the deferred work; never blocks."""
        self.ep.libHandleEvents(0)
        self._after_events(now)

    def _after_events(self, now: float) -> None:
        self._ended.clear()             # drops the last reference to ended Call objects
        self._refused = [c for c in self._refused if c.isActive()]
        for play in list(self.plays.values()):
            if not play.loop and not play.done:
                if play.kind == "tone":
                    play.done = not play.port.isBusy()
                else:
                    play.done = play.port.eof
            if play.done:
                self._end_play(play.id, "done")
        for leg in list(self.legs.values()):
            if leg.digits.deadline is not None:
                result = leg.digits.poll(now)
                if result is not None:
                    self._collected(leg.id, result)
        if self.stats_interval > 0 and now >= self._next_stats:
            self._next_stats = now + self.stats_interval
            for leg in list(self.legs.values()):
                if leg.state in (LegState.ANSWERED, LegState.HELD) and leg.audio is not None:
                    try:
                        self.emit("media_stats", **self.stats(leg.id))
                    except MediaError as exc:   # stream mid-renegotiation: next time
                        log.debug("worker %s: stats of %s: %s", self.worker_id, leg.id, exc)
        self._report_load()

    def live_legs(self) -> int:
        return sum(1 for leg in self.legs.values() if leg.state is not LegState.ENDED
                   and leg.announced)

    def _report_load(self) -> None:
        n = self.live_legs()
        if n != self._load:
            self._load = n
            self.emit("worker_load", legs=n, max=self.max_legs, accepting=self.accepting)

    def _new_id(self, kind: str) -> str:
        return f"{self.worker_id}-{kind}{next(self._ids)}"

    # ------------------------------------------------------------------ pjsua2 callbacks

    def _on_incoming(self, account: Any, prm: Any) -> None:
        leg_id = self._new_id("L")
        call = _Call(self, account, leg_id, prm.callId)
        leg = Leg(leg_id, call, "in", LegState.INCOMING, account)
        if not self.accepting:
            leg.announced = False
            self._refused.append(call)
            op = pj.CallOpParam()
            op.statusCode = 503
            call.hangup(op)
            return
        self.legs[leg_id] = leg
        ci = call.getInfo()
        head = parse_request_head(prm.rdata.wholeMsg)
        self.emit("leg_incoming", leg=leg_id, **{"from": ci.remoteUri}, to=ci.localUri,
                  dnis=uri_user(head.uri), request_uri=head.uri, call_id=ci.callIdString,
                  source=prm.rdata.srcAddress,
                  headers={k: v for k, v in head.headers.items()
                           if k.lower() not in _DIALOG_HEADERS})
        self._report_load()

    def _on_call_state(self, leg_id: str) -> None:
        leg = self.legs.get(leg_id)
        if leg is None:
            return
        ci = leg.call.getInfo()
        st = ci.state
        if st == pj.PJSIP_INV_STATE_EARLY and leg.direction == "out":
            self._advance(leg, "progress")
            self.emit("leg_ringing", leg=leg_id, code=ci.lastStatusCode,
                      reason=ci.lastReason)
        elif st == pj.PJSIP_INV_STATE_CONFIRMED:
            if leg.state not in (LegState.ANSWERED, LegState.HELD, LegState.ENDING):
                self._advance(leg, "confirmed")
                self.emit("leg_answered", leg=leg_id)
        elif st == pj.PJSIP_INV_STATE_DISCONNECTED:
            by = leg.hangup_by or "remote"
            self._advance(leg, "disconnected")
            result = leg.digits.cancel("hangup")
            if result is not None:
                self._collected(leg_id, result)
            self._forget_media(leg_id)
            self.emit("leg_hungup", leg=leg_id, code=ci.lastStatusCode, reason=ci.lastReason,
                      by=by, duration=round(ci.connectDuration.sec
                                            + ci.connectDuration.msec / 1000, 3),
                      stats=leg.last_stats)
            # Out of the table now (a primitive on it must fail), but the Call object
            # lives until this callback has returned: pjsua2 is still using it.
            self._ended.append(leg)
            if self.legs.get(leg_id) is leg:
                del self.legs[leg_id]
            self._report_load()

    def _on_media_state(self, leg_id: str) -> None:
        leg = self.legs.get(leg_id)
        if leg is None:
            return
        ci = leg.call.getInfo()
        audio, index = None, -1
        for i, mi in enumerate(ci.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status in _MEDIA_OK:
                try:
                    audio, index = leg.call.getAudioMedia(i), i
                except pj.Error:
                    continue
                break
        # pjsua may have replaced the conference slot (re-INVITE): edges on the old
        # slot are gone, so forget them and let sync re-apply on the new one.
        self._drop_applied(("leg", leg_id))
        leg.audio, leg.media_index = audio, index
        if audio is None:
            self.mixer.media_up.discard(leg_id)
        else:
            self.mixer.media_up.add(leg_id)
        self._sync()

    def _on_dtmf(self, leg_id: str, digit: str, method: str) -> None:
        leg = self.legs.get(leg_id)
        if leg is None:
            return
        self.emit("dtmf", leg=leg_id, digit=digit, method=method)
        result = leg.digits.digit(digit, self._now)
        if result is not None:
            self._collected(leg_id, result)

    def set_time(self, now: float) -> None:
        """The worker's clock reading, used for digit deadlines set inside callbacks."""
        self._now = now

    # ------------------------------------------------------------------ helpers

    def _leg(self, leg_id: Any, live: bool = True) -> Leg:
        leg = self.legs.get(leg_id) if isinstance(leg_id, str) else None
        if leg is None or (live and leg.state not in legstate.LIVE):
            raise MediaError("no_such_leg", f"no live leg {leg_id!r} on {self.worker_id}")
        return leg

    def _move(self, leg: Leg, event: str) -> None:
        try:
            new = legstate.next_state(leg.state, event)
        except IllegalTransition as exc:
            raise MediaError("bad_state", f"leg {leg.id}: {exc}") from None
        if new is not leg.state:
            log.debug("leg %s: %s -> %s (%s)", leg.id, leg.state.value, new.value, event)
            leg.state = new

    def _advance(self, leg: Leg, event: str) -> None:
        """Apply a fact reported by SIP; an impossible one is logged, not raised (it
        comes from the network inside a pjsua2 callback, where raising helps nobody)."""
        try:
            self._move(leg, event)
        except MediaError as exc:
            log.warning("worker %s: %s", self.worker_id, exc)

    def _check(self, leg: Leg, event: str) -> None:
        if not legstate.can(leg.state, event):
            raise MediaError("bad_state", f"cannot {event} leg {leg.id}: it is "
                                          f"{leg.state.value}")

    def _port(self, node: Node) -> Any:
        kind, ident = node
        if kind == "leg":
            leg = self.legs.get(ident)
            return leg.audio if leg else None
        if kind == "play":
            play = self.plays.get(ident)
            return play.port if play else None
        rec = self.recorders.get(ident)
        return rec.port if rec else None

    def _sync(self) -> None:
        """Make pjsua2's conference connections equal the mixer's derived edges."""
        want = self.mixer.edges()
        for edge in [e for e in self._applied if e not in want]:
            src, dst = self._port(edge[0]), self._port(edge[1])
            if src is not None and dst is not None and \
                    (src.getPortId(), dst.getPortId()) == self._applied[edge]:
                try:
                    src.stopTransmit(dst)
                except pj.Error:
                    pass
            del self._applied[edge]
        for edge in want:
            if edge in self._applied:
                continue
            src, dst = self._port(edge[0]), self._port(edge[1])
            if src is None or dst is None:
                continue
            try:
                src.startTransmit(dst)
            except pj.Error as exc:
                log.warning("worker %s: connect %s: %s", self.worker_id, edge, pj_message(exc))
                continue
            self._applied[edge] = (src.getPortId(), dst.getPortId())

    def _drop_applied(self, node: Node) -> None:
        for edge in [e for e in self._applied if node in e]:
            del self._applied[edge]

    def _forget_media(self, leg_id: str) -> None:
        removed = self.mixer.remove_leg(leg_id)
        self._drop_applied(("leg", leg_id))
        self._sync()
        for bid in removed.bridges:
            self.emit("bridge_ended", bridge=bid, reason="leg_ended", leg=leg_id)
        for sup in removed.monitors:
            self.emit("monitor_ended", leg=sup, reason="bridge_ended")
        for pid in removed.plays:
            self._end_play(pid, "hangup")
        for rid in removed.recordings:
            self._end_recording(rid, "hangup")

    def _collected(self, leg_id: str, result: DtmfResult) -> None:
        self.emit("dtmf_collected", leg=leg_id, collect=result.collect_id,
                  digits=result.digits, reason=result.reason)

    def _hangup_call(self, leg: Leg, code: int | None) -> None:
        op = pj.CallOpParam()
        if code is not None:
            op.statusCode = code
        leg.hangup_by = leg.hangup_by or "local"
        try:
            leg.call.hangup(op)
        except pj.Error as exc:
            raise MediaError("sip_error", pj_message(exc)) from None
        if leg.state in legstate.LIVE:
            self._move(leg, "hangup")

    # ------------------------------------------------------------------ call primitives

    def ring(self, leg_id: str, code: int = 180) -> dict[str, Any]:
        leg = self._leg(leg_id)
        if code not in (180, 183):
            raise MediaError("bad_args", "ring code must be 180 or 183")
        self._check(leg, "ring")
        op = pj.CallOpParam()
        op.statusCode = code
        self._pj(leg.call.answer, op)
        return {}

    def answer(self, leg_id: str, code: int = 200) -> dict[str, Any]:
        leg = self._leg(leg_id)
        if not 200 <= code < 300:
            raise MediaError("bad_args", "answer code must be 2xx (use hangup to reject)")
        self._check(leg, "answer")
        op = pj.CallOpParam()
        op.statusCode = code
        self._pj(leg.call.answer, op)
        self._move(leg, "answer")
        return {}

    def hangup(self, leg_id: str, code: int | None = None) -> dict[str, Any]:
        leg = self._leg(leg_id, live=False)
        if leg.state in (LegState.ENDING, LegState.ENDED):
            return {"already": leg.state.value}
        if code is not None and not 300 <= code < 700:
            raise MediaError("bad_args", "hangup code must be a 3xx-6xx final response")
        if code is None and leg.state is LegState.INCOMING:
            code = 480
        self._hangup_call(leg, code)
        return {}

    def originate(self, uri: str, from_uri: str | None = None,
                  headers: dict[str, str] | None = None) -> dict[str, Any]:
        if not uri.startswith(("sip:", "sips:")):
            raise MediaError("bad_args", f"not a SIP URI: {uri!r}")
        # No draining check here: a draining worker still places the agent legs of the
        # contacts it holds; the pool sends no new contacts' originates to it.
        if self.live_legs() >= self.max_legs:
            raise MediaError("no_capacity", f"worker {self.worker_id} holds {self.max_legs} "
                                            f"legs")
        account = self._identity(from_uri) if from_uri else self.account
        leg_id = self._new_id("L")
        call = _Call(self, account, leg_id)
        leg = Leg(leg_id, call, "out", LegState.CALLING, account)
        op = pj.CallOpParam(True)
        for name, value in (headers or {}).items():
            h = pj.SipHeader()
            h.hName = str(name)
            h.hValue = str(value)
            op.txOption.headers.append(h)
        self.legs[leg_id] = leg
        try:
            call.makeCall(uri, op)
        except pj.Error as exc:
            del self.legs[leg_id]
            raise MediaError("sip_error", pj_message(exc)) from None
        self._report_load()
        return {"leg": leg_id}

    def _identity(self, from_uri: str) -> Any:
        """An account whose From is ``from_uri`` (pjsua takes From from the account)."""
        if not from_uri.startswith(("sip:", "sips:", "<", '"')) and "<sip" not in from_uri:
            raise MediaError("bad_args", f"from must be a SIP URI: {from_uri!r}")
        acc = self._identities.get(from_uri)
        if acc is not None:
            return acc
        if len(self._identities) >= MAX_IDENTITIES:
            in_use = {id(leg.account) for leg in self.legs.values()}
            spare = [k for k, a in self._identities.items() if id(a) not in in_use]
            if not spare:
                raise MediaError("no_capacity", "too many distinct caller identities in use")
            self._identities.pop(spare[0]).shutdown()
        try:
            acc = self._make_account(from_uri)
        except pj.Error as exc:
            raise MediaError("bad_args", f"from {from_uri!r}: {pj_message(exc)}") from None
        self._identities[from_uri] = acc
        return acc

    def send_dtmf(self, leg_id: str, digits: str, method: str = "rfc4733") -> dict[str, Any]:
        leg = self._leg(leg_id)
        if not digits or any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise MediaError("bad_args", f"bad DTMF digits {digits!r}")
        if method not in _DTMF_METHODS:
            raise MediaError("bad_args", f"method must be one of {sorted(_DTMF_METHODS)}")
        prm = pj.CallSendDtmfParam()
        prm.method = _DTMF_METHODS[method]
        prm.digits = digits
        self._pj(leg.call.sendDtmf, prm)
        return {}

    def hold(self, leg_id: str, moh: bool | str = False) -> dict[str, Any]:
        leg = self._leg(leg_id)
        self._check(leg, "hold")
        self._pj(leg.call.setHold, pj.CallOpParam(True))
        self._move(leg, "hold")
        self.mixer.held.add(leg_id)
        result: dict[str, Any] = {}
        if moh:
            result = self.play(leg_id, moh=moh, loop=True)
        self._sync()
        return result

    def resume(self, leg_id: str) -> dict[str, Any]:
        leg = self._leg(leg_id)
        self._check(leg, "resume")
        op = pj.CallOpParam(True)
        op.opt.flag = pj.PJSUA_CALL_UNHOLD
        self._pj(leg.call.reinvite, op)
        self._move(leg, "resume")
        self.mixer.held.discard(leg_id)
        for play in [p for p in self.plays.values() if p.leg == leg_id and p.kind == "moh"]:
            self._end_play(play.id, "stopped")
        self._sync()
        return {}

    def mute(self, leg_id: str) -> dict[str, Any]:
        self._leg(leg_id)
        self.mixer.muted.add(leg_id)
        self._sync()
        return {}

    def unmute(self, leg_id: str) -> dict[str, Any]:
        self._leg(leg_id)
        self.mixer.muted.discard(leg_id)
        self._sync()
        return {}

    def _pj(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except pj.Error as exc:
            raise MediaError("sip_error", pj_message(exc)) from None

    # ------------------------------------------------------------------ bridging

    def bridge(self, legs: list[str]) -> dict[str, Any]:
        for leg_id in legs:
            self._leg(leg_id)
        bid = self._new_id("B")
        self._mix(self.mixer.bridge, bid, list(legs))
        self._sync()
        return {"bridge": bid}

    def unbridge(self, bridge_id: str | None = None, leg_id: str | None = None) -> dict[str, Any]:
        if bridge_id is None and leg_id is not None:
            bridge_id = self.mixer.bridge_of(leg_id)
            if bridge_id is None:
                raise MediaError("no_such_bridge", f"leg {leg_id} is not bridged")
        if bridge_id is None:
            raise MediaError("bad_args", "unbridge needs bridge or leg")
        ended = self._mix(self.mixer.unbridge, bridge_id)
        self._sync()
        for sup in ended:
            self.emit("monitor_ended", leg=sup, reason="bridge_ended")
        return {}

    def monitor(self, leg_id: str, bridge_id: str, mode: str,
                whisper_to: str | None = None) -> dict[str, Any]:
        self._leg(leg_id)
        self._mix(self.mixer.monitor, leg_id, bridge_id, mode, whisper_to)
        self._sync()
        return {}

    def unmonitor(self, leg_id: str) -> dict[str, Any]:
        self._mix(self.mixer.unmonitor, leg_id)
        self._sync()
        return {}

    def _mix(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except MixError as exc:
            raise MediaError(exc.code, exc.message) from None

    # ------------------------------------------------------------------ playback

    def play(self, leg_id: str, file: str | None = None, tone: list[int] | None = None,
             moh: bool | str = False, loop: bool = False, on_ms: int = 1000,
             off_ms: int = 0) -> dict[str, Any]:
        """Play a WAV file, a tone (1-2 frequencies) or music on hold into a leg."""
        self._leg(leg_id)
        if sum(1 for x in (file, tone, moh) if x) != 1:
            raise MediaError("bad_args", "play needs exactly one of file, tone, moh")
        pid = self._new_id("P")
        if moh:
            path = moh if isinstance(moh, str) else self.moh_file
            if path:
                port, kind = ports.file_player(path, True), "moh"
            else:  # no MOH file configured: a gentle 425 Hz beep every 4 s
                port, kind = ports.tone_port([425], 300, 3700, True), "moh"
            loop = True
        elif file:
            port, kind = ports.file_player(file, loop), "file"
        else:
            assert tone is not None
            port, kind = ports.tone_port(tone, on_ms, off_ms, loop), "tone"
        self.plays[pid] = Play(pid, leg_id, port, kind, loop)
        self.mixer.plays[pid] = leg_id
        self._sync()
        return {"play": pid}

    def stop_play(self, play_id: str | None = None, leg_id: str | None = None) -> dict[str, Any]:
        if play_id is not None:
            if play_id not in self.plays:
                raise MediaError("no_such_play", f"no play {play_id}")
            ids = [play_id]
        elif leg_id is not None:
            ids = [p.id for p in self.plays.values() if p.leg == leg_id]
        else:
            raise MediaError("bad_args", "stop_play needs play or leg")
        for pid in ids:
            self._end_play(pid, "stopped")
        return {"stopped": ids}

    def _end_play(self, play_id: str, reason: str) -> None:
        play = self.plays.pop(play_id, None)
        if play is None:
            return
        self.mixer.plays.pop(play_id, None)
        self._sync()
        self._drop_applied(("play", play_id))
        if isinstance(play.port, pj.ToneGenerator):
            try:
                play.port.stop()
            except pj.Error:
                pass
        self.emit("play_done", leg=play.leg, play=play_id, reason=reason)

    # ------------------------------------------------------------------ DTMF collection

    def collect_dtmf(self, leg_id: str, max_digits: int = 1, timeout: float = 5.0,
                     terminator: str = "#", inter_digit_timeout: float | None = None,
                     flush: bool = False) -> dict[str, Any]:
        leg = self._leg(leg_id)
        cid = self._new_id("C")
        try:
            result = leg.digits.start(cid, self._now, max_digits=max_digits, timeout=timeout,
                                      terminators=terminator,
                                      inter_digit_timeout=inter_digit_timeout, flush=flush)
        except ValueError as exc:
            raise MediaError("bad_args", str(exc)) from None
        except RuntimeError as exc:
            raise MediaError("busy", str(exc)) from None
        if result is not None:
            self._collected(leg_id, result)
        return {"collect": cid}

    def stop_collect(self, leg_id: str) -> dict[str, Any]:
        leg = self._leg(leg_id)
        result = leg.digits.cancel()
        if result is not None:
            self._collected(leg_id, result)
        return {}

    # ------------------------------------------------------------------ recording

    def record_start(self, legs: list[str], path: str) -> dict[str, Any]:
        for leg_id in legs:
            self._leg(leg_id)
        if not legs:
            raise MediaError("bad_args", "record_start needs at least one leg")
        rec = ports.recorder(path)
        rid = self._new_id("R")
        self.recorders[rid] = Recorder(rid, path, rec)
        self.mixer.recordings[rid] = Recording(set(legs))
        self._sync()
        return {"recording": rid}

    def _recording(self, rid: str) -> Any:
        rec = self.mixer.recordings.get(rid)
        if rec is None:
            raise MediaError("no_such_recording", f"no recording {rid}")
        return rec

    def record_pause(self, rid: str) -> dict[str, Any]:
        self._recording(rid).paused = True
        self._sync()
        return {}

    def record_resume(self, rid: str) -> dict[str, Any]:
        self._recording(rid).paused = False
        self._sync()
        return {}

    def record_stop(self, rid: str) -> dict[str, Any]:
        self._recording(rid)
        path = self._end_recording(rid, "stopped")
        return {"path": path}

    def _end_recording(self, rid: str, reason: str) -> str:
        self.mixer.recordings.pop(rid, None)
        self._sync()
        self._drop_applied(("rec", rid))
        rec = self.recorders.pop(rid)
        path = rec.path
        del rec                     # the recorder's destructor finalises the WAV header
        self.emit("record_stopped", recording=rid, path=path, reason=reason)
        return path

    # ------------------------------------------------------------------ stats / status

    def stats(self, leg_id: str) -> dict[str, Any]:
        leg = self._leg(leg_id)
        if leg.audio is None or leg.media_index < 0:
            raise MediaError("bad_state", f"leg {leg_id} has no media")
        st = self._pj(leg.call.getStreamStat, leg.media_index)
        rx, tx = st.rtcp.rxStat, st.rtcp.txStat
        out = {"leg": leg_id, "rx_packets": rx.pkt, "rx_lost": rx.loss,
               "rx_jitter_ms": round(rx.jitterUsec.mean / 1000.0, 3),
               "tx_packets": tx.pkt, "tx_lost": tx.loss,
               "rtt_ms": round(st.rtcp.rttUsec.mean / 1000.0, 3),
               "jb_avg_delay_ms": st.jbuf.avgDelayMsec}
        leg.last_stats = out
        return out

    def ping(self) -> dict[str, Any]:
        return {"pong": True, "legs": self.live_legs()}

    def status(self) -> dict[str, Any]:
        return {
            "worker": self.worker_id, "accepting": self.accepting, "max": self.max_legs,
            "legs": {lid: {"state": leg.state.value, "direction": leg.direction,
                           "media": leg.audio is not None}
                     for lid, leg in self.legs.items() if leg.announced},
            "bridges": {bid: list(m) for bid, m in self.mixer.bridges.items()},
            "plays": {pid: p.leg for pid, p in self.plays.items()},
            "recordings": {rid: r.path for rid, r in self.recorders.items()},
        }

    def drain(self) -> dict[str, Any]:
        self.accepting = False
        self._load = -1                 # re-announce with accepting=False
        self._report_load()
        return {"legs": self.live_legs()}

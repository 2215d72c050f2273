"""Runs an IVR session (``ivr.session.IvrSession``, sans-I/O) on a live call.

The session says what to do as actions; this driver turns them into worker primitives
and feeds the results back as events:

==================  ===========================================================
action              carried out as
==================  ===========================================================
``Play``            the files played back to back on the caller leg
                    (``PromptFinished`` at the end); a text-to-speech segment
                    (no files) finishes at once -- there is no TTS engine
``StopPlayback``    the play is stopped
``CollectDigits``   informational: digits arrive as ``dtmf`` events anyway
``StartTimer``      ``loop.call_later`` -> ``TimerExpired`` (in the call's actor)
``Lookup``          the gateway's look-up provider -> ``LookupResult``
``Enqueue``         the call's contact is created in the queue (voice), or a
                    message contact is created (channel ``message``)
``OfferCallback``   a callback contact keeping the caller's arrival
``RecordMessage``   beep, ``record_start`` on the caller leg, stopped by ``#``, the
                    time limit or hang-up -> ``MessageRecorded``
``Transfer``        to a number through the trunk; without a trunk it cannot be
                    done: logged, the call ends with outcome ``failed``
``HangUp``          the caller leg is hung up
==================  ===========================================================
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr import events as iv

from .callstate import Phase

if TYPE_CHECKING:
    from .dialplan import Entry
    from .gateway import LiveCall, VoiceGateway

log = logging.getLogger("ipcc.voice.ivr")


class IvrDriver:
    def __init__(self, gw: VoiceGateway, live: LiveCall, entry: Entry) -> None:
        self.gw = gw
        self.live = live
        self.entry = entry
        call = live.call
        tenant = gw.server.tenants.get(call.tenant)
        lang = getattr(tenant, "language", None)
        self.session = gw.registry.start_session(call.dnis, call.ani, gw.now(),
                                                 language=lang, call_id=call.id)
        if self.session is None:  # the tree serves other numbers: start it by name
            from ivr.session import CallInfo, IvrSession

            tree = gw.registry.get(entry.ivr)
            self.session = IvrSession(tree, CallInfo(ani=call.ani, dnis=call.dnis,
                                                     tenant=call.tenant, language=lang,
                                                     call_id=call.id), gw.now(),
                                      session_id=call.id)
        self.timers: dict[tuple[Any, ...], asyncio.TimerHandle] = {}
        self.plays: dict[str, dict[str, Any]] = {}     # ivr play id -> {files, idx, worker}
        self.worker_play: dict[str, str] = {}          # worker play id -> ivr play id
        self.recording: dict[str, Any] | None = None
        self.closed = False
        self.queued = False
        self.caller_gone = False
        self.trace_recorded = False

    # ------------------------------------------------------------------ feeding

    async def start(self) -> None:
        await self._apply(self.session.start(self.gw.now()))

    async def feed(self, event: Any) -> None:
        if self.closed or self.session.ended and not isinstance(event, iv.MessageRecorded):
            return
        await self._apply(self.session.handle(event, self.gw.now()))

    async def on_dtmf(self, digit: str) -> None:
        if self.recording is not None and digit == (self.recording.get("terminator") or "#"):
            await self._stop_recording("terminator")
            return
        await self.feed(iv.DtmfReceived(digit))

    async def on_play_done(self, args: dict[str, Any]) -> None:
        ivr_play = self.worker_play.pop(str(args.get("play")), None)
        if ivr_play is None:
            return
        if ivr_play == "__beep__":
            await self._begin_recording()
            return
        entry = self.plays.get(ivr_play)
        if entry is None:
            return
        if args.get("reason") != "done":
            self.plays.pop(ivr_play, None)
            return
        await self._play_next(ivr_play)

    async def on_event(self, payload: Any) -> None:
        """Timers, look-up answers and recorder events routed through the actor."""
        if isinstance(payload, tuple) and payload and payload[0] == "timer":
            self.timers.pop(payload[1], None)
            await self.feed(iv.TimerExpired(payload[1]))
        elif isinstance(payload, iv.LookupResult):
            await self.feed(payload)
        elif isinstance(payload, dict) and "recording" in payload:
            rec = self.recording
            if rec is not None and payload.get("recording") == rec.get("id"):
                await self._recorded(str(payload.get("path") or rec["path"]))
        elif (isinstance(payload, tuple) and payload and payload[0] == "record_limit"
              and self.recording is not None and self.recording.get("key") == payload[1]):
            await self._stop_recording("limit")

    async def caller_hung_up(self) -> None:
        self.caller_gone = True     # the gateway ends the call (hang-up side: caller)
        if self.recording is not None and self.recording.get("id"):
            await self._stop_recording("hangup")
        await self.feed(iv.CallerHungUp())
        self._note_end()

    def close(self) -> None:
        self.closed = True
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        self._note_end()

    def _note_end(self) -> None:
        call = self.live.call
        if call.ivr_ended_at is None and (self.session.ended or self.closed):
            call.ivr_ended_at = self.gw.now()
        call.ivr_outcome = self.session.outcome
        call.ivr_trace = self.session.trace()
        service = getattr(self.gw.server, "ivr", None)
        waiting_for_contact = self.queued and call.contact_id is None and not self.closed
        if (self.session.ended and not self.trace_recorded and service is not None
                and not waiting_for_contact):
            # statistics, the ivr_traces table and the bus (acd/ivr_service.py)
            self.trace_recorded = True
            trace = call.ivr_trace
            task = asyncio.ensure_future(service.record_trace(
                call.tenant, str(trace.get("tree")), trace, call.contact_id))
            task.add_done_callback(_log_trace_failure)

    # ------------------------------------------------------------------ actions

    async def _apply(self, actions: list[Any]) -> None:
        for a in actions:
            if self.closed and not isinstance(a, (iv.Enqueue, iv.OfferCallback)):
                continue
            try:
                await self._action(a)
            except Exception:
                log.exception("call %s: IVR action %r failed", self.live.call.id, a)
        if self.session.ended:
            self._note_end()
            if not self.queued and not self.caller_gone and self.live.call.phase is Phase.IVR:
                call = self.live.call
                outcome = self.session.outcome
                call.set_outcome("self_served" if outcome == iv.Outcome.SELF_SERVED
                                 else "callback" if outcome == iv.Outcome.CALLBACK
                                 else "ivr_hangup", "system", f"ivr:{outcome}")
                await self.gw._end(self.live)

    async def _action(self, a: Any) -> None:
        gw, live = self.gw, self.live
        call = live.call
        if isinstance(a, iv.Play):
            self.plays[a.play_id] = {"files": list(a.files), "idx": 0}
            await self._play_next(a.play_id)
        elif isinstance(a, iv.StopPlayback):
            entry = self.plays.pop(a.play_id, None)
            if entry and entry.get("worker"):
                self.worker_play.pop(entry["worker"], None)
                await gw.request(live, "stop_play", play=entry["worker"])
        elif isinstance(a, iv.StartTimer):
            self._start_timer(a.key, a.at)
        elif isinstance(a, iv.CancelTimer):
            handle = self.timers.pop(a.key, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(a, iv.Lookup):
            asyncio.get_running_loop().create_task(self._lookup(a))
        elif isinstance(a, iv.Enqueue):
            await self._enqueue(a)
        elif isinstance(a, iv.OfferCallback):
            data = dict(a.data) | {"callback_number": a.number, "call_id": call.id}
            await gw.server.create_contact(call.tenant, channel="callback", queue=a.queue,
                                           priority=a.priority, customer={"phone": a.number},
                                           data=data, skills=dict(a.skills) or None,
                                           arrival=a.arrival)
            call.notes.append(f"callback requested to {a.number}")
        elif isinstance(a, iv.RecordMessage):
            await self._record(a)
        elif isinstance(a, iv.Transfer):
            await self._transfer(a)
        elif isinstance(a, iv.HangUp):
            if call.caller_leg:
                await gw.request(live, "hangup", leg=call.caller_leg)
        elif isinstance(a, iv.Trace):
            log.debug("call %s ivr %s %s %s", call.id, a.event, a.node, dict(a.detail))

    async def _play_next(self, play_id: str) -> None:
        entry = self.plays.get(play_id)
        if entry is None:
            return
        call = self.live.call
        while entry["idx"] < len(entry["files"]):
            path = entry["files"][entry["idx"]]
            entry["idx"] += 1
            r = await self.gw.request(self.live, "play", leg=call.caller_leg, file=path)
            if r:
                entry["worker"] = r["play"]
                self.worker_play[r["play"]] = play_id
                return
        self.plays.pop(play_id, None)
        await self.feed(iv.PromptFinished(play_id))

    def _start_timer(self, key: tuple[Any, ...], at: float) -> None:
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, at - self.gw.now())
        self.timers[key] = asyncio.get_running_loop().call_later(
            delay, self.gw.post, self.live, "ivr_timer", ("timer", key))

    async def _lookup(self, a: iv.Lookup) -> None:
        provider = self.gw.lookups
        try:
            data = await provider.lookup(a.kind, dict(a.params))
            result = iv.LookupResult(a.request_id, data=data)
        except Exception as exc:  # noqa: BLE001 - any provider failure is an error result
            result = iv.LookupResult(a.request_id, error=str(getattr(exc, "code", "error")))
        self.gw.post(self.live, "ivr_lookup", result)

    async def _enqueue(self, a: iv.Enqueue) -> None:
        gw, call = self.gw, self.live.call
        data = dict(a.data)
        if a.channel == "message":
            await gw.server.create_contact(call.tenant, channel="message", queue=a.queue,
                                           priority=a.priority,
                                           customer={"phone": call.ani} if call.ani else {},
                                           data=data | {"call_id": call.id},
                                           skills=dict(a.skills) or None)
            call.notes.append("voice message left")
            return
        self.queued = True
        call.ivr_ended_at = gw.now()
        self._note_end()
        if call.phase is not Phase.IVR:
            return
        await gw.enqueue(self.live, a.queue, skills=dict(a.skills) or None,
                         priority=a.priority, data=data)
        self._note_end()  # the trace is recorded against the contact just created

    async def _record(self, a: iv.RecordMessage) -> None:
        gw, live = self.gw, self.live
        directory = Path(gw.server.data_dir) / "messages"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{live.call.id}-{int(time.time())}.wav"
        self.recording = {"path": str(path), "max": a.max_seconds, "terminator": a.terminator,
                          "key": a.record_id, "id": None, "started": None}
        if a.beep:
            r = await gw.request(live, "play", leg=live.call.caller_leg, tone=[1000],
                                 on_ms=300, off_ms=0)
            if r:
                self.worker_play[r["play"]] = "__beep__"
                asyncio.get_running_loop().call_later(
                    0.35, self.gw.post, live, "play_done",
                    {"leg": live.call.caller_leg, "play": r["play"], "reason": "done"})
                return
        await self._begin_recording()

    async def _begin_recording(self) -> None:
        rec = self.recording
        if rec is None or rec.get("id"):
            return
        gw, live = self.gw, self.live
        await gw.request(live, "stop_play", leg=live.call.caller_leg)
        r = await gw.request(live, "record_start", leg=live.call.caller_leg, path=rec["path"])
        if not r:
            self.recording = None
            await self.feed(iv.MessageRecorded("", 0.0))
            return
        rec["id"] = r["recording"]
        rec["started"] = gw.now()
        asyncio.get_running_loop().call_later(
            float(rec["max"]), gw.post, live, "ivr_timer", ("record_limit", rec["key"]))

    async def _stop_recording(self, reason: str) -> None:
        rec = self.recording
        if rec is None or not rec.get("id"):
            return
        r = await self.gw.request(self.live, "record_stop", recording=rec["id"])
        await self._recorded(str((r or {}).get("path") or rec["path"]))

    async def _recorded(self, path: str) -> None:
        rec, self.recording = self.recording, None
        if rec is None:
            return
        duration = max(0.0, self.gw.now() - float(rec.get("started") or self.gw.now()))
        await self.feed(iv.MessageRecorded(path, round(duration, 2)))

    async def _transfer(self, a: iv.Transfer) -> None:
        gw, live = self.gw, self.live
        call = live.call
        trunk = gw.settings.trunk
        if trunk is None:
            log.error("call %s: IVR transfer to %s is not possible: no trunk configured",
                      call.id, a.number)
            call.set_outcome("failed", "system", "ivr transfer without trunk")
            call.notes.append(f"IVR transfer to {a.number} impossible: no trunk")
            return
        from .dialplan import DialError, number_uri

        try:
            uri = number_uri(a.number, trunk)
        except DialError as exc:
            call.set_outcome("failed", "system", exc.message)
            return
        self.queued = True           # the call goes on outside the IVR
        call.move("transfer")
        call.transfers.append({"at": gw.now(), "kind": "ivr", "to": {"number": a.number}})
        await gw.start_moh(live)
        leg_id = await gw.originate(live, uri, role="transfer", from_uri=trunk.from_uri)
        if leg_id is None:
            call.set_outcome("failed", "system", "transfer target could not be called")
            await gw._end(live)
        else:
            call.transfer_leg = leg_id
            call.set_outcome("transferred")


def _log_trace_failure(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("IVR trace not recorded: %s", task.exception())

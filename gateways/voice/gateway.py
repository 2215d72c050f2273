"""The voice gateway: the media worker pool and the routing server, joined into a service.

    server.add_gateway(VoiceGateway())     # started by server.start(): pool, SIP front

Inbound flow (docs/voice.md has the whole story):

1. A worker reports ``leg_incoming``; the dialled number (request-URI user) names the
   tenant and entry point (``dialplan.resolve_dnis``); unknown numbers get 404.
2. The leg is answered; then an IVR tree, a greeting, or straight to the queue.
3. Queueing creates a voice contact (committed before it reaches the engine) and starts
   music on hold; every ``announce_every_s`` the caller hears position and wait.
4. The engine's ``Offer`` originates the agent leg in the *same* worker (a reservation
   booked 2 slots); the agent answering is ``OfferAccepted`` and the legs are bridged.
   ``RetractOffer`` (ring timeout, caller left) hangs the ringing agent leg up; an agent
   phone that refuses is ``OfferRejected``.
5. Either side hanging up ends the other: ``ContactCompleted`` (agent hung up) or
   ``ContactAbandoned`` (caller hung up; the engine counts it as completion when the
   call was connected); the agent goes to wrap-up.
6. Every call ends with one CDR (``cdr.build_cdr``) stored with ``store.save_cdr`` and
   published on ``{tenant}/cdrs``. A worker crash (``worker_lost``) ends its calls with
   outcome ``lost_on_crash``.

Concurrency: each call is an *actor*: pool events, engine decisions, timers and REST
call-control requests for a call are put into its inbox and handled one at a time by its
task, so a handler may await worker requests without another handler of the same call
interleaving. Handlers never call ``server.handle`` from inside ``on_decision`` (which runs
inside the server's own decision loop); they run in the call's task.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd import events as ev
from gateways.sip.pool import PoolError, PoolEvent, WorkerPool

from . import announce
from .callstate import Leg, Phase, VoiceCall
from .cdr import build_cdr, default_outcome
from .dialplan import DialError, Entry, device_uri, dnis_clashes, resolve_dnis, uri_user

log = logging.getLogger("ipcc.voice")

_ROOT = Path(__file__).resolve().parents[2]
ENDING_GRACE_S = 10.0     # legs still up this long after the call ended: CDR anyway
EARLY_EVENTS_KEEP = 512   # events for legs not yet known (originate reply in flight)
ENDED_VIEWS_KEEP = 1000


class VoiceError(Exception):
    """A call-control request that cannot be carried out; maps to an API error."""

    def __init__(self, status: int, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.details = details


@dataclass
class _Chain:
    """Files played one after the other on the caller leg."""

    files: list[str]
    tag: str
    on_done: Callable[[], Awaitable[None]] | None = None
    play_id: str | None = None
    index: int = 0


@dataclass
class LiveCall:
    """A call plus what only the running gateway needs (inbox, timers, plays)."""

    call: VoiceCall
    inbox: asyncio.Queue[tuple[str, Any, asyncio.Future[Any] | None]] = field(
        default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    entry: Entry | None = None
    chain: _Chain | None = None
    moh_play: str | None = None
    announce_timer: asyncio.TimerHandle | None = None
    ending_timer: asyncio.TimerHandle | None = None
    ivr: Any = None                       # gateways.voice.ivr_driver.IvrDriver
    consult_bridge: str | None = None
    consult_target: dict[str, Any] | None = None
    outbound_number_uri: str | None = None


class VoiceGateway:
    """See the module docstring. ``pool``: an unstarted :class:`WorkerPool` to use
    instead of one built from the settings (tests); ``front``: False to never start the
    SIP front (calls then go straight to a worker's port)."""

    name = "voice"

    def __init__(self, *, pool: WorkerPool | None = None, front: bool | None = None,
                 ivr_dir: str | Path | None = None, lookups: Any = None,
                 optional: bool = False) -> None:
        self.optional = optional   # a start failure is logged and leaves the server up
        self.server: Any = None
        self.settings: Any = None
        self.pool = pool
        self._own_pool = pool is None
        self.use_front = front
        self.front: Any = None
        self.chooser: Any = None
        self.ivr_dir = ivr_dir
        self.registry: Any = None
        self.lookups = lookups
        self.library: Any = None
        self.calls: dict[str, LiveCall] = {}           # call id -> live call
        self._by_leg: dict[str, LiveCall] = {}
        self._by_contact: dict[str, LiveCall] = {}     # live contact -> call
        self._all_contacts: dict[str, LiveCall] = {}   # every contact of a live call
        self._early: collections.OrderedDict[str, list[PoolEvent]] = collections.OrderedDict()
        self._ended: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._talk: dict[tuple[str, str], tuple[int, float]] = {}  # (tenant, queue) -> n, sum
        self.counters: collections.Counter[str] = collections.Counter()
        self.started = False
        self.error: str | None = None

    # ================================================================ lifecycle

    async def start(self, server: Any) -> None:
        try:
            await self._start(server)
        except Exception as exc:
            if not self.optional:
                raise
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("voice service not started: %s", self.error)
            if self.pool is not None and self._own_pool:
                await self.pool.close()
                self.pool = None

    async def _start(self, server: Any) -> None:
        from ivr.prompts import builtin_library

        self.server = server
        self.settings = server.settings.server.sip
        s = self.settings
        self.library = builtin_library()
        for number, owners in dnis_clashes(server.tenants).items():
            log.warning("number %s is claimed by tenants %s; %s serves it", number,
                        ", ".join(owners), owners[0])
        self._load_ivr()
        if self.lookups is None and getattr(server, "crm", None) is not None:
            self.lookups = server.crm  # the CRM/billing tables (crm_bridge)
        if self.lookups is None:
            from .lookups import JsonLookups

            self.lookups = JsonLookups.default(server.data_dir)
        front_module = self._front_module()
        if self.pool is None:
            moh = s.moh or str(announce.MOH_FILE)
            # an idle worker polling every 5 ms costs ~2.7 % of a core, every 10 ms ~1.5 %
            args = ["--moh", moh, "--poll-ms", str(s.worker_poll_ms)]
            if s.stats_interval_s:
                args += ["--stats-interval", str(s.stats_interval_s)]
            if front_module is not None:
                # Behind the front the workers speak UDP only: pjsip would otherwise move
                # a large in-dialog request (re-INVITE with SDP > 1300 bytes) to TCP, and
                # the front tells worker from caller by the UDP source address.
                args.append("--no-tcp")
            base = None if front_module is not None or not s.port else s.port
            self.pool = WorkerPool(size=s.workers, max_size=max(s.max_workers, s.workers, 1),
                                   sip_port_base=base, host=s.host, worker_args=args)
        self.pool.subscribe(self._on_pool_event)
        await self.pool.start()
        try:
            if front_module is not None:
                from .chooser import PoolChooser

                self.chooser = PoolChooser(self.pool)
                self.front = front_module.SipFront(s.host, s.port, self.chooser)
                await self.front.start()
        except BaseException:
            await self.pool.close()
            raise
        self.started = True
        await self._reap_orphans()
        log.info("voice gateway up: SIP %s", self.sip_address())

    def _front_module(self) -> Any:
        if self.use_front is False:
            return None
        try:
            from gateways.sip import front
        except ImportError:
            if self.use_front:
                raise
            return None
        return front if hasattr(front, "SipFront") else None

    def _load_ivr(self) -> None:
        shared = getattr(self.server, "ivr", None)
        if self.ivr_dir is None and getattr(shared, "registry", None) is not None:
            self.registry = shared.registry  # one registry: API reloads reach new calls
            return
        from ivr.registry import TreeRegistry

        d = Path(self.ivr_dir or self.settings.ivr_dir)
        if not d.is_absolute() and not d.is_dir():
            d = _ROOT / d
        self.registry = TreeRegistry(d)
        result = self.registry.reload()
        for name, errors in result.refused.items():
            log.error("IVR tree %s refused: %s", name, "; ".join(errors))

    def sip_address(self) -> str:
        """Where callers send INVITEs: the front, else the first worker."""
        if self.front is not None:
            host, port = self.front.address
            return f"{host}:{port}"
        if self.pool is not None:
            workers = self.pool.workers()
            if workers:
                return ", ".join(f"{self.pool.host}:{w.sip_port}" for w in workers)
        return "-"

    async def stop(self) -> None:
        for live in list(self.calls.values()):
            try:
                await self.submit(live, self._shutdown_call, timeout=5.0)
            except Exception as exc:  # noqa: BLE001 - stopping goes on regardless
                log.warning("call %s not closed cleanly: %s", live.call.id, exc)
        if self.front is not None:
            await self.front.stop()
            self.front = None
        if self.pool is not None and self._own_pool:
            await self.pool.close()
        elif self.pool is not None:
            self.pool.unsubscribe(self._on_pool_event)
        for live in list(self.calls.values()):
            if live.task is not None:
                live.task.cancel()
        self.started = False

    async def _shutdown_call(self, live: LiveCall) -> None:
        call = live.call
        call.set_outcome("shutdown", "system", "server stopping")
        cid = call.contact_id
        if cid is not None:
            if call.phase is Phase.CONNECTED and call.agent_id:
                self.engine(ev.ContactCompleted(cid, call.agent_id))
            elif call.phase in (Phase.QUEUED, Phase.RINGING):
                self.engine(ev.ContactCancelled(cid, "server stopping"))
        await self._end(live)
        await self._finalize(live)

    async def _reap_orphans(self) -> None:
        """Voice contacts the server restored from the store have no call any more (the
        media did not survive the restart): end them, each with a CDR ``lost_on_crash``."""
        now = self.now()
        for cid in list(self.server.engine.live_contact_ids()):
            try:
                view = self.server.engine.contact_view(cid)
            except ev.EngineError:
                continue
            if view.get("channel") not in ("voice", "webrtc") or cid in self._all_contacts:
                continue
            if self.engine(ev.ContactCancelled(cid, "lost_on_crash")) is None:
                continue
            data = view.get("data") or {}
            call = VoiceCall(id=str(data.get("call_id") or f"v-{uuid.uuid4().hex[:16]}"),
                             tenant=view["tenant"], worker_id="", arrival=view["arrival"],
                             ani=str(data.get("ani") or ""), dnis=str(data.get("dnis") or ""))
            call.add_contact(cid, view["queue"])
            call.queued_at = view.get("queued_at")
            call.set_outcome("lost_on_crash", "system", "control process restarted")
            call.ended_at = now
            call.notes.append("restored from the store after a restart without its call")
            await self.server.drain_writes()
            await self.server.store.update_contact(cid, outcome="lost_on_crash")
            try:
                await self.server.store.save_cdr(call.tenant, cid, build_cdr(call), at=now,
                                                 id=call.id)
            except Exception:  # e.g. the CDR was written before the crash
                log.exception("CDR for orphan contact %s not stored", cid)
            self.counters["lost_on_crash"] += 1
            log.warning("voice contact %s had no call after the restart: lost_on_crash", cid)

    def health(self) -> dict[str, Any]:
        workers = self.pool.workers() if self.pool is not None else []
        out: dict[str, Any] = {
            "ok": self.started, "sip": self.sip_address() if self.started else None,
            "calls": len(self.calls),
            "workers": [{"id": w.id, "pid": w.pid, "sip_port": w.sip_port, "state": w.state,
                         "legs": len(w.legs), "free": w.free} for w in workers],
            "counters": dict(self.counters)}
        if self.front is not None:
            out["front"] = self.front.stats()
        if self.error:
            out["error"] = self.error
        return out

    # ================================================================ plumbing

    def now(self) -> float:
        return float(self.server.clock()) if self.server is not None else time.time()

    def _spawn(self, call: VoiceCall) -> LiveCall:
        live = LiveCall(call)
        self.calls[call.id] = live
        live.task = asyncio.get_running_loop().create_task(self._actor(live),
                                                           name=f"voice-{call.id}")
        return live

    def post(self, live: LiveCall, kind: str, payload: Any = None) -> None:
        live.inbox.put_nowait((kind, payload, None))

    async def submit(self, live: LiveCall, fn: Callable[[LiveCall], Awaitable[Any]],
                     timeout: float = 15.0) -> Any:
        """Run ``fn(live)`` in the call's actor and return its result (REST requests)."""
        if live.task is None or live.task.done():
            raise VoiceError(409, "call_ended", f"call {live.call.id} has ended")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        live.inbox.put_nowait(("run", fn, fut))
        return await asyncio.wait_for(fut, timeout)

    async def _actor(self, live: LiveCall) -> None:
        handlers: dict[str, Callable[[LiveCall, Any], Awaitable[Any]]] = {
            "incoming": self._h_incoming, "leg_answered": self._h_leg_answered,
            "leg_ringing": self._h_leg_ringing, "leg_hungup": self._h_leg_hungup,
            "play_done": self._h_play_done, "dtmf": self._h_dtmf,
            "dtmf_collected": self._h_ivr_event, "record_stopped": self._h_ivr_event,
            "media_stats": self._h_media_stats, "worker_lost": self._h_worker_lost,
            "offer": self._h_offer, "retract": self._h_retract,
            "contact_updated": self._h_contact_updated, "announce": self._h_announce,
            "ending_timeout": self._h_ending_timeout, "ivr_timer": self._h_ivr_event,
            "ivr_lookup": self._h_ivr_event,
        }
        while True:
            kind, payload, fut = await live.inbox.get()
            try:
                if kind == "run":
                    result = await payload(live)
                else:
                    handler = handlers.get(kind)
                    result = await handler(live, payload) if handler else None
                if fut is not None and not fut.done():
                    fut.set_result(result)
            except Exception as exc:
                if fut is not None and not fut.done():
                    fut.set_exception(exc)
                else:
                    log.exception("call %s: %s failed", live.call.id, kind)
            if live.call.phase is Phase.ENDING and not live.call.live_legs():
                await self._finalize(live)
            if live.call.phase is Phase.ENDED:
                self._fail_pending(live)
                return

    @staticmethod
    def _fail_pending(live: LiveCall) -> None:
        while not live.inbox.empty():
            _, _, fut = live.inbox.get_nowait()
            if fut is not None and not fut.done():
                fut.set_exception(VoiceError(409, "call_ended", "the call has ended"))

    async def request(self, live: LiveCall, op: str, **args: Any) -> Any:
        """A worker request for this call; None (logged) when the worker refuses."""
        try:
            return await self.pool.request(live.call.worker_id, op, **args)  # type: ignore[union-attr]
        except PoolError as exc:
            log.info("call %s: %s %s failed: %s (%s)", live.call.id, op, args, exc.message,
                     exc.code)
            if exc.code == "no_such_leg" and "leg" in args:
                live.call.end_leg(str(args["leg"]), self.now(), reason="gone", by="local")
            return None

    @staticmethod
    def log_media_error(live: LiveCall, exc: Exception) -> None:
        log.warning("call %s: %s", live.call.id, getattr(exc, "message", exc))

    def register_leg(self, live: LiveCall, leg: Leg) -> None:
        live.call.add_leg(leg)
        self._by_leg[leg.id] = live
        for pev in self._early.pop(leg.id, []):
            self._route(live, pev)

    # ================================================================ pool events

    def _on_pool_event(self, pev: PoolEvent) -> None:
        name, args = pev.event, pev.args
        if name == "leg_incoming":
            self._incoming(pev)
            return
        if name == "worker_lost":
            for live in list(self.calls.values()):
                if live.call.worker_id == pev.worker_id:
                    self.post(live, "worker_lost", args)
            return
        leg = args.get("leg")
        if not isinstance(leg, str):
            return
        live = self._by_leg.get(leg)
        if live is None:
            if name in ("leg_ringing", "leg_answered", "leg_hungup", "media_stats",
                        "play_done"):
                self._early.setdefault(leg, []).append(pev)
                while len(self._early) > EARLY_EVENTS_KEEP:
                    self._early.popitem(last=False)
            return
        self._route(live, pev)

    def _route(self, live: LiveCall, pev: PoolEvent) -> None:
        self.post(live, pev.event, pev.args)

    def _incoming(self, pev: PoolEvent) -> None:
        args = pev.args
        now = self.now()
        sip_call_id = str(args.get("call_id") or "")
        reservation = args.get("reservation")
        if reservation is None and self.chooser is not None:
            reservation = self.chooser.reservation_for(sip_call_id)
        call = VoiceCall(id=f"v-{uuid.uuid4().hex[:16]}", tenant="", worker_id=pev.worker_id,
                         arrival=now, ani=uri_user(str(args.get("from") or "")),
                         dnis=str(args.get("dnis") or ""), sip_call_id=sip_call_id,
                         reservation=reservation)
        leg = Leg(str(args["leg"]), "caller", "in", uri=str(args.get("from") or ""),
                  created_at=now)
        call.caller_leg = leg.id
        self.counters["calls_in"] += 1
        live = self._spawn(call)
        self.register_leg(live, leg)
        self.post(live, "incoming", args)

    # ================================================================ engine decisions

    def on_decision(self, d: Any) -> None:
        if isinstance(d, ev.Offer):
            live = self._by_contact.get(d.contact_id)
            if live is not None:
                self.post(live, "offer", d)
        elif isinstance(d, ev.RetractOffer):
            live = self._by_contact.get(d.contact_id)
            if live is not None:
                self.post(live, "retract", d)
        elif isinstance(d, ev.ContactUpdated):
            live = self._by_contact.get(d.contact_id)
            if live is not None:
                self.post(live, "contact_updated", d)

    def engine(self, event: ev.Event) -> list[ev.Decision] | None:
        """Feed the server; an engine refusal (already gone, raced) is logged, not raised."""
        try:
            return self.server.handle(event)  # type: ignore[no-any-return]
        except ev.EngineError as exc:
            log.info("engine refused %s: %s", type(event).__name__, exc.message)
            return None

    # ================================================================ inbound flow

    async def _h_incoming(self, live: LiveCall, args: dict[str, Any]) -> None:
        call = live.call
        entry = resolve_dnis(self.server.tenants, call.dnis)
        if entry is None:
            call.tenant = self.server.settings.default_tenant or ""
            log.warning("call %s to unknown number %r refused", call.id, call.dnis)
            call.set_outcome("failed", "system", "unknown_dnis")
            await self.request(live, "hangup", leg=call.caller_leg, code=404)
            await self._end(live)
            return
        call.tenant = entry.tenant
        live.entry = entry
        await self.request(live, "answer", leg=call.caller_leg)

    async def _h_leg_ringing(self, live: LiveCall, args: dict[str, Any]) -> None:
        leg = live.call.leg(args.get("leg"))
        if leg is not None and leg.ringing_at is None:
            leg.ringing_at = self.now()

    async def _h_leg_answered(self, live: LiveCall, args: dict[str, Any]) -> None:
        call = live.call
        leg = call.leg(args.get("leg"))
        if leg is None or not leg.live or leg.answered_at is not None:
            return
        leg.answered_at = self.now()
        if not call.live:
            return
        if leg.role == "caller" and call.phase is Phase.ARRIVING:
            call.answered_at = leg.answered_at
            await self._start_entry(live)
        elif leg.role == "agent" and leg.id == call.agent_leg:
            if call.phase is Phase.RINGING:
                await self._agent_answered(live, leg)
            elif call.phase is Phase.OUTBOUND:
                from . import control

                await control.outbound_agent_answered(self, live, leg)
        elif leg.role in ("consult", "transfer", "outbound"):
            from . import control

            await control.target_answered(self, live, leg)

    async def _start_entry(self, live: LiveCall) -> None:
        call, entry = live.call, live.entry
        assert entry is not None
        if entry.ivr and self.registry is not None and self.registry.get(entry.ivr):
            from .ivr_driver import IvrDriver

            call.move("ivr")
            call.ivr_at = self.now()
            live.ivr = IvrDriver(self, live, entry)
            await live.ivr.start()
            return
        if entry.ivr:
            call.notes.append(f"IVR tree {entry.ivr!r} not loaded: greeting and queue")
        if not entry.queue:
            call.set_outcome("failed", "system", "no queue for this number")
            await self._end(live)
            return
        files = announce.prompt_files(entry.greeting, entry.tenant, self.language(call),
                                      self.library) if entry.greeting else []
        if files:
            call.move("greet")

            async def then() -> None:
                if call.phase is Phase.GREETING:
                    await self.enqueue(live, entry.queue or "")

            await self.play_chain(live, files, "greeting", then)
        else:
            await self.enqueue(live, entry.queue)

    def language(self, call: VoiceCall) -> str:
        t = self.server.tenants.get(call.tenant)
        return announce.speech_language(getattr(t, "language", "en"))

    async def enqueue(self, live: LiveCall, queue: str, *, skills: dict[str, int] | None = None,
                      priority: int = 0, data: dict[str, Any] | None = None,
                      arrival: float | None = None, preferred_agent: str | None = None,
                      event: str = "enqueue", channel: str = "voice") -> str | None:
        """Create the call's contact in ``queue`` (committed first) and play hold music."""
        call = live.call
        cid = f"c-{uuid.uuid4().hex[:20]}"
        contact_data = {"dnis": call.dnis, "call_id": call.id, "ani": call.ani,
                        **(data or {})}
        call.add_contact(cid, queue)
        self._by_contact[cid] = live
        self._all_contacts[cid] = live
        call.move(event)
        now = self.now()
        if call.queued_at is None:
            call.queued_at = now
        await self.start_moh(live)
        try:
            await self.server.create_contact(
                call.tenant, channel=channel, queue=queue, priority=priority,
                customer={"phone": call.ani} if call.ani else {}, data=contact_data,
                skills=skills, arrival=arrival, preferred_agent=preferred_agent,
                contact_id=cid)
        except Exception as exc:  # noqa: BLE001 - unknown queue, store down: cannot wait
            log.error("call %s: cannot queue in %s: %s", call.id, queue,
                      getattr(exc, "message", exc))
            self._by_contact.pop(cid, None)
            call.contact_id = None
            call.set_outcome("failed", "system", f"cannot queue: {queue}")
            await self._end(live)
            return None
        self.counters["queued"] += 1
        self._arm_announce(live)
        return cid

    # ------------------------------------------------------------------ waiting

    async def start_moh(self, live: LiveCall) -> None:
        if live.moh_play is None and live.call.caller_leg:
            r = await self.request(live, "play", leg=live.call.caller_leg, moh=True)
            if r:
                live.moh_play = r.get("play")

    async def stop_moh(self, live: LiveCall) -> None:
        play, live.moh_play = live.moh_play, None
        if play:
            await self.request(live, "stop_play", play=play)

    async def play_chain(self, live: LiveCall, files: list[str], tag: str,
                         on_done: Callable[[], Awaitable[None]] | None = None) -> None:
        """Play ``files`` on the caller leg back to back, then ``on_done``."""
        await self.stop_chain(live)
        live.chain = _Chain(list(files), tag, on_done)
        await self._chain_next(live)

    async def _chain_next(self, live: LiveCall) -> None:
        chain = live.chain
        if chain is None:
            return
        call = live.call
        while chain.index < len(chain.files):
            path = chain.files[chain.index]
            chain.index += 1
            r = await self.request(live, "play", leg=call.caller_leg, file=path)
            if r:
                chain.play_id = r.get("play")
                return
        live.chain = None
        if chain.on_done is not None:
            await chain.on_done()

    async def stop_chain(self, live: LiveCall) -> None:
        chain, live.chain = live.chain, None
        if chain is not None and chain.play_id:
            await self.request(live, "stop_play", play=chain.play_id)

    async def _h_play_done(self, live: LiveCall, args: dict[str, Any]) -> None:
        play = args.get("play")
        if live.moh_play == play:
            live.moh_play = None
        chain = live.chain
        if chain is not None and chain.play_id == play:
            if args.get("reason") == "done":
                chain.play_id = None
                await self._chain_next(live)
            else:
                live.chain = None
        if live.ivr is not None:
            await live.ivr.on_play_done(args)

    def _arm_announce(self, live: LiveCall) -> None:
        every = float(self.settings.announce_every_s or 0)
        if every <= 0:
            return
        if live.announce_timer is not None:
            live.announce_timer.cancel()
        live.announce_timer = asyncio.get_running_loop().call_later(
            every, self.post, live, "announce", None)

    async def _h_announce(self, live: LiveCall, _: Any) -> None:
        call = live.call
        live.announce_timer = None
        if call.phase not in (Phase.QUEUED, Phase.RINGING) or not call.contact_id:
            return
        if live.chain is not None:           # something else is being said: later
            self._arm_announce(live)
            return
        now = self.now()
        position = None
        wait = None
        try:
            waiting = self.server.engine.waiting(call.queue)
            if call.contact_id in waiting:
                position = waiting.index(call.contact_id) + 1
                stats = self.server.engine.queue_stats(call.queue, now)
                n, total = self._talk.get((call.tenant, call.queue or ""), (0, 0.0))
                wait = announce.estimate_wait(position, announce.staffed_agents(stats),
                                              total / n if n else None)
        except ev.EngineError:
            pass
        files = announce.announcement_files(position, wait, self.language(call), self.library)
        if not files:
            self._arm_announce(live)
            return
        self.counters["announcements"] += 1
        await self.stop_moh(live)

        async def back_to_music() -> None:
            if call.phase in (Phase.QUEUED, Phase.RINGING):
                await self.start_moh(live)
                self._arm_announce(live)

        await self.play_chain(live, files, "announce", back_to_music)

    # ------------------------------------------------------------------ the agent leg

    async def _h_offer(self, live: LiveCall, d: ev.Offer) -> None:
        call = live.call
        if d.contact_id != call.contact_id or call.phase is not Phase.QUEUED:
            log.info("call %s: offer of %s in phase %s ignored", call.id, d.contact_id,
                     call.phase.value)
            return
        call.move("offer")
        if call.offered_at is None:
            call.offered_at = self.now()
        try:
            uri = device_uri(d.device, self.settings.trunk)
        except DialError as exc:
            if exc.code == "no_trunk":
                # Treated as a device that does not answer: the engine's ring timeout
                # retracts the offer and counts the miss.
                log.error("call %s: agent %s has device %s but no trunk is configured; "
                          "the offer will ring out", call.id, d.agent_id, d.device)
                call.notes.append(f"agent {d.agent_id}: tel: device without trunk")
                return
            log.error("call %s: cannot ring agent %s: %s", call.id, d.agent_id, exc.message)
            call.notes.append(f"agent {d.agent_id}: {exc.code}")
            call.move("requeue")
            self.engine(ev.OfferRejected(d.contact_id, d.agent_id))
            return
        leg_id = await self.originate(live, uri, role="agent", agent_id=d.agent_id)
        if leg_id is None:
            if call.phase is Phase.RINGING and call.contact_id == d.contact_id:
                call.move("requeue")
                self.engine(ev.OfferRejected(d.contact_id, d.agent_id))
            return
        call.agent_leg = leg_id

    async def originate(self, live: LiveCall, uri: str, *, role: str,
                        agent_id: str | None = None, from_uri: str | None = None
                        ) -> str | None:
        """Place a leg in the call's worker; registers it; None when it failed."""
        call = live.call
        args: dict[str, Any] = {}
        if from_uri:
            args["from"] = from_uri
        assert self.pool is not None
        try:
            try:
                if call.reservation and self.pool.ledger.get(call.reservation) is not None:
                    _, leg_id = await self.pool.originate(uri, reservation=call.reservation,
                                                          **args)
                else:
                    _, leg_id = await self.pool.originate(uri, worker_id=call.worker_id,
                                                          **args)
            except PoolError as exc:
                if exc.code != "no_such_reservation":
                    raise
                _, leg_id = await self.pool.originate(uri, worker_id=call.worker_id, **args)
        except PoolError as exc:
            log.warning("call %s: originate %s failed: %s (%s)", call.id, uri, exc.message,
                        exc.code)
            call.notes.append(f"originate {role} failed: {exc.code}")
            return None
        self.register_leg(live, Leg(leg_id, role, "out", uri=uri, agent_id=agent_id,
                                    created_at=self.now()))
        return leg_id

    async def _agent_answered(self, live: LiveCall, leg: Leg) -> None:
        call = live.call
        assert call.contact_id is not None and leg.agent_id is not None
        if self.engine(ev.OfferAccepted(call.contact_id, leg.agent_id)) is None:
            leg.retracted = True
            call.agent_leg = None
            await self.request(live, "hangup", leg=leg.id)
            return
        call.move("answer")
        if call.agent_answered_at is None:
            call.agent_answered_at = leg.answered_at
        call.add_agent(leg.agent_id)
        await self.stop_chain(live)
        await self.stop_moh(live)
        self._cancel_announce(live)
        r = await self.request(live, "bridge", a=call.caller_leg, b=leg.id)
        call.bridge = r.get("bridge") if r else None
        self.counters["bridged"] += 1

    def _cancel_announce(self, live: LiveCall) -> None:
        if live.announce_timer is not None:
            live.announce_timer.cancel()
            live.announce_timer = None

    async def _h_retract(self, live: LiveCall, d: ev.RetractOffer) -> None:
        call = live.call
        leg = call.leg(call.agent_leg)
        if leg is not None and leg.agent_id == d.agent_id and leg.answered_at is None:
            leg.retracted = True
            call.agent_leg = None
            if leg.live:
                await self.request(live, "hangup", leg=leg.id)
        if call.phase is Phase.RINGING and (leg is None or leg.agent_id == d.agent_id):
            call.agent_leg = None
            call.move("requeue")

    async def _h_contact_updated(self, live: LiveCall, d: ev.ContactUpdated) -> None:
        call = live.call
        if d.contact_id != call.contact_id or not call.live:
            return
        if d.state == "ended" and call.phase in (Phase.QUEUED, Phase.RINGING):
            outcome = d.outcome.value if d.outcome is not None else "cancelled"
            call.set_outcome(outcome, "system", d.reason)
            self._by_contact.pop(d.contact_id, None)
            call.contact_id = None
            await self._end(live)
        elif d.state in ("wrap_up", "ended") and call.phase is Phase.CONNECTED:
            # completed through the API or by a supervisor: the conversation is over
            call.set_outcome("answered", "agent", d.reason or "completed")
            self._by_contact.pop(d.contact_id, None)
            call.contact_id = None
            await self._end(live)

    # ------------------------------------------------------------------ hang-ups

    async def _h_leg_hungup(self, live: LiveCall, args: dict[str, Any]) -> None:
        call = live.call
        code = args.get("code")
        leg = call.end_leg(str(args.get("leg")), self.now(), code=code,
                           reason=args.get("reason"), by=args.get("by"),
                           stats=args.get("stats"))
        if leg is None:
            return
        cause = f"{code} {args.get('reason') or ''}".strip()
        if leg.role == "caller":
            await self._caller_gone(live, leg, cause)
        elif leg.role == "agent":
            await self._agent_gone(live, leg, cause)
        else:
            from . import control

            await control.target_gone(self, live, leg, cause)

    async def _caller_gone(self, live: LiveCall, leg: Leg, cause: str) -> None:
        call = live.call
        if not call.live:
            return
        if live.ivr is not None:
            await live.ivr.caller_hung_up()
        cid = call.contact_id
        if cid is not None and call.phase in (Phase.QUEUED, Phase.RINGING, Phase.CONNECTED):
            if call.phase is Phase.RINGING:
                ringing = call.leg(call.agent_leg)
                if ringing is not None:
                    ringing.retracted = True
            self.engine(ev.ContactAbandoned(cid))
        call.set_outcome(default_outcome(call), "caller", cause)
        await self._end(live)

    async def _agent_gone(self, live: LiveCall, leg: Leg, cause: str) -> None:
        call = live.call
        if leg.retracted or not call.live or leg.id != call.agent_leg:
            return
        cid = call.contact_id
        if call.phase is Phase.RINGING:
            # the agent's phone refused or failed before answering
            call.agent_leg = None
            call.move("requeue")
            if cid is not None and leg.agent_id:
                self.engine(ev.OfferRejected(cid, leg.agent_id))
            return
        if call.phase is Phase.OUTBOUND:
            call.set_outcome("no_answer", "agent", cause)
            await self._end(live)
            return
        if call.phase is Phase.CONNECTED:
            from . import control

            if await control.agent_left_conference(self, live, leg):
                return
            if cid is not None and leg.agent_id:
                self.engine(ev.ContactCompleted(cid, leg.agent_id))
            call.set_outcome("completed" if call.direction == "outbound" else "answered",
                             "agent", cause)
            await self._end(live)

    async def _h_worker_lost(self, live: LiveCall, args: dict[str, Any]) -> None:
        call = live.call
        now = self.now()
        for leg in call.live_legs():
            call.end_leg(leg.id, now, reason="worker lost", by="crash")
        if not call.live:
            return
        call.set_outcome("lost_on_crash", "system",
                         f"worker {args.get('worker')} lost: {args.get('reason')}")
        self.counters["lost_on_crash"] += 1
        cid = call.contact_id
        if cid is not None:
            if call.phase is Phase.CONNECTED and call.agent_id:
                self.engine(ev.ContactCompleted(cid, call.agent_id))
            elif call.phase in (Phase.QUEUED, Phase.RINGING) \
                    and self.engine(ev.ContactCancelled(cid, "lost_on_crash")) is not None:
                await self.server.drain_writes()
                await self.server.store.update_contact(cid, outcome="lost_on_crash")
        await self._end(live)

    async def _h_media_stats(self, live: LiveCall, args: dict[str, Any]) -> None:
        leg = live.call.leg(args.get("leg"))
        if leg is not None:
            leg.stats = {k: v for k, v in args.items() if k != "leg"}

    async def _h_dtmf(self, live: LiveCall, args: dict[str, Any]) -> None:
        if live.ivr is not None and args.get("leg") == live.call.caller_leg:
            await live.ivr.on_dtmf(str(args.get("digit", "")))

    async def _h_ivr_event(self, live: LiveCall, payload: Any) -> None:
        if live.ivr is not None:
            await live.ivr.on_event(payload)

    # ------------------------------------------------------------------ the end

    async def _end(self, live: LiveCall) -> None:
        """Stop everything the call does and hang up its legs; the CDR follows once
        every leg has ended (or after a grace period)."""
        call = live.call
        if call.phase is Phase.ENDED:
            return
        call.move("end")
        self._cancel_announce(live)
        live.chain = None
        if live.ivr is not None:
            live.ivr.close()
        if call.contact_id is not None:
            self._by_contact.pop(call.contact_id, None)
        for leg in call.live_legs():
            leg.retracted = True
            await self.request(live, "hangup", leg=leg.id)
        if call.live_legs() and live.ending_timer is None:
            live.ending_timer = asyncio.get_running_loop().call_later(
                ENDING_GRACE_S, self.post, live, "ending_timeout", None)

    async def _h_ending_timeout(self, live: LiveCall, _: Any) -> None:
        now = self.now()
        for leg in live.call.live_legs():
            log.warning("call %s: leg %s did not end; writing the CDR anyway", live.call.id,
                        leg.id)
            live.call.end_leg(leg.id, now, reason="no hang-up report", by="local")

    async def _finalize(self, live: LiveCall) -> None:
        call = live.call
        if call.phase is Phase.ENDED:
            return
        now = self.now()
        call.ended_at = now
        if live.ending_timer is not None:
            live.ending_timer.cancel()
        self._cancel_announce(live)
        if call.phase is not Phase.ENDING:
            call.move("end")
        call.move("finish")
        if call.reservation and self.pool is not None:
            self.pool.release(call.reservation)
        if call.ivr_at is not None and call.ivr_ended_at is None:
            call.ivr_ended_at = now
        if call.agent_answered_at is not None and call.queue and call.outcome == "answered":
            key = (call.tenant, call.queue)
            n, total = self._talk.get(key, (0, 0.0))
            self._talk[key] = (n + 1, total + max(0.0, now - call.agent_answered_at))
        cdr = build_cdr(call)
        self.counters[f"outcome_{cdr['outcome']}"] += 1
        for leg_id in call.legs:
            self._by_leg.pop(leg_id, None)
        for cid in call.contacts:
            self._by_contact.pop(cid, None)
            self._all_contacts.pop(cid, None)
        self._ended[call.id] = call.view()
        for cid in call.contacts:
            self._ended[cid] = self._ended[call.id]
        while len(self._ended) > ENDED_VIEWS_KEEP:
            self._ended.popitem(last=False)
        try:
            await self.server.store.save_cdr(call.tenant, cdr["contact_id"] or call.id, cdr,
                                             at=now, id=call.id)
        except Exception:
            log.exception("call %s: CDR not stored", call.id)
        bus = getattr(self.server, "bus", None)
        if bus is not None:
            bus.publish(f"{call.tenant}/cdrs", {"event": "cdr", "id": call.id,
                                                "tenant": call.tenant, "at": now,
                                                "data": cdr})
        self.calls.pop(call.id, None)
        log.info("call %s ended: %s (%s, %s)", call.id, cdr["outcome"], call.hangup_side,
                 call.hangup_cause)

    # ================================================================ look-ups (API)

    def find(self, call_or_contact: str) -> LiveCall | None:
        return self.calls.get(call_or_contact) or self._all_contacts.get(call_or_contact)

    def ended_view(self, call_or_contact: str) -> dict[str, Any] | None:
        return self._ended.get(call_or_contact)

"""The campaign runner: a server gateway that drives one Pacer per running campaign.

    server.add_gateway(CampaignRunner())          # or CampaignRunner(dialer=...)

For each running campaign it holds a :class:`~acd.dialer.Pacer` loaded with the
campaign's open leads and the tenant's and global do-not-call numbers, and

* feeds it ``Tick`` about once a second (``tick()``; fired timers ride along),
* feeds it agent availability from the engine's ``AgentUpdated`` notices (``on_decision``)
  for the agents who serve the campaign's queue (their skills meet the queue's and the
  campaign's requirements),
* feeds do-not-call changes (``dnc_changed``) so the pacer re-checks at dial time,
* executes its decisions: ``Dial`` / ``Connect`` / ``Play*`` / ``HangUp`` go to the
  outbound dialer, ``StartTimer`` / ``CancelTimer`` are kept here, ``Audit`` /
  ``ScheduleRetry`` / ``LeadClosed`` become ``dial_audit`` and lead rows (written in order
  by one writer task).

The outbound dialer is an object with ``dial(d: Dial, caller_id: str) -> None``,
``connect(call_id, agent_id)``, ``play(call_id, text)`` and ``hangup(call_id, reason,
after_prompt)``; it reports call progress back with :meth:`CampaignRunner.call_event`.
Without one (the voice gateway has no outbound-originate API yet) a ``Dial`` is
recorded in the audit as "not dialed: voice unavailable", the attempt ends as failed, and
the campaign is paused with that reason, so the list is not burnt through.

Pausing makes every agent busy to the pacer (no new dials; calls in flight finish);
stopping does the same and drops the pacer when the last call has ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from acd import events as aev
from acd.dialer import Pacer
from acd.dialer import events as dev
from acd.dialer.events import DialerError
from acd.dialer.governor import WINDOWS
from acd.events import EngineError
from acd.model import Presence

from .model import CampaignError, CampaignSpec, CampaignState
from .repository import CampaignRepository

log = logging.getLogger("ipcc.campaigns")

VOICE_UNAVAILABLE = "not dialed: voice unavailable"
#: Pacer agent states in which a campaign holds the agent (no other campaign may offer).
_HELD = frozenset({"on_call", "dialing", "previewing", "wrap_up"})


class OutboundDialer(Protocol):
    def dial(self, d: dev.Dial, caller_id: str) -> None: ...
    def connect(self, call_id: str, agent_id: str) -> None: ...
    def play(self, call_id: str, text: str) -> None: ...
    def hangup(self, call_id: str, reason: str, after_prompt: bool) -> None: ...


@dataclass
class LiveCampaign:
    tenant: str
    id: str
    spec: CampaignSpec
    pacer: Pacer
    paused: bool = False
    stopping: bool = False
    agents: set[str] = field(default_factory=set)     # agents serving this campaign
    dialed: int = 0
    connected: int = 0
    not_dialed: int = 0
    timers: dict[tuple[Hashable, ...], float] = field(default_factory=dict)
    previews: dict[str, str] = field(default_factory=dict)   # agent -> lead shown

    @property
    def key(self) -> str:
        return f"{self.tenant}/{self.id}"


class CampaignRunner:
    """See the module docstring. ``clock`` defaults to the server's."""

    name = "campaigns"

    def __init__(self, *, dialer: OutboundDialer | None = None, tick_s: float = 1.0,
                 clock: Callable[[], float] | None = None, ticker: bool = True) -> None:
        self.dialer = dialer
        self.tick_s = tick_s
        self._clock = clock
        self._ticker_enabled = ticker
        self.server: Any = None
        self.repo: CampaignRepository | None = None
        self.live: dict[str, LiveCampaign] = {}
        self._writes: asyncio.Queue[tuple[str, str, list[Any], float]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._handles: dict[tuple[str, tuple[Hashable, ...]], asyncio.TimerHandle] = {}
        self.write_errors = 0

    # ------------------------------------------------------------------ gateway API

    def now(self) -> float:
        if self._clock is not None:
            return self._clock()
        if self.server is not None:
            return float(self.server.clock())
        return time.time()

    async def start(self, server: Any) -> None:
        self.server = server
        server.campaigns = self           # the REST routes find the runner here
        self.repo = CampaignRepository(server.store)
        self._tasks.append(asyncio.create_task(self._writer(), name="ipcc-campaign-writer"))
        for c in await self.repo.list(state=CampaignState.RUNNING):
            try:
                await self.activate(c["tenant"], c["id"])
            except Exception:
                log.exception("campaign %s/%s could not be resumed", c["tenant"], c["id"])
        if self._ticker_enabled:
            self._tasks.append(asyncio.create_task(self._ticker(), name="ipcc-campaign-tick"))

    async def stop(self) -> None:
        for h in self._handles.values():
            h.cancel()
        self._handles.clear()
        await self.flush()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.live.clear()

    def health(self) -> dict[str, Any]:
        return {"ok": self.write_errors == 0, "running": len(self.live),
                "voice": self.voice_available, "write_errors": self.write_errors}

    @property
    def voice_available(self) -> bool:
        return self._outbound() is not None

    def _outbound(self) -> OutboundDialer | None:
        if self.dialer is not None:
            return self.dialer
        # A voice gateway that can place campaign calls offers ``campaign_dialer()``.
        for g in getattr(self.server, "gateways", []):
            factory = getattr(g, "campaign_dialer", None)
            if factory is not None:
                dialer = factory()
                if dialer is not None:
                    self.dialer = dialer
                    return dialer
        return None

    def on_decision(self, d: Any) -> None:
        if isinstance(d, aev.AgentUpdated):
            self._agent_changed(d.tenant, d.agent_id, d.presence, bool(d.activity))

    # ------------------------------------------------------------------ life cycle

    async def activate(self, tenant: str, campaign_id: str) -> LiveCampaign:
        """Start (or resume) pacing a campaign the repository says is running."""
        assert self.repo is not None
        key = f"{tenant}/{campaign_id}"
        live = self.live.get(key)
        now = self.now()
        spec = await self.repo.spec(tenant, campaign_id)
        if live is not None and spec != live.spec and live.pacer.active_calls == 0:
            # edited while paused: start a pacer on the new definition (lead rows are
            # current; the abandonment history is reloaded from the audit)
            self.live.pop(key)
            for k in [k for k in self._handles if k[0] == key]:
                self._handles.pop(k).cancel()
            live = None
        if live is not None:
            live.paused = live.stopping = False
            self._offer_agents(live, now)
            return live
        config = spec.pacer_config(key)
        history = await self.repo.abandon_history(tenant, campaign_id, now - WINDOWS["30d"])
        dnc = await self.repo.dnc_numbers_for(tenant)
        pacer = Pacer(config, governor_history=history, dnc=dnc)
        live = LiveCampaign(tenant, campaign_id, spec, pacer)
        self.live[key] = live
        leads = await self.repo.dialable_leads(tenant, campaign_id, spec)
        self._feed(live, dev.LeadsAdded(tuple(leads)), now)
        self._offer_agents(live, now)
        log.info("campaign %s running with %d open leads", key, len(leads))
        return live

    def pause(self, tenant: str, campaign_id: str, *, stopping: bool = False) -> None:
        """No new dials: every agent is busy to the pacer; calls in flight go on."""
        live = self.live.get(f"{tenant}/{campaign_id}")
        if live is None:
            return
        live.paused = True
        live.stopping = stopping
        now = self.now()
        # Idle (or previewing) agents leave the campaign now; an agent on a call or in
        # wrap-up stays until his result is saved (see agent_done).
        agents = [a for a in sorted(live.agents)
                  if live.pacer.agent_state(a).value in ("idle", "previewing")]
        for agent_id in agents:
            self._feed(live, dev.AgentBusy(agent_id, "campaign_paused"), now)
        self._maybe_drop(live)
        engine = self.server.engine
        for agent_id in agents:          # free for the tenant's other running campaigns
            try:
                view = engine.agent_view(agent_id)
            except EngineError:
                continue
            self._agent_changed(live.tenant, agent_id, Presence(view["presence"]),
                                bool(view.get("contacts")))

    def _maybe_drop(self, live: LiveCampaign) -> None:
        if live.stopping and live.pacer.active_calls == 0:
            self.live.pop(live.key, None)
            for k in [k for k in self._handles if k[0] == live.key]:
                self._handles.pop(k).cancel()

    # ------------------------------------------------------------------ agents

    def _serves(self, live: LiveCampaign, agent_id: str) -> bool:
        engine = self.server.engine
        try:
            view = engine.agent_view(agent_id)
        except EngineError:
            return False
        if view.get("tenant") != live.tenant:
            return False
        skills: dict[str, int] = view.get("skills") or {}
        need: dict[str, int] = {s: 1 for s in live.spec.skills}
        try:
            need.update(engine.queue_config(live.spec.queue).skills)
        except EngineError:
            return False
        return all(skills.get(s, 0) >= level for s, level in need.items())

    def _campaigns_of(self, tenant: str, agent_id: str) -> list[LiveCampaign]:
        """Live campaigns the agent serves, the one to work first first (lower
        ``priority`` first, then the one started first)."""
        lives = [live for live in self.live.values()
                 if live.tenant == tenant and self._serves(live, agent_id)]
        order = {key: i for i, key in enumerate(self.live)}
        return sorted(lives, key=lambda live: (live.spec.priority, order[live.key]))

    @staticmethod
    def _owner(lives: list[LiveCampaign], agent_id: str) -> LiveCampaign | None:
        """The one campaign an agent is offered to: the one holding him on campaign
        work, else the first running one. An agent is never idle in two pacers at once
        (each would give him a call)."""
        for live in lives:
            if live.pacer.agent_state(agent_id).value in _HELD:
                return live
        return next((live for live in lives if not live.paused), None)

    def _agent_changed(self, tenant: str, agent_id: str, presence: Presence,
                       has_work: bool) -> None:
        lives = self._campaigns_of(tenant, agent_id)
        owner = self._owner(lives, agent_id)
        for live in lives:
            self._agent_update(live, agent_id, presence, has_work, live is owner)

    def _agent_update(self, live: LiveCampaign, agent_id: str, presence: Presence,
                      has_work: bool, mine: bool) -> None:
        live.agents.add(agent_id)
        state = live.pacer.agent_state(agent_id).value
        now = self.now()
        if presence is Presence.LOGGED_OUT:
            self._feed(live, dev.AgentLoggedOut(agent_id), now)
            live.agents.discard(agent_id)
            return
        if state in ("on_call", "dialing", "previewing"):
            return                      # the pacer owns the agent while on campaign work
        if state == "wrap_up" and presence is Presence.READY:
            return                      # wrap-up ends with the agent's result
        if presence is Presence.READY and not has_work and not live.paused and mine:
            self._feed(live, dev.AgentAvailable(agent_id), now)
        elif state not in ("away", "logged_out"):
            reason = ("not_ready" if presence is Presence.NOT_READY
                      else "other_work" if has_work or live.paused else "other_campaign")
            self._feed(live, dev.AgentBusy(agent_id, reason), now)
        elif state == "logged_out":
            self._feed(live, dev.AgentBusy(agent_id, "not_ready"), now)

    def _offer_agents(self, live: LiveCampaign, now: float) -> None:
        engine = self.server.engine
        for agent_id in engine.agent_ids():
            try:
                view = engine.agent_view(agent_id)
            except EngineError:      # removed since agent_ids() was read
                continue
            if view.get("tenant") == live.tenant:
                self._agent_changed(live.tenant, agent_id, Presence(view["presence"]),
                                    bool(view.get("contacts")))

    def agent_done(self, tenant: str, campaign_id: str, agent_id: str) -> None:
        """The agent saved the call's result: wrap-up over, free again if ready."""
        live = self.live.get(f"{tenant}/{campaign_id}")
        if live is not None and live.pacer.agent_state(agent_id).value != "wrap_up":
            return
        try:
            view = self.server.engine.agent_view(agent_id)
        except EngineError:
            return
        now = self.now()
        presence = Presence(view["presence"])
        if live is None:                 # the campaign was stopped meanwhile
            self._agent_changed(tenant, agent_id, presence, bool(view.get("contacts")))
            return
        lives = self._campaigns_of(tenant, agent_id)
        first = next((x for x in lives if not x.paused), None)
        if presence is Presence.READY and not view.get("contacts") and first is live:
            self._feed(live, dev.AgentAvailable(agent_id), now)   # wrap-up time recorded
            return
        self._feed(live, dev.AgentBusy(agent_id, "wrap_up_done"), now)
        self._agent_changed(tenant, agent_id, presence, bool(view.get("contacts")))

    # ------------------------------------------------------------------ inputs

    def dnc_changed(self, tenant: str, added: tuple[str, ...] = (),
                    removed: tuple[str, ...] = ()) -> None:
        """Numbers added to/removed from a tenant's list (tenant ``"*"``: every tenant)."""
        now = self.now()
        for live in list(self.live.values()):
            if tenant in ("*", live.tenant):
                self._feed(live, dev.DncUpdated(added, removed), now)

    def leads_added(self, tenant: str, campaign_id: str, leads: tuple[Any, ...]) -> None:
        live = self.live.get(f"{tenant}/{campaign_id}")
        if live is not None and leads:
            self._feed(live, dev.LeadsAdded(leads), self.now())

    def call_event(self, call_id: str, event: dev.Event) -> None:
        """The outbound dialer reports progress of a call it placed."""
        key = call_id.rsplit(":", 1)[0]
        live = self.live.get(key)
        if live is None:
            log.info("report about unknown campaign call %s ignored", call_id)
            return
        self._feed(live, event, self.now())
        self._maybe_drop(live)

    def tick(self, now: float | None = None) -> None:
        """Fire due timers and send ``Tick`` to every live campaign."""
        now = self.now() if now is None else now
        for live in list(self.live.values()):
            for key, at in sorted(live.timers.items(), key=lambda kv: kv[1]):
                if at <= now and key in live.timers:
                    self._fire(live, key, now)
            self._feed(live, dev.Tick(), now)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.tick()
            except Exception:
                log.exception("campaign tick failed")

    # ------------------------------------------------------------------ decisions

    def _feed(self, live: LiveCampaign, event: dev.Event, now: float,
              strict: bool = False) -> None:
        """Hand one event to the pacer and carry out what it decides (and what that
        leads to synchronously, e.g. a dial that cannot be placed). ``strict``: a
        DialerError about ``event`` itself goes to the caller (an agent's request)."""
        pending: list[dev.Event] = [event]
        while pending:
            e = pending.pop(0)
            try:
                decisions = live.pacer.handle(e, now)
            except DialerError as exc:
                if strict and e is event:
                    raise
                log.warning("campaign %s: %s refused: %s", live.key, type(e).__name__,
                            exc.message)
                continue
            pending.extend(self._apply(live, decisions, now))

    def _apply(self, live: LiveCampaign, decisions: list[dev.Decision],
               now: float) -> list[dev.Event]:
        notices: list[Any] = []
        follow: list[dev.Event] = []
        dialer = self._outbound()
        for d in decisions:
            if isinstance(d, dev.Dial):
                if dialer is None:
                    live.not_dialed += 1
                    self._queue_note(live, d, now)
                    if not live.paused:
                        # Pause before the failure is reported, or the pacer would dial
                        # the next lead for the same free agent and burn the list.
                        live.paused = True
                        follow.extend(dev.AgentBusy(a, "campaign_paused")
                                      for a in sorted(live.agents))
                        asyncio.get_running_loop().create_task(
                            self._auto_pause(live, "voice_unavailable"))
                    follow.append(dev.CallFailed(d.call_id, "voice_unavailable"))
                else:
                    live.dialed += 1
                    dialer.dial(d, live.spec.caller_id)
            elif isinstance(d, dev.Connect):
                live.connected += 1
                if dialer is not None:
                    dialer.connect(d.call_id, d.agent_id)
            elif isinstance(d, (dev.PlayAbandonMessage, dev.PlayMachineMessage)):
                if dialer is not None:
                    dialer.play(d.call_id, d.text)
            elif isinstance(d, dev.HangUp):
                if dialer is not None:
                    dialer.hangup(d.call_id, d.reason, d.after_prompt)
            elif isinstance(d, dev.StartTimer):
                self._start_timer(live, d.key, d.at, now)
            elif isinstance(d, dev.CancelTimer):
                live.timers.pop(d.key, None)
                h = self._handles.pop((live.key, d.key), None)
                if h is not None:
                    h.cancel()
            elif isinstance(d, (dev.Audit, dev.ScheduleRetry, dev.LeadClosed)):
                notices.append(d)
            elif isinstance(d, dev.ShowPreview):
                live.previews[d.agent_id] = d.lead_id
                self._notify(live, "campaign.preview", d.agent_id,
                             {"campaign_id": live.id, "lead_id": d.lead_id,
                              "timeout_s": d.timeout_s})
            elif isinstance(d, dev.WithdrawPreview):
                if live.previews.get(d.agent_id) == d.lead_id:
                    del live.previews[d.agent_id]
                self._notify(live, "campaign.preview_withdrawn", d.agent_id,
                             {"campaign_id": live.id, "lead_id": d.lead_id,
                              "reason": d.reason})
            elif isinstance(d, dev.PacingChanged):
                log.info("campaign %s pacing %s (%s)", live.key, d.mode.value, d.reason)
        if notices:
            self._writes.put_nowait((live.tenant, live.id, notices, now))
        return follow

    def _notify(self, live: LiveCampaign, kind: str, entity: str,
                payload: dict[str, Any]) -> None:
        """Journal and push to the tenant's browsers (the agent desktop)."""
        emit = getattr(self.server, "_emit", None)
        if emit is not None:
            emit(live.tenant, kind, entity, payload)

    # ------------------------------------------------------------------ agent requests

    def _live_or_error(self, tenant: str, campaign_id: str) -> LiveCampaign:
        live = self.live.get(f"{tenant}/{campaign_id}")
        if live is None:
            raise DialerError("campaign_not_running", f"campaign {campaign_id} is not running")
        return live

    def preview_of(self, tenant: str, campaign_id: str, agent_id: str) -> str | None:
        live = self.live.get(f"{tenant}/{campaign_id}")
        return None if live is None else live.previews.get(agent_id)

    def answer_preview(self, tenant: str, campaign_id: str, agent_id: str, lead_id: str,
                       accept: bool) -> None:
        """Preview mode: the agent calls the record shown, or skips it."""
        live = self._live_or_error(tenant, campaign_id)
        event = (dev.PreviewAccepted(agent_id, lead_id) if accept
                 else dev.PreviewSkipped(agent_id, lead_id))
        if live.previews.get(agent_id) == lead_id:
            del live.previews[agent_id]
        self._feed(live, event, self.now(), strict=True)

    def manual_dial(self, tenant: str, campaign_id: str, agent_id: str, lead_id: str) -> None:
        """Manual mode: the agent pressed "call" on a record."""
        live = self._live_or_error(tenant, campaign_id)
        self._feed(live, dev.ManualDialRequested(agent_id, lead_id), self.now(), strict=True)

    def _queue_note(self, live: LiveCampaign, d: dev.Dial, now: float) -> None:
        rec = live.pacer._hopper.get(d.lead_id)
        tz = rec.lead.tz if rec is not None else "UTC"
        self._writes.put_nowait((live.tenant, live.id, [("note", d, tz)], now))

    async def _auto_pause(self, live: LiveCampaign, reason: str) -> None:
        assert self.repo is not None
        try:
            await self.repo.transition(live.tenant, live.id, "pause", self.now(), reason)
        except CampaignError as exc:     # stopped or deleted meanwhile
            log.warning("campaign %s could not be paused: %s", live.key, exc.message)
        self.pause(live.tenant, live.id)
        log.warning("campaign %s paused: %s", live.key, reason)

    def _start_timer(self, live: LiveCampaign, key: tuple[Hashable, ...], at: float,
                     now: float) -> None:
        live.timers[key] = at
        if self._clock is None and self.server is not None:
            old = self._handles.pop((live.key, key), None)
            if old is not None:
                old.cancel()
            loop = asyncio.get_running_loop()
            self._handles[(live.key, key)] = loop.call_later(
                max(0.0, at - now), self._fire_now, live.key, key)

    def _fire_now(self, live_key: str, key: tuple[Hashable, ...]) -> None:
        self._handles.pop((live_key, key), None)
        live = self.live.get(live_key)
        if live is not None and key in live.timers:
            self._fire(live, key, self.now())

    def _fire(self, live: LiveCampaign, key: tuple[Hashable, ...], now: float) -> None:
        live.timers.pop(key, None)
        self._feed(live, dev.TimerFired(key), now)
        self._maybe_drop(live)

    # ------------------------------------------------------------------ store writes

    async def _writer(self) -> None:
        assert self.repo is not None
        while True:
            tenant, cid, notices, now = await self._writes.get()
            try:
                plain = [n for n in notices if not isinstance(n, tuple)]
                for n in notices:
                    if isinstance(n, tuple):
                        _, d, tz = n
                        await self.repo.add_audit_note(
                            tenant, cid, at=now, call_id=d.call_id, lead_id=d.lead_id,
                            phone=d.phone, tz=tz, mode=d.mode.value, outcome="not_dialed",
                            note=VOICE_UNAVAILABLE)
                if plain:
                    await self.repo.apply_lead_notices(tenant, cid, plain, now)
            except Exception:
                self.write_errors += 1
                log.exception("campaign %s/%s: store write failed", tenant, cid)
            finally:
                self._writes.task_done()

    async def flush(self) -> None:
        """Wait until every audit and lead row decided so far is committed."""
        if any(not t.done() for t in self._tasks):
            await self._writes.join()

    # ------------------------------------------------------------------ progress

    def progress(self, tenant: str, campaign_id: str) -> dict[str, Any]:
        """Live figures for the manager page (zeros when the campaign is not paced now)."""
        live = self.live.get(f"{tenant}/{campaign_id}")
        out: dict[str, Any] = {"live": live is not None, "voice": self.voice_available}
        if live is None:
            return out | {"dialed": 0, "connected": 0, "not_dialed": 0,
                          "abandon_pct": {"24h": None, "30d": None},
                          "agents": {"logged_in": 0, "idle": 0, "on_call": 0},
                          "calls_in_flight": 0, "waiting": 0, "mode": None}
        p = live.pacer
        now = self.now()
        return out | {
            "dialed": live.dialed, "connected": live.connected,
            "not_dialed": live.not_dialed, "paused": live.paused,
            "abandon_pct": {w: round(p.governor.rate_pct(w, now), 3) for w in WINDOWS},
            "abandon_limit_pct": live.spec.abandon_limit_pct,
            "agents": {"logged_in": p.logged_in_agents, "idle": p.idle_agents,
                       "on_call": p.agents_on_call},
            "calls_in_flight": p.active_calls, "waiting": p.waiting_calls,
            "mode": p.effective_mode.value, "mode_reason": p.pacing_reason,
        }

"""The campaign pacer: a sans-I/O object that turns dialer events into decisions.

    pacer = Pacer(CampaignConfig(id="c1", company="Acme", callback_number="+1 555 0100",
                                 mode=Mode.PREDICTIVE))
    decisions = pacer.handle(AgentAvailable("a1"), now=clock())

It holds the campaign's agents, calls and lead list (the hopper), and never reads a
clock, sleeps or does I/O: time comes in as ``now`` and every effect goes out as a
decision (:mod:`acd.dialer.events`). The same object runs in the server and in the
discrete-event simulator (:mod:`acd.dialer.sim`).

Per event the pacer updates state through the tables of :mod:`acd.dialer.states`, then
*paces*: answered calls waiting for an agent get the longest-idle free agent, blending
releases or reclaims agents, and the mode decides what to start:

* manual - nothing by itself; ``ManualDialRequested`` dials with the agent on the line;
* preview - each free agent is shown the next due record (``ShowPreview``) and calls it
  (``PreviewAccepted``) or skips it; at the timeout the configured action is taken;
* progressive / predictive - the strategy (:mod:`acd.dialer.predictive`) says how many
  lines to dial now.

Every dial goes through the same gate: the lead is due, inside a calling window in its
local time, not abandoned by us in the last 72 hours unless an agent is already on the
line, and - checked last, at dial time - not on the do-not-call list. Every attempt ends in
exactly one ``Audit`` and then either ``ScheduleRetry`` (per the outcome's delay, moved to
the next calling window) or ``LeadClosed``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from . import events as ev
from .events import DialerError
from .forecast import DurationStats, RingStats
from .governor import AbandonGovernor
from .hopper import Hopper, LeadRecord
from .model import (
    AnswerKind,
    CampaignConfig,
    Mode,
    Outcome,
)
from .predictive import PacingStrategy, Plan, PredictiveStrategy, ProgressiveStrategy
from .states import AGENT, CALL, AgentState, CallState, step
from .windows import CallingPolicy, local_iso


@dataclass
class _AgentRec:
    id: str
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    call_id: str | None = None
    preview_lead: str | None = None


@dataclass
class _CallRec:
    id: str
    lead_id: str
    dialed_at: float
    local_time: str
    mode: Mode
    agent_id: str | None           # agent on the line from the start (manual, preview)
    state: CallState = CallState.DIALING
    answered_at: float | None = None
    connected_at: float | None = None
    assigned_agent: str | None = None
    extras: dict[str, str] = field(default_factory=dict)


class Pacer:
    """One outbound campaign. See the module docstring."""

    def __init__(self, config: CampaignConfig, *, strategy: PacingStrategy | None = None,
                 governor_history: Iterable[tuple[float, bool]] = (),
                 dnc: Iterable[str] = ()) -> None:
        self.config = config
        p = config.predictive
        self.policy = CallingPolicy(config.windows, config.holidays)
        self._governor = AbandonGovernor(config.abandon_limit_pct, config.goal_pct, p,
                                         governor_history)
        self._ring_stats = RingStats(p.sample_window, math.ceil(config.ring_timeout_s) + 1,
                                     int(p.horizon_s))
        self._talk_stats = DurationStats(p.sample_window)
        self._wrap_stats = DurationStats(p.sample_window)
        self.mode = config.mode
        self.effective_mode = config.mode
        self.pacing_reason = "configured"
        self._custom_strategy = strategy
        self._progressive = ProgressiveStrategy(config.progressive_ratio, p.min_samples)
        self._predictive = PredictiveStrategy(p, config.max_lines)
        self._hopper = Hopper(self.policy, config.retry, dnc)
        self._agents: dict[str, _AgentRec] = {}
        self._idle: dict[str, None] = {}        # insertion order = longest idle first
        self._wrap: dict[str, float] = {}
        self._talk: dict[str, float] = {}
        self._calls: dict[str, _CallRec] = {}
        self._ringing: dict[str, float] = {}    # pacer-dialled lines still ringing
        self._waiting: dict[str, None] = {}     # answered, no agent yet, oldest first
        self._active = 0                        # calls not yet ended
        self._call_seq = itertools.count(1)
        self._sl: dict[str, tuple[float, float]] = {}
        self._released: dict[str, str] = {}
        self._last_blend: float | None = None
        self._blend_slow = False
        self._logged_in = 0

    # ============================================================== PacingView

    @property
    def idle_agents(self) -> int:
        return len(self._idle)

    @property
    def logged_in_agents(self) -> int:
        return self._logged_in

    @property
    def agents_on_call(self) -> int:
        return len(self._talk)

    @property
    def waiting_calls(self) -> int:
        return len(self._waiting)

    @property
    def active_calls(self) -> int:
        return self._active

    def ringing_since(self) -> Iterator[float]:
        return iter(self._ringing.values())

    @property
    def wrap_since(self) -> Mapping[str, float]:
        return self._wrap

    @property
    def talk_since(self) -> Mapping[str, float]:
        return self._talk

    @property
    def ring_stats(self) -> RingStats:
        return self._ring_stats

    @property
    def talk_stats(self) -> DurationStats:
        return self._talk_stats

    @property
    def wrap_stats(self) -> DurationStats:
        return self._wrap_stats

    @property
    def governor(self) -> AbandonGovernor:
        return self._governor

    @property
    def grace_s(self) -> float:
        return self.config.abandon_grace_s

    @property
    def blend_slowdown(self) -> bool:
        return self._blend_slow

    # =========================================================== inspection

    def agent_state(self, agent_id: str) -> AgentState:
        rec = self._agents.get(agent_id)
        return rec.state if rec else AgentState.LOGGED_OUT

    def call_state(self, call_id: str) -> CallState | None:
        rec = self._calls.get(call_id)
        return rec.state if rec else None

    def lead_status(self, lead_id: str) -> str | None:
        rec = self._hopper.get(lead_id)
        return rec.status if rec else None

    def lead_attempts(self, lead_id: str) -> int:
        return self._hopper.leads[lead_id].attempts

    def is_dnc(self, phone: str) -> bool:
        return self._hopper.is_dnc(phone)

    # =============================================================== handle

    def handle(self, event: ev.Event, now: float) -> list[ev.Decision]:
        out: list[ev.Decision] = []
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise DialerError("unknown_event", f"unknown event {type(event).__name__}")
        handler(self, event, now, out)
        self._pace(now, out)
        return out

    # ---------------------------------------------------------------- leads

    def _on_leads_added(self, e: ev.LeadsAdded, now: float, out: list[ev.Decision]) -> None:
        self._hopper.add(e.leads, out)

    def _on_lead_removed(self, e: ev.LeadRemoved, now: float, out: list[ev.Decision]) -> None:
        rec = self._hopper.get(e.lead_id)
        if rec is None or rec.status == "closed":
            return
        if rec.status == "in_call":
            rec.remove_after_call = True
            return
        if rec.status == "previewing":
            for agent in self._agents.values():
                if agent.preview_lead == rec.lead.id:
                    self._withdraw_preview(agent, "lead_removed", now, out)
        self._hopper.close(rec, "removed", out)

    def _on_dnc(self, e: ev.DncUpdated, now: float, out: list[ev.Decision]) -> None:
        self._hopper.update_dnc(e.added, e.removed)

    # ---------------------------------------------------------------- agents

    def _agent(self, agent_id: str) -> _AgentRec:
        rec = self._agents.get(agent_id)
        if rec is None:
            rec = self._agents[agent_id] = _AgentRec(agent_id)
        return rec

    def _move(self, agent: _AgentRec, event: str, now: float) -> None:
        """The one place an agent changes state (and the indexes follow)."""
        old = agent.state
        new = step(AGENT, old, event, f"agent {agent.id}")
        assert isinstance(new, AgentState)
        if old is new:
            return
        if old is AgentState.IDLE:
            self._idle.pop(agent.id, None)
        elif old is AgentState.WRAP_UP:
            self._wrap.pop(agent.id, None)
        elif old is AgentState.ON_CALL:
            self._talk.pop(agent.id, None)
        if old is AgentState.LOGGED_OUT:
            self._logged_in += 1
        if new is AgentState.LOGGED_OUT:
            self._logged_in -= 1
        agent.state = new
        agent.since = now
        if new is AgentState.IDLE:
            self._idle[agent.id] = None
        elif new is AgentState.WRAP_UP:
            self._wrap[agent.id] = now
        elif new is AgentState.ON_CALL:
            self._talk[agent.id] = now
        if new is not AgentState.ON_CALL and new is not AgentState.DIALING:
            agent.call_id = None

    def _on_agent_available(self, e: ev.AgentAvailable, now: float,
                            out: list[ev.Decision]) -> None:
        agent = self._agent(e.agent_id)
        if agent.state is AgentState.WRAP_UP:
            self._wrap_stats.add(now - agent.since)
        self._move(agent, "available", now)

    def _on_agent_busy(self, e: ev.AgentBusy, now: float, out: list[ev.Decision]) -> None:
        agent = self._agent(e.agent_id)
        if agent.state is AgentState.PREVIEWING:
            self._withdraw_preview(agent, "agent_busy", now, out, move=False)
        self._move(agent, "busy", now)

    def _on_agent_logged_out(self, e: ev.AgentLoggedOut, now: float,
                             out: list[ev.Decision]) -> None:
        agent = self._agent(e.agent_id)
        if agent.state is AgentState.PREVIEWING:
            self._withdraw_preview(agent, "agent_logged_out", now, out, move=False)
        self._released.pop(agent.id, None)
        self._move(agent, "logged_out", now)

    # ---------------------------------------------------------------- manual / preview

    def _on_manual_dial(self, e: ev.ManualDialRequested, now: float,
                        out: list[ev.Decision]) -> None:
        if self.mode is not Mode.MANUAL:
            raise DialerError("wrong_mode", f"campaign {self.config.id} is {self.mode.value}")
        agent = self._agents.get(e.agent_id)
        if agent is None or agent.state is not AgentState.IDLE:
            raise DialerError("agent_not_idle", f"agent {e.agent_id} is not free to dial",
                              agent_id=e.agent_id)
        rec = self._hopper.get(e.lead_id)
        if rec is None or rec.status != "pending":
            raise DialerError("lead_not_available", f"lead {e.lead_id} cannot be dialled now",
                              lead_id=e.lead_id)
        blocked = self._hopper.blocked_until(rec, now, agent_on_line=True)
        if blocked is not None:
            raise DialerError("outside_window", f"lead {e.lead_id} is outside its calling "
                              f"window", lead_id=e.lead_id, next_open=blocked)
        if self.is_dnc(rec.lead.phone):
            self._hopper.audit_dnc(rec, now, self.effective_mode, out)
            return
        self._dial(rec, now, out, agent=agent)

    def _show_previews(self, now: float, out: list[ev.Decision]) -> None:
        for agent_id in list(self._idle):
            rec = self._hopper.next_due(now, True, self.effective_mode, out)
            if rec is None:
                return
            agent = self._agents[agent_id]
            self._move(agent, "preview", now)
            agent.preview_lead = rec.lead.id
            rec.status = "previewing"
            timeout = self.config.preview_timeout_s
            out.append(ev.ShowPreview(agent_id, rec.lead.id, timeout))
            out.append(ev.StartTimer(("preview", agent_id, rec.lead.id), now + timeout))

    def _preview_agent(self, agent_id: str, lead_id: str) -> _AgentRec:
        agent = self._agents.get(agent_id)
        if (agent is None or agent.state is not AgentState.PREVIEWING
                or agent.preview_lead != lead_id):
            raise DialerError("no_such_preview", f"agent {agent_id} is not previewing {lead_id}",
                              agent_id=agent_id, lead_id=lead_id)
        return agent

    def _on_preview_accepted(self, e: ev.PreviewAccepted, now: float,
                             out: list[ev.Decision]) -> None:
        agent = self._preview_agent(e.agent_id, e.lead_id)
        out.append(ev.CancelTimer(("preview", e.agent_id, e.lead_id)))
        self._dial_previewed(agent, now, out)

    def _dial_previewed(self, agent: _AgentRec, now: float, out: list[ev.Decision]) -> None:
        rec = self._hopper.leads[agent.preview_lead or ""]
        agent.preview_lead = None
        # The window and the DNC list are checked again: time has passed since the preview.
        blocked = self._hopper.blocked_until(rec, now, agent_on_line=True)
        if blocked is not None:
            rec.not_before = blocked
            self._hopper.push(rec)
            self._move(agent, "withdraw", now)
            out.append(ev.WithdrawPreview(agent.id, rec.lead.id, "outside_window"))
            return
        if self.is_dnc(rec.lead.phone):
            self._move(agent, "withdraw", now)
            out.append(ev.WithdrawPreview(agent.id, rec.lead.id, "dnc"))
            self._hopper.audit_dnc(rec, now, self.effective_mode, out)
            return
        self._dial(rec, now, out, agent=agent)

    def _on_preview_skipped(self, e: ev.PreviewSkipped, now: float,
                            out: list[ev.Decision]) -> None:
        agent = self._preview_agent(e.agent_id, e.lead_id)
        out.append(ev.CancelTimer(("preview", e.agent_id, e.lead_id)))
        self._skip_preview(agent, now)

    def _skip_preview(self, agent: _AgentRec, now: float) -> None:
        rec = self._hopper.leads[agent.preview_lead or ""]
        agent.preview_lead = None
        rec.not_before = now + self.config.preview_skip_delay_s
        self._hopper.push(rec)
        self._move(agent, "skip", now)

    def _withdraw_preview(self, agent: _AgentRec, reason: str, now: float,
                          out: list[ev.Decision], move: bool = True) -> None:
        lead_id = agent.preview_lead or ""
        rec = self._hopper.get(lead_id)
        out.append(ev.CancelTimer(("preview", agent.id, lead_id)))
        out.append(ev.WithdrawPreview(agent.id, lead_id, reason))
        agent.preview_lead = None
        if rec is not None and rec.status == "previewing":
            self._hopper.push(rec)
        if move:
            self._move(agent, "withdraw", now)

    # ---------------------------------------------------------------- dialling

    def _dial(self, rec: LeadRecord, now: float, out: list[ev.Decision],
              agent: _AgentRec | None = None) -> None:
        call_id = f"{self.config.id}:{next(self._call_seq)}"
        lead = rec.lead
        mode = self.mode if agent is not None else self.effective_mode
        call = _CallRec(call_id, lead.id, now, local_iso(now, lead.tz), mode,
                        agent.id if agent else None)
        self._calls[call_id] = call
        rec.attempts += 1
        rec.status = "in_call"
        self._active += 1
        if agent is not None:
            self._move(agent, "own_dial", now)
            agent.call_id = call_id
        else:
            self._ringing[call_id] = now
        out.append(ev.Dial(call_id, lead.id, lead.phone, self.config.ring_timeout_s, mode,
                           call.agent_id))
        out.append(ev.StartTimer(("ring", call_id), now + self.config.ring_timeout_s))

    def _call(self, call_id: str) -> _CallRec | None:
        call = self._calls.get(call_id)
        if call is None or call.state is CallState.ENDED:
            return None            # late or duplicate report about a finished call: ignore
        return call

    def _call_move(self, call: _CallRec, event: str) -> None:
        new = step(CALL, call.state, event, f"call {call.id}")
        assert isinstance(new, CallState)
        call.state = new

    def _resolved_ring(self, call: _CallRec, now: float, human: bool) -> None:
        self._ringing.pop(call.id, None)
        self._ring_stats.add(human, now - call.dialed_at)

    def _on_answered(self, e: ev.CallAnswered, now: float, out: list[ev.Decision]) -> None:
        call = self._call(e.call_id)
        if call is None or call.state is not CallState.DIALING:
            return
        human = e.kind is AnswerKind.HUMAN
        self._resolved_ring(call, now, human)
        out.append(ev.CancelTimer(("ring", call.id)))
        call.answered_at = now
        if not human:
            self._call_move(call, "answered_machine")
            played = None
            if self.config.machine_action == "message" and self.config.machine_message:
                played = self.config.machine_message
                out.append(ev.PlayMachineMessage(call.id, played))
            out.append(ev.HangUp(call.id, "machine", after_prompt=played is not None))
            self._finish(call, Outcome.MACHINE, now, out, played=played)
            return
        self._call_move(call, "answered_human")
        if call.agent_id is not None:
            agent = self._agents[call.agent_id]
            if agent.state is AgentState.DIALING and agent.call_id == call.id:
                self._assign(call, agent, now, out)
                return
            call.agent_id = None      # the agent left his own call: treat as unattended
        if self._idle:
            self._assign(call, self._agents[next(iter(self._idle))], now, out)
        else:
            self._waiting[call.id] = None
            out.append(ev.StartTimer(("grace", call.id), now + self.config.abandon_grace_s))

    def _assign(self, call: _CallRec, agent: _AgentRec, now: float,
                out: list[ev.Decision]) -> None:
        self._call_move(call, "agent_assigned")
        self._move(agent, "assigned", now)
        agent.call_id = call.id
        call.assigned_agent = agent.id
        self._governor.record(call.answered_at if call.answered_at is not None else now, False)
        out.append(ev.Connect(call.id, agent.id))

    def _serve_waiting(self, now: float, out: list[ev.Decision]) -> None:
        while self._waiting and self._idle:
            call_id = next(iter(self._waiting))
            del self._waiting[call_id]
            out.append(ev.CancelTimer(("grace", call_id)))
            self._assign(self._calls[call_id], self._agents[next(iter(self._idle))], now, out)

    def _on_ring_end(self, call_id: str, outcome: Outcome, event: str, now: float,
                     out: list[ev.Decision], hang_up: bool) -> None:
        call = self._call(call_id)
        if call is None or call.state is not CallState.DIALING:
            return
        self._resolved_ring(call, now, False)
        self._call_move(call, event)
        if hang_up:
            out.append(ev.HangUp(call.id, outcome.value))
        else:
            out.append(ev.CancelTimer(("ring", call.id)))
        self._finish(call, outcome, now, out)

    def _on_busy(self, e: ev.CallBusy, now: float, out: list[ev.Decision]) -> None:
        self._on_ring_end(e.call_id, Outcome.BUSY, "busy", now, out, hang_up=False)

    def _on_no_answer(self, e: ev.CallNoAnswer, now: float, out: list[ev.Decision]) -> None:
        self._on_ring_end(e.call_id, Outcome.NO_ANSWER, "no_answer", now, out, hang_up=False)

    def _on_failed(self, e: ev.CallFailed, now: float, out: list[ev.Decision]) -> None:
        self._on_ring_end(e.call_id, Outcome.FAILED, "failed", now, out, hang_up=False)

    def _on_connected(self, e: ev.CallConnectedToAgent, now: float,
                      out: list[ev.Decision]) -> None:
        call = self._call(e.call_id)
        if call is None or call.state not in (CallState.CONNECTING, CallState.CONNECTED):
            return
        if call.connected_at is None:
            call.connected_at = now
        self._call_move(call, "connected")

    def _on_ended(self, e: ev.CallEnded, now: float, out: list[ev.Decision]) -> None:
        call = self._call(e.call_id)
        if call is None:
            return
        state = call.state
        if state is CallState.DIALING:
            self._on_ring_end(call.id, Outcome.NO_ANSWER, "ended", now, out, hang_up=False)
            return
        self._call_move(call, "ended")
        if state is CallState.WAITING:
            # The person hung up before an agent took the call: abandoned all the same.
            del self._waiting[call.id]
            out.append(ev.CancelTimer(("grace", call.id)))
            self._governor.record(call.answered_at or now, True)
            self._finish(call, Outcome.ABANDONED, now, out)
            return
        # CONNECTING / CONNECTED: the conversation is over; the agent wraps up.
        start = call.connected_at if call.connected_at is not None else call.answered_at
        self._talk_stats.add(now - (start if start is not None else now))
        agent = self._agents.get(call.assigned_agent or "")
        if agent is not None and agent.state is AgentState.ON_CALL and agent.call_id == call.id:
            self._move(agent, "call_ended", now)
        if e.disposition == "callback":
            self._finish(call, Outcome.CALLBACK_REQUESTED, now, out, callback_at=e.callback_at)
        else:
            self._finish(call, Outcome.CONNECTED, now, out)

    def _on_timer(self, e: ev.TimerFired, now: float, out: list[ev.Decision]) -> None:
        kind = e.key[0] if e.key else None
        if kind == "ring":
            self._on_ring_end(str(e.key[1]), Outcome.NO_ANSWER, "ring_timeout", now, out,
                              hang_up=True)
        elif kind == "grace":
            self._abandon(str(e.key[1]), now, out)
        elif kind == "preview":
            agent = self._agents.get(str(e.key[1]))
            if (agent is None or agent.state is not AgentState.PREVIEWING
                    or agent.preview_lead != e.key[2]):
                return               # answered before the timer: stale
            if self.config.preview_timeout_action == "dial":
                self._dial_previewed(agent, now, out)
            else:
                out.append(ev.WithdrawPreview(agent.id, agent.preview_lead or "", "timeout"))
                self._skip_preview(agent, now)

    def _abandon(self, call_id: str, now: float, out: list[ev.Decision]) -> None:
        call = self._call(call_id)
        if call is None or call.state is not CallState.WAITING:
            return
        del self._waiting[call.id]
        self._call_move(call, "grace_expired")
        text = self.config.abandon_message
        out.append(ev.PlayAbandonMessage(call.id, text))
        out.append(ev.HangUp(call.id, "abandoned", after_prompt=True))
        self._call_move(call, "ended")
        self._governor.record(call.answered_at if call.answered_at is not None else now, True)
        self._finish(call, Outcome.ABANDONED, now, out, played=text)

    def _finish(self, call: _CallRec, outcome: Outcome, now: float, out: list[ev.Decision],
                played: str | None = None, callback_at: float | None = None) -> None:
        """The attempt is over: audit it, free an agent left on the line, retry or close."""
        self._active -= 1
        self._ringing.pop(call.id, None)
        if call.agent_id is not None and call.assigned_agent is None:
            agent = self._agents.get(call.agent_id)
            if agent is not None and agent.state is AgentState.DIALING and \
                    agent.call_id == call.id:
                self._move(agent, "call_lost", now)
        rec = self._hopper.leads[call.lead_id]
        lead = rec.lead
        abandoned = outcome is Outcome.ABANDONED
        out.append(ev.Audit(
            at=call.dialed_at, call_id=call.id, lead_id=lead.id, phone=lead.phone,
            lead_local_time=call.local_time, tz=lead.tz, dnc_checked=True, dnc_listed=False,
            mode=call.mode, outcome=outcome, abandoned=abandoned, played=played,
            agent_id=call.assigned_agent or call.agent_id, ended_at=now,
            answered_at=call.answered_at, connected_at=call.connected_at))
        del self._calls[call.id]
        if abandoned:
            rec.last_abandoned_at = now
        if rec.remove_after_call:
            self._hopper.close(rec, "removed", out)
            return
        self._hopper.retry_or_close(rec, outcome, now, out, callback_at)

    # ---------------------------------------------------------------- blending / mode

    def _on_sl(self, e: ev.InboundServiceLevel, now: float, out: list[ev.Decision]) -> None:
        self._sl[e.queue_id] = (e.sl_pct, e.target_pct)

    def _on_mode(self, e: ev.ModeRequested, now: float, out: list[ev.Decision]) -> None:
        if e.mode is self.mode:
            return
        if self.mode is Mode.PREVIEW:
            for agent in list(self._agents.values()):
                if agent.state is AgentState.PREVIEWING:
                    self._withdraw_preview(agent, "mode_changed", now, out)
        self.mode = e.mode

    def _on_tick(self, e: ev.Tick, now: float, out: list[ev.Decision]) -> None:
        return

    def _blend(self, now: float, out: list[ev.Decision]) -> None:
        policy = self.config.blend
        if policy is None:
            return
        reports = [(q, self._sl[q]) for q in sorted(policy.queues) if q in self._sl]
        below = [(sl - target, q) for q, (sl, target) in reports if sl < target]
        recovered = all(sl >= target + policy.recover_margin_pct for _, (sl, target) in reports)
        self._blend_slow = bool(below)
        due = self._last_blend is None or now - self._last_blend >= policy.release_interval_s
        if below:
            cap = math.floor(policy.max_release_fraction * self._logged_in + 1e-9)
            if due and self._idle and len(self._released) < cap:
                agent = self._agents[next(iter(self._idle))]
                queue = min(below)[1]
                self._move(agent, "release", now)
                self._released[agent.id] = queue
                self._last_blend = now
                out.append(ev.ReleaseAgent(agent.id, queue))
        elif recovered and self._released and due:
            agent_id, queue = next(iter(self._released.items()))
            del self._released[agent_id]
            self._move(self._agents[agent_id], "reclaim", now)
            self._last_blend = now
            out.append(ev.ReclaimAgent(agent_id, queue))

    # ---------------------------------------------------------------- pacing

    def _strategy(self) -> PacingStrategy:
        if self._custom_strategy is not None:
            return self._custom_strategy
        return self._predictive if self.mode is Mode.PREDICTIVE else self._progressive

    def _pace(self, now: float, out: list[ev.Decision]) -> None:
        self._serve_waiting(now, out)
        self._blend(now, out)
        if self.mode is Mode.PREVIEW:
            self._set_effective(Plan(0, Mode.PREVIEW, "configured"), now, out)
            self._show_previews(now, out)
            return
        if self.mode is Mode.MANUAL:
            self._set_effective(Plan(0, Mode.MANUAL, "configured"), now, out)
            return
        if not self._hopper.has_due(now):
            return                   # nothing due: no lead to dial whatever the plan
        plan = self._strategy().plan(self, now)
        self._set_effective(plan, now, out)
        lines = plan.lines
        if self.config.max_lines is not None:
            lines = min(lines, self.config.max_lines - self._active)
        for _ in range(max(0, lines)):
            rec = self._hopper.next_due(now, False, self.effective_mode, out)
            if rec is None:
                break
            self._dial(rec, now, out)

    def _set_effective(self, plan: Plan, now: float, out: list[ev.Decision]) -> None:
        if plan.mode is not self.effective_mode:
            out.append(ev.PacingChanged(plan.mode, self.mode, plan.reason, now))
            self.effective_mode = plan.mode
        self.pacing_reason = plan.reason


_HANDLERS = {
    ev.LeadsAdded: Pacer._on_leads_added,
    ev.LeadRemoved: Pacer._on_lead_removed,
    ev.DncUpdated: Pacer._on_dnc,
    ev.AgentAvailable: Pacer._on_agent_available,
    ev.AgentBusy: Pacer._on_agent_busy,
    ev.AgentLoggedOut: Pacer._on_agent_logged_out,
    ev.ManualDialRequested: Pacer._on_manual_dial,
    ev.PreviewAccepted: Pacer._on_preview_accepted,
    ev.PreviewSkipped: Pacer._on_preview_skipped,
    ev.CallAnswered: Pacer._on_answered,
    ev.CallBusy: Pacer._on_busy,
    ev.CallNoAnswer: Pacer._on_no_answer,
    ev.CallFailed: Pacer._on_failed,
    ev.CallConnectedToAgent: Pacer._on_connected,
    ev.CallEnded: Pacer._on_ended,
    ev.InboundServiceLevel: Pacer._on_sl,
    ev.ModeRequested: Pacer._on_mode,
    ev.Tick: Pacer._on_tick,
    ev.TimerFired: Pacer._on_timer,
}

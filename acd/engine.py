"""The sans-I/O routing engine: events in, decisions out.

    engine = Engine()
    engine.configure_queue(QueueConfig(...)); engine.configure_agent(AgentConfig(...))
    decisions = engine.handle(ContactArrived(contact), now=clock())

The engine never reads a clock, sleeps or does I/O; time comes in as ``now`` and timers
go out as ``StartTimer`` / ``CancelTimer`` decisions whose keys come back in
``TimerFired``. Timer keys: ``("wait", contact_id, gen)`` (next wait-based rule of a
queued contact), ``("ring", contact_id, agent_id, gen)`` and ``("wrapup", contact_id,
agent_id)``. A stale key (cancelled, superseded) is ignored; an unknown kind is an error.

Routing invariant
-----------------
After every call there is no (available agent, waiting contact) pair that could be
matched under the rules in force: a contact that becomes routable looks for the best
agent by its queue's strategy (*contact side*), an agent that gets free capacity takes
the best waiting contact it may serve (*agent side*: highest effective priority, then
arrival, then sequence number, across all queues). Rules that change with waiting time
(relaxation, site widening, overflow, max wait, re-offer exclusion) each arm the
contact's wait timer, which re-runs the contact side when they change.

Documented choices
------------------
* Wait-based rules of a queue (relaxation, site widening, overflow, max wait, service
  level) count from ``queued_at``: when the contact entered *this* queue. Ordering and
  priority aging use the contact's ``arrival``, so an overflowed contact or a callback
  created with the original arrival keeps its place.
* Effective priority = contact.priority + queue.priority + aging_per_min * minutes since
  arrival. Within one queue this order never changes with time, so each queue's waiting
  list is sorted once by ``(-(base - aging*arrival/60), arrival, seq)``.
* ``seq`` is assigned in ``ContactArrived`` order: on restore, replay waiting contacts
  in their previous order (e.g. ``waiting()`` before the restart) and equal arrivals keep it.
* Relaxation steps are cumulative: levels are lowered by the largest ``lower_levels`` in
  force (never below 1); added queues are the union of the steps in force; an added
  queue's agents are those meeting that queue's skill requirement.
* ``site_widen_after_s=None`` means never widen (strict same-site); a contact without a
  site, or a queue with 0, has no site preference. Agent site = session site, else home.
* Overflow: the first due overflow is applied. ``queue`` moves the contact (same arrival
  and seq, ``queued_at`` reset, target's rules apply; no ``OverflowContact`` since it stays
  in the ACD; at most 32 moves per contact against cycles); ``callback`` /
  ``voicemail`` end it (outcomes ``callback`` / ``overflowed``) and emit
  ``OverflowContact``. At ``max_wait_s`` the next not-yet-applied overflow is applied
  early if there is one, else the contact ends ``timed_out``. Rules due while the contact
  is ringing are applied when the offer returns to the queue.
* Ring-no-answer and reject put the contact back in its original place and exclude that
  agent from this contact for ``ring_timeout_s`` (other agents get it meanwhile; if none,
  it is offered to the same agent again after that time). ``no_answer_threshold``
  consecutive misses (counted per agent, reset by accept / going ready) make the agent
  not_ready with reason "no answer".
* A customer hang-up (``ContactAbandoned``) while connected counts as completion
  (wrap-up follows). Logged-out agents keep busy / wrap-up contacts until they end;
  ringing offers are retracted and requeued.
* Value tiers: an agent with ``value_tiers`` only serves contacts of those tiers (a
  contact without tier is served only by unrestricted agents).
* ``preferred_agent``: offered to that agent first if it is available and eligible.
* Configuration calls (``configure_*``/``remove_*``) take an optional ``now``; without it
  the latest ``now`` seen by ``handle`` is used.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from . import explain as _explain
from .events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpdated,
    AgentWentNotReady,
    AgentWentReady,
    CancelTimer,
    ContactAbandoned,
    ContactArrived,
    ContactCancelled,
    ContactCompleted,
    ContactUpdated,
    Decision,
    EngineError,
    Event,
    Offer,
    OfferAccepted,
    OfferRejected,
    OverflowContact,
    RetractOffer,
    StartTimer,
    TimerFired,
    WrapUpCompleted,
    WrapUpExtended,
)
from .indexes import PoolRegistry, WaitingIndex
from .model import (
    DEFAULT_WRAPUP_S,
    MEDIA,
    Activity,
    AgentConfig,
    ContactState,
    Outcome,
    OverflowAction,
    Presence,
    QueueConfig,
)
from .records import OVERFLOW_OUTCOME, AgentRec, ContactRec, QueueRec
from .selection import Selector
from .states import ACTIVITY, CONTACT, PRESENCE, advance
from .strategies import SortKey

log = logging.getLogger("ipcc.acd")

ENDED_KEEP = 10_000
MAX_MOVES = 32

Out = list[Decision]


class Engine:
    """Skill/priority/location routing of contacts to agents (see module docstring)."""

    def __init__(self, ended_keep: int = ENDED_KEEP) -> None:
        self._agents: dict[str, AgentRec] = {}
        self._queues: dict[str, QueueRec] = {}
        self._contacts: dict[str, ContactRec] = {}
        self._ended: OrderedDict[str, ContactRec] = OrderedDict()
        self._ended_keep = ended_keep
        self._pools = PoolRegistry(self._agents)
        self._waiting = WaitingIndex()
        self._sel = Selector(self._agents, self._queues, self._contacts, self._pools,
                             self._waiting)
        self._seq = 0
        self._now = 0.0
        self._handlers: dict[type, Callable[[Any, float, Out], None]] = {
            AgentLoggedIn: self._on_logged_in,
            AgentLoggedOut: self._on_logged_out,
            AgentWentReady: self._on_ready,
            AgentWentNotReady: self._on_not_ready,
            ContactArrived: self._on_arrived,
            ContactAbandoned: self._on_abandoned,
            ContactCancelled: self._on_cancelled,
            OfferAccepted: self._on_accepted,
            OfferRejected: self._on_rejected,
            ContactCompleted: self._on_completed,
            WrapUpCompleted: self._on_wrapup_completed,
            WrapUpExtended: self._on_wrapup_extended,
            TimerFired: self._on_timer,
        }

    # ================================================================ public API

    def handle(self, event: Event, now: float) -> list[Decision]:
        """Apply one fact at time ``now``; return the decisions it leads to, in order."""
        handler = self._handlers.get(type(event))
        if handler is None:
            raise EngineError("unknown_event", f"not an engine event: {type(event).__name__}")
        self._now = max(self._now, now)
        out: Out = []
        handler(event, now, out)
        return out

    def configure_queue(self, q: QueueConfig, now: float | None = None) -> list[Decision]:
        """Create or replace a queue; waiting contacts are re-keyed and re-routed."""
        now = self._resolve_now(now)
        for o in q.overflows:
            if o.action is OverflowAction.QUEUE and (not o.target or o.target == q.id):
                raise EngineError("invalid_config",
                                  f"queue {q.id}: overflow to queue needs another queue as target",
                                  queue_id=q.id)
        rec = self._queues.get(q.id)
        if rec is None:
            self._queues[q.id] = rec = QueueRec(q)
        else:
            if rec.tenant != q.tenant and self._live_in_queue(q.id):
                raise EngineError("queue_not_empty",
                                  f"queue {q.id} holds contacts; cannot change its tenant",
                                  queue_id=q.id)
            waiting = [self._contacts[e[3]] for e in self._waiting.in_queue(q.id)]
            for ct in waiting:
                self._sel.dequeue(ct)
            rec.configure(q)
            for ct in waiting:
                self._sel.enqueue(ct, rec)
        self._sel.repin_all()
        out: Out = []
        self._sweep(now, out)
        return out

    def remove_queue(self, queue_id: str, now: float | None = None) -> list[Decision]:
        rec = self._queue(queue_id)
        if self._live_in_queue(queue_id):
            raise EngineError("queue_not_empty", f"queue {queue_id} still holds contacts",
                              queue_id=queue_id)
        del self._queues[queue_id]
        for pool in rec.pinned:
            self._pools.release(pool)
        rec.pinned = []
        self._waiting.drop_queue(queue_id)
        self._sel.repin_all()
        return []

    def configure_agent(self, a: AgentConfig, now: float | None = None) -> list[Decision]:
        """Create or replace an agent's config; re-index it and route to it if ready."""
        now = self._resolve_now(now)
        ag = self._agents.get(a.id)
        if ag is None:
            ag = self._agents[a.id] = AgentRec(a)
            ag.idle_since = now
            ag.since = now
        else:
            if ag.tenant != a.tenant and ag.contacts:
                raise EngineError("agent_busy", f"agent {a.id} holds contacts; cannot change tenant",
                                  agent_id=a.id)
            ag.configure(a)
        self._pools.agent_configured(ag)
        out: Out = [self._agent_notice(ag, now)]
        self._agent_side(ag, now, out)
        return out

    def remove_agent(self, agent_id: str, now: float | None = None) -> list[Decision]:
        """Forget an agent; ringing offers are retracted; refused while it is in service."""
        now = self._resolve_now(now)
        ag = self._agent(agent_id)
        if any(act is not Activity.OFFERED for _ch, act in ag.contacts.values()):
            raise EngineError("agent_busy", f"agent {agent_id} is in service", agent_id=agent_id)
        out: Out = []
        requeued = self._retract_all(ag, now, out, "agent_removed")
        self._pools.agent_removed(ag)
        del self._agents[agent_id]
        out.append(AgentUpdated(agent_id, ag.tenant, Presence.LOGGED_OUT, "removed", {}, now))
        for ct in requeued:
            self._after_queued(ct, now, out, "requeued")
        return out

    def waiting(self, queue_id: str) -> list[str]:
        """Waiting (queued, not ringing) contact ids of a queue, in routing order."""
        self._queue(queue_id)
        return [e[3] for e in self._waiting.in_queue(queue_id)]

    def contact_view(self, contact_id: str, now: float | None = None) -> dict[str, Any]:
        """A live or recently ended contact; ``effective_priority`` at ``now`` (default:
        the latest time seen)."""
        ct = self._any_contact(contact_id)
        q = self._queues.get(ct.queue)
        at = self._now if now is None else now
        c = ct.c
        return {
            "id": ct.id, "tenant": ct.tenant, "queue": ct.queue, "channel": ct.channel,
            "media": ct.media, "state": ct.state.value, "agent_id": ct.agent_id,
            "arrival": ct.arrival, "queued_at": ct.queued_at, "seq": ct.seq,
            "priority": c.priority, "base_priority": ct.base,
            "effective_priority": ct.effective_priority(q, at) if q else None,
            "value_tier": c.value_tier, "site": c.site,
            "skills": dict(c.skills) if c.skills is not None else (dict(q.req) if q else {}),
            "preferred_agent": c.preferred_agent,
            "outcome": ct.outcome.value if ct.outcome else None, "reason": ct.reason,
            "answered_at": ct.answered_at, "ended_at": ct.ended_at,
            "wrapup_until": ct.wrapup_until, "offers": len(ct.offers), "customer": asdict(c.customer), "data": dict(c.data),
        }

    def explain(self, contact_id: str) -> dict[str, Any]:
        """Why the contact went where it went (see :mod:`acd.explain`)."""
        ct = self._any_contact(contact_id)
        return _explain.explanation(ct, self._queues.get(ct.queue))

    def agent_view(self, agent_id: str) -> dict[str, Any]:
        """Presence, session binding and the contacts an agent holds."""
        ag = self._agent(agent_id)
        return {
            "id": ag.id, "tenant": ag.tenant, "name": ag.cfg.name,
            "presence": ag.presence.value, "reason": ag.reason, "status": ag.status(),
            "device": ag.device, "site": ag.site, "session_site": ag.session_site,
            "home_site": ag.cfg.home_site, "seat": ag.seat, "since": ag.since,
            "idle_since": ag.idle_since, "missed_offers": ag.missed,
            "skills": dict(ag.skills), "capacity": dict(ag.cap), "held": dict(ag.held),
            "available_media": [m for m in MEDIA if ag.available(m)],
            "contacts": ag.activity_snapshot(),
        }

    def queue_stats(self, queue_id: str, now: float) -> dict[str, Any]:
        """Live figures of a queue (formulas in :mod:`acd.stats`).

        ``waiting`` excludes ringing contacts (``ringing``); ``longest_wait_s`` counts from
        entry in this queue; ``agents`` counts the agents meeting the queue's own skill
        requirement by status (an agent may count in several queues).
        """
        q = self._queue(queue_id)
        entries = self._waiting.in_queue(queue_id)
        longest = max((now - self._contacts[e[3]].queued_at for e in entries), default=0.0)
        ringing = sum(1 for ct in self._contacts.values()
                      if ct.queue == queue_id and ct.state is ContactState.OFFERED)
        agents = {"ready": 0, "not_ready": 0, "busy": 0, "wrap_up": 0, "offered": 0,
                  "logged_out": 0}
        if q.base_pool is not None:
            for aid in q.base_pool.members:
                agents[self._agents[aid].status()] += 1
        figures = q.stats.figures()
        sl = figures["service_level_pct"]
        return {
            "queue_id": queue_id, "tenant": q.tenant, "waiting": len(entries),
            "longest_wait_s": max(0.0, longest), "ringing": ringing, **figures,
            "sl_target_pct": q.cfg.sl_target_pct, "sl_threshold_s": q.cfg.sl_threshold_s,
            "sl_met": None if sl is None else sl >= q.cfg.sl_target_pct,
            "agents": agents,
        }

    def queue_config(self, queue_id: str) -> QueueConfig:
        """The configuration a queue runs with (raises ``queue_not_found``)."""
        q = self._queues.get(queue_id)
        if q is None:
            raise EngineError("queue_not_found", f"no queue {queue_id}", queue_id=queue_id)
        return q.cfg

    def queue_ids(self) -> list[str]:
        return list(self._queues)

    def agent_ids(self) -> list[str]:
        return list(self._agents)

    def live_contact_ids(self) -> list[str]:
        return list(self._contacts)

    # ================================================================ agent events

    def _on_logged_in(self, ev: AgentLoggedIn, now: float, out: Out) -> None:
        ag = self._agent(ev.agent_id)
        self._set_presence(ag, "login", now, None)
        ag.device, ag.session_site, ag.seat = ev.device, ev.site, ev.seat
        ag.missed = 0
        self._touch(ag)
        out.append(self._agent_notice(ag, now))

    def _on_ready(self, ev: AgentWentReady, now: float, out: Out) -> None:
        ag = self._agent(ev.agent_id)
        was = ag.presence
        self._set_presence(ag, "ready", now, None)
        if was is not Presence.READY:
            ag.missed = 0
            if ag.held_total == 0:
                ag.idle_since = now
        self._touch(ag)
        out.append(self._agent_notice(ag, now))
        self._agent_side(ag, now, out)

    def _on_not_ready(self, ev: AgentWentNotReady, now: float, out: Out) -> None:
        ag = self._agent(ev.agent_id)
        self._set_presence(ag, "not_ready", now, ev.reason)
        self._touch(ag)
        out.append(self._agent_notice(ag, now))

    def _on_logged_out(self, ev: AgentLoggedOut, now: float, out: Out) -> None:
        ag = self._agent(ev.agent_id)
        self._set_presence(ag, "logout", now, ev.reason)
        requeued = self._retract_all(ag, now, out, "logged_out")
        ag.session_site = ag.seat = None
        self._touch(ag)
        out.append(self._agent_notice(ag, now))
        for ct in requeued:
            self._after_queued(ct, now, out, "requeued")

    def _retract_all(self, ag: AgentRec, now: float, out: Out, reason: str) -> list[ContactRec]:
        """Retract every ringing offer of ``ag``; the contacts go back to their place."""
        requeued = []
        for cid, (_ch, act) in list(ag.contacts.items()):
            if act is not Activity.OFFERED:
                continue
            ct = self._contacts[cid]
            q = self._queues[ct.queue]
            out.append(RetractOffer(cid, ag.id, reason))
            out.append(CancelTimer(("ring", cid, ag.id, ct.ring_gen)))
            self._release(ag, ct, "retract", now, idle_reset=False)
            _explain.set_result(ct, f"retracted:{reason}")
            self._requeue(ct, q, "requeue", now, out, reason, exclude=None)
            requeued.append(ct)
        return requeued

    # ============================================================== contact events

    def _on_arrived(self, ev: ContactArrived, now: float, out: Out) -> None:
        c = ev.contact
        if c.id in self._contacts:
            raise EngineError("contact_exists", f"contact {c.id} is already in the engine",
                              contact_id=c.id)
        q = self._queue(c.queue)
        if c.tenant != q.tenant:
            raise EngineError("tenant_mismatch",
                              f"contact {c.id} of tenant {c.tenant} in queue {q.id} of {q.tenant}",
                              contact_id=c.id, queue_id=q.id)
        self._ended.pop(c.id, None)
        ct = ContactRec(c, self._seq, now if ev.queued_at is None else float(ev.queued_at))
        self._seq += 1
        self._contacts[c.id] = ct
        q.stats.arrived += 1
        self._sel.enqueue(ct, q)
        self._log_change("contact", ct.id, None, ct.state, "arrive")
        out.append(self._contact_notice(ct, now, "arrived"))
        self._after_queued(ct, now, out, "contact_arrived")

    def _on_abandoned(self, ev: ContactAbandoned, now: float, out: Out) -> None:
        ct = self._live_contact(ev.contact_id)
        if ct.state is ContactState.CONNECTED:
            self._complete(ct, self._holder(ct), now, out, "customer_hung_up")
            return
        self._leave_early(ct, "abandon", Outcome.ABANDONED, "abandoned", now, out)

    def _on_cancelled(self, ev: ContactCancelled, now: float, out: Out) -> None:
        ct = self._live_contact(ev.contact_id)
        self._leave_early(ct, "cancel", Outcome.CANCELLED, ev.reason or "cancelled", now, out)

    def _leave_early(self, ct: ContactRec, event: str, outcome: Outcome, reason: str,
                     now: float, out: Out) -> None:
        """Abandon / cancel while queued or ringing (other states: illegal_transition)."""
        advance(CONTACT, ct.state, event, ct.id)  # validate before touching anything
        q = self._queues[ct.queue]
        ag = None
        if ct.state is ContactState.OFFERED:
            ag = self._holder(ct)
            out.append(RetractOffer(ct.id, ag.id, reason))
            out.append(CancelTimer(("ring", ct.id, ag.id, ct.ring_gen)))
            self._release(ag, ct, "retract", now, idle_reset=False)
            _explain.set_result(ct, f"retracted:{reason}")
            out.append(self._agent_notice(ag, now))
            ct.agent_id = None
        if outcome is Outcome.ABANDONED:
            q.stats.on_abandon(now - ct.queued_at, q.cfg.sl_threshold_s)
        else:
            q.stats.cancelled += 1
        self._end(ct, event, outcome, now, out, reason)
        if ag is not None:
            self._agent_side(ag, now, out)

    def _on_accepted(self, ev: OfferAccepted, now: float, out: Out) -> None:
        ct, ag = self._offered_pair(ev.contact_id, ev.agent_id, "accept")
        q = self._queues[ct.queue]
        self._set_contact(ct, "accept")
        self._set_activity(ag, ct, "accept")
        ag.missed = 0
        ct.answered_at = now
        q.stats.on_answer(now - ct.queued_at, q.cfg.sl_threshold_s)
        _explain.set_result(ct, "accepted")
        out.append(CancelTimer(("ring", ct.id, ag.id, ct.ring_gen)))
        out.append(self._contact_notice(ct, now, "accepted"))
        out.append(self._agent_notice(ag, now))

    def _on_rejected(self, ev: OfferRejected, now: float, out: Out) -> None:
        ct, ag = self._offered_pair(ev.contact_id, ev.agent_id, "reject")
        q = self._queues[ct.queue]
        q.stats.rejected += 1
        out.append(CancelTimer(("ring", ct.id, ag.id, ct.ring_gen)))
        self._release(ag, ct, "reject", now, idle_reset=True)
        _explain.set_result(ct, "rejected")
        out.append(self._agent_notice(ag, now))
        self._requeue(ct, q, "reject", now, out, "rejected", exclude=ag.id)
        self._after_queued(ct, now, out, "requeued")
        self._agent_side(ag, now, out)

    def _on_completed(self, ev: ContactCompleted, now: float, out: Out) -> None:
        ct, ag = self._assigned_pair(ev.contact_id, ev.agent_id)
        self._complete(ct, ag, now, out, "completed")

    def _on_wrapup_completed(self, ev: WrapUpCompleted, now: float, out: Out) -> None:
        ct, ag = self._assigned_pair(ev.contact_id, ev.agent_id)
        advance(CONTACT, ct.state, "wrapup_done", ct.id)
        out.append(CancelTimer(("wrapup", ct.id, ag.id)))
        self._finish_wrapup(ct, ag, now, out)

    def _on_wrapup_extended(self, ev: WrapUpExtended, now: float, out: Out) -> None:
        ct, ag = self._assigned_pair(ev.contact_id, ev.agent_id)
        if ct.state is not ContactState.WRAP_UP or ct.wrapup_until is None:
            raise EngineError("illegal_transition", f"contact {ct.id} is not in wrap-up",
                              contact_id=ct.id, state=ct.state.value)
        if not 0 < ev.seconds <= 3600:
            raise EngineError("invalid_extension", "wrap-up extension must be 0..3600 s",
                              seconds=ev.seconds)
        ct.wrapup_until = max(ct.wrapup_until, now) + ev.seconds
        out.append(StartTimer(("wrapup", ct.id, ag.id), ct.wrapup_until))
        out.append(self._agent_notice(ag, now))

    def _complete(self, ct: ContactRec, ag: AgentRec, now: float, out: Out, reason: str) -> None:
        q = self._queues[ct.queue]
        self._set_contact(ct, "complete" if reason == "completed" else "abandon")
        self._set_activity(ag, ct, "complete")
        out.append(self._contact_notice(ct, now, reason))
        wrap = self._wrapup_s(q, ag, ct.media)
        if wrap <= 0:
            self._finish_wrapup(ct, ag, now, out)
            return
        ct.wrapup_until = now + wrap
        out.append(StartTimer(("wrapup", ct.id, ag.id), ct.wrapup_until))
        out.append(self._agent_notice(ag, now))

    def _finish_wrapup(self, ct: ContactRec, ag: AgentRec, now: float, out: Out) -> None:
        self._release(ag, ct, "wrapup_done", now, idle_reset=True)
        self._set_contact(ct, "wrapup_done")
        ct.outcome = Outcome.ANSWERED
        ct.ended_at = now
        out.append(self._contact_notice(ct, now, "wrapup_done"))
        out.append(self._agent_notice(ag, now))
        self._forget(ct)
        self._agent_side(ag, now, out)

    @staticmethod
    def _wrapup_s(q: QueueRec, ag: AgentRec, media: str) -> float:
        if q.cfg.wrapup_s is not None and media in q.cfg.wrapup_s:
            return float(q.cfg.wrapup_s[media])
        return float(ag.cfg.wrapup_s.get(media, DEFAULT_WRAPUP_S.get(media, 0.0)))

    # ===================================================================== timers

    def _on_timer(self, ev: TimerFired, now: float, out: Out) -> None:
        key = ev.key
        kind = key[0] if key else None
        if kind == "wait" and len(key) == 3:
            ct = self._contacts.get(str(key[1]))
            if ct is None or ct.wait_gen != key[2] or ct.wait_at is None:
                return
            ct.wait_at = None
            if ct.state is ContactState.QUEUED:
                self._after_queued(ct, now, out, "timer")
        elif kind == "ring" and len(key) == 4:
            ct = self._contacts.get(str(key[1]))
            if (ct is None or ct.state is not ContactState.OFFERED or ct.agent_id != key[2]
                    or ct.ring_gen != key[3]):
                return
            self._no_answer(ct, self._holder(ct), now, out)
        elif kind == "wrapup" and len(key) == 3:
            ct = self._contacts.get(str(key[1]))
            if ct is None or ct.state is not ContactState.WRAP_UP or ct.agent_id != key[2]:
                return
            self._finish_wrapup(ct, self._holder(ct), now, out)
        else:
            raise EngineError("unknown_timer", f"not an engine timer key: {key!r}", key=key)

    def _no_answer(self, ct: ContactRec, ag: AgentRec, now: float, out: Out) -> None:
        q = self._queues[ct.queue]
        q.stats.no_answer += 1
        out.append(RetractOffer(ct.id, ag.id, "no_answer"))
        self._release(ag, ct, "no_answer", now, idle_reset=True)
        _explain.set_result(ct, "no_answer")
        ag.missed += 1
        if ag.missed >= q.cfg.no_answer_threshold and ag.presence is Presence.READY:
            self._set_presence(ag, "no_answer", now, "no answer")
            self._touch(ag)
        out.append(self._agent_notice(ag, now))
        self._requeue(ct, q, "no_answer", now, out, "no_answer", exclude=ag.id)
        self._after_queued(ct, now, out, "requeued")
        self._agent_side(ag, now, out)

    def _arm_wait(self, ct: ContactRec, q: QueueRec, now: float, out: Out) -> None:
        """(Re)arm the contact's single wait timer at its next wait-based rule change."""
        self._sel.refresh_step(ct, q, now)
        t = ct.step_until
        if ct.ovf_done < len(q.overflows):
            t = min(t, ct.queued_at + q.overflows[ct.ovf_done].after_s)
        if q.cfg.max_wait_s is not None:
            t = min(t, ct.queued_at + q.cfg.max_wait_s)
        if ct.excluded:
            for aid in [a for a, u in ct.excluded.items() if u <= now]:
                del ct.excluded[aid]
            for u in ct.excluded.values():
                t = min(t, u)
        if t == math.inf:
            self._cancel_wait(ct, out)
            return
        if t <= now:  # every rule due by now was applied above; never spin the I/O layer
            log.error("contact %s: next wait rule at %r is not after now=%r", ct.id, t, now)
            self._cancel_wait(ct, out)
            return
        if ct.wait_at == t:
            return
        self._cancel_wait(ct, out)
        ct.wait_gen += 1
        ct.wait_at = t
        out.append(StartTimer(("wait", ct.id, ct.wait_gen), t))

    @staticmethod
    def _cancel_wait(ct: ContactRec, out: Out) -> None:
        if ct.wait_at is not None:
            out.append(CancelTimer(("wait", ct.id, ct.wait_gen)))
            ct.wait_at = None

    # =============================================================== wait rules

    def _after_queued(self, ct: ContactRec, now: float, out: Out, trigger: str) -> None:
        """A contact is (again) waiting: apply due rules, try to route, arm its timer."""
        if not self._apply_time_rules(ct, now, out):
            return
        q = self._queues[ct.queue]
        self._route_contact(ct, q, now, out, trigger)
        if ct.state is ContactState.QUEUED:
            self._arm_wait(ct, q, now, out)

    def _apply_time_rules(self, ct: ContactRec, now: float, out: Out) -> bool:
        """Overflow / max wait; False if the contact left the ACD."""
        while True:
            q = self._queues[ct.queue]
            ovs = q.overflows
            i = ct.ovf_done
            due = i if i < len(ovs) and ct.queued_at + ovs[i].after_s <= now else None
            max_wait = q.cfg.max_wait_s
            max_reached = max_wait is not None and ct.queued_at + max_wait <= now
            if due is None and max_reached and i < len(ovs):
                due = i
            if due is None:
                if max_reached:
                    q.stats.timed_out += 1
                    self._end(ct, "time_out", Outcome.TIMED_OUT, now, out, "max_wait")
                    return False
                return True
            o = ovs[due]
            ct.ovf_done = due + 1
            if o.action is OverflowAction.QUEUE:
                target = self._queues.get(o.target or "")
                if (target is None or target is q or target.tenant != ct.tenant
                        or ct.moves >= MAX_MOVES):
                    log.warning("overflow of contact %s from %s to %s skipped", ct.id, q.id,
                                o.target)
                    continue
                self._move(ct, q, target, now, out)
                continue
            if o.action is OverflowAction.CALLBACK:
                q.stats.callbacks += 1
            else:
                q.stats.voicemails += 1
            self._end(ct, "overflow", OVERFLOW_OUTCOME[o.action], now, out, o.action.value)
            out.append(OverflowContact(ct.id, o.action.value, o.target))
            return False

    def _move(self, ct: ContactRec, src: QueueRec, dst: QueueRec, now: float, out: Out) -> None:
        self._sel.dequeue(ct)
        self._set_contact(ct, "move")
        ct.queue = dst.id
        ct.queued_at = now
        ct.ovf_done = 0
        ct.moves += 1
        src.stats.overflowed_out += 1
        dst.stats.overflowed_in += 1
        self._sel.enqueue(ct, dst)
        out.append(self._contact_notice(ct, now, "overflow", {"from_queue": src.id}))

    # ==================================================================== routing

    def _route_contact(self, ct: ContactRec, q: QueueRec, now: float, out: Out,
                       trigger: str) -> None:
        """Contact side: offer the contact to the best available agent, if any."""
        found = self._sel.best_agent(ct, q, now)
        if found is not None:
            ag, key, selection, cand = found
            self._offer(ct, q, ag, key, now, out, selection, trigger, cand)

    def _agent_side(self, ag: AgentRec, now: float, out: Out) -> None:
        """Agent side: while ``ag`` has free capacity, give it the best waiting contact."""
        while True:
            found = self._sel.best_contact(ag, now)
            if found is None:
                return
            ct, pool, cand = found
            self._offer(ct, self._queues[ct.queue], ag, pool.entry[ag.id], now, out,
                        "agent_side", "agent_available", cand)

    def _offer(self, ct: ContactRec, q: QueueRec, ag: AgentRec, key: SortKey, now: float,
               out: Out, selection: str, trigger: str, candidates: dict[str, Any]) -> None:
        record = _explain.offer_record(ct=ct, q=q, ag=ag, key=key, now=now,
                                       selection=selection, trigger=trigger,
                                       candidates=candidates)
        self._sel.dequeue(ct)
        self._cancel_wait(ct, out)
        self._set_contact(ct, "offer")
        ct.agent_id = ag.id
        ct.ring_gen += 1
        act = advance(ACTIVITY, None, "offer", f"{ag.id}/{ct.id}")
        ag.contacts[ct.id] = [ct.channel, act]
        ag.held[ct.media] += 1
        ag.held_total += 1
        self._log_change("activity", f"{ag.id}/{ct.id}", None, act, "offer")
        self._touch(ag)
        q.rr_last = ag.id
        q.stats.offered += 1
        _explain.add_offer(ct, record)
        timeout = float(q.cfg.ring_timeout_s)
        out.append(Offer(ct.id, ag.id, ct.channel, ag.device, timeout))
        out.append(StartTimer(("ring", ct.id, ag.id, ct.ring_gen), now + timeout))
        out.append(self._contact_notice(ct, now, selection))
        out.append(self._agent_notice(ag, now))

    def _sweep(self, now: float, out: Out) -> None:
        """After a reconfiguration: re-evaluate every waiting contact, best first."""
        waiting = [ct for ct in self._contacts.values() if ct.state is ContactState.QUEUED]
        for ct in waiting:
            ct.step = None
            ct.invalidate_step()
        waiting.sort(key=lambda ct: (-ct.effective_priority(self._queues[ct.queue], now),
                                     ct.arrival, ct.seq))
        for ct in waiting:
            if ct.state is ContactState.QUEUED and ct.id in self._contacts:
                self._after_queued(ct, now, out, "reconfigured")

    # ========================================================= agent bookkeeping

    def _touch(self, ag: AgentRec) -> None:
        for pool in ag.pools:
            pool.refresh(ag)

    def _release(self, ag: AgentRec, ct: ContactRec, event: str, now: float,
                 idle_reset: bool) -> None:
        entry = ag.contacts[ct.id]
        nxt = advance(ACTIVITY, entry[1], event, f"{ag.id}/{ct.id}")
        self._log_change("activity", f"{ag.id}/{ct.id}", entry[1], nxt, event)
        del ag.contacts[ct.id]
        ag.held[ct.media] -= 1
        ag.held_total -= 1
        if idle_reset and ag.held_total == 0:
            ag.idle_since = now
        self._touch(ag)

    def _requeue(self, ct: ContactRec, q: QueueRec, event: str, now: float, out: Out,
                 reason: str, exclude: str | None) -> None:
        self._set_contact(ct, event)
        ct.agent_id = None
        if exclude is not None:
            ct.excluded[exclude] = now + float(q.cfg.ring_timeout_s)
        self._sel.enqueue(ct, q)
        out.append(self._contact_notice(ct, now, reason))

    def _end(self, ct: ContactRec, event: str, outcome: Outcome, now: float, out: Out,
             reason: str) -> None:
        self._sel.dequeue(ct)
        self._cancel_wait(ct, out)
        self._set_contact(ct, event)
        ct.outcome = outcome
        ct.ended_at = now
        ct.reason = reason
        out.append(self._contact_notice(ct, now, reason))
        self._forget(ct)

    def _forget(self, ct: ContactRec) -> None:
        self._contacts.pop(ct.id, None)
        self._ended[ct.id] = ct
        self._ended.move_to_end(ct.id)
        while len(self._ended) > self._ended_keep:
            self._ended.popitem(last=False)

    # ================================================= state changes (one place)

    def _set_contact(self, ct: ContactRec, event: str) -> None:
        nxt = advance(CONTACT, ct.state, event, ct.id)
        self._log_change("contact", ct.id, ct.state, nxt, event)
        ct.state = nxt

    def _set_activity(self, ag: AgentRec, ct: ContactRec, event: str) -> None:
        entry = ag.contacts[ct.id]
        nxt = advance(ACTIVITY, entry[1], event, f"{ag.id}/{ct.id}")
        self._log_change("activity", f"{ag.id}/{ct.id}", entry[1], nxt, event)
        entry[1] = nxt

    def _set_presence(self, ag: AgentRec, event: str, now: float, reason: str | None) -> None:
        nxt = advance(PRESENCE, ag.presence, event, ag.id)
        self._log_change("presence", ag.id, ag.presence, nxt, event)
        if nxt is not ag.presence:
            ag.since = now
        ag.presence = nxt
        ag.reason = reason

    @staticmethod
    def _log_change(machine: str, entity: str, old: Any, new: Any, event: str) -> None:
        """The single place where state changes are logged."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s: %s -[%s]-> %s", machine, entity,
                      getattr(old, "value", old), event, getattr(new, "value", new))

    # ================================================================== notices

    def _contact_notice(self, ct: ContactRec, now: float, reason: str | None,
                        details: dict[str, Any] | None = None) -> ContactUpdated:
        d = {"channel": ct.channel, "arrival": ct.arrival, "seq": ct.seq}
        if details:
            d.update(details)
        return ContactUpdated(ct.id, ct.tenant, ct.queue, ct.state.value, ct.agent_id,
                              ct.outcome, reason, now, d)

    @staticmethod
    def _agent_notice(ag: AgentRec, now: float) -> AgentUpdated:
        return AgentUpdated(ag.id, ag.tenant, ag.presence, ag.reason, ag.activity_snapshot(),
                            now)

    # ================================================================== lookups

    def _resolve_now(self, now: float | None) -> float:
        if now is None:
            return self._now
        self._now = max(self._now, now)
        return now

    def _agent(self, agent_id: str) -> AgentRec:
        ag = self._agents.get(agent_id)
        if ag is None:
            raise EngineError("agent_not_found", f"no agent {agent_id}", agent_id=agent_id)
        return ag

    def _queue(self, queue_id: str) -> QueueRec:
        q = self._queues.get(queue_id)
        if q is None:
            raise EngineError("queue_not_found", f"no queue {queue_id}", queue_id=queue_id)
        return q

    def _any_contact(self, contact_id: str) -> ContactRec:
        ct = self._contacts.get(contact_id) or self._ended.get(contact_id)
        if ct is None:
            raise EngineError("contact_not_found", f"no contact {contact_id}",
                              contact_id=contact_id)
        return ct

    def _live_contact(self, contact_id: str) -> ContactRec:
        ct = self._contacts.get(contact_id)
        if ct is None:
            ended = self._ended.get(contact_id)
            if ended is not None:
                raise EngineError("illegal_transition", f"contact {contact_id} has ended",
                                  contact_id=contact_id, state=ContactState.ENDED.value)
            raise EngineError("contact_not_found", f"no contact {contact_id}",
                              contact_id=contact_id)
        return ct

    def _offered_pair(self, contact_id: str, agent_id: str,
                      event: str) -> tuple[ContactRec, AgentRec]:
        ct = self._live_contact(contact_id)
        ag = self._agent(agent_id)
        if ct.state is ContactState.OFFERED and ct.agent_id != agent_id:
            raise EngineError("not_offered_to_agent",
                              f"contact {contact_id} is not offered to agent {agent_id}",
                              contact_id=contact_id, agent_id=agent_id)
        advance(CONTACT, ct.state, event, ct.id)
        return ct, ag

    def _assigned_pair(self, contact_id: str, agent_id: str) -> tuple[ContactRec, AgentRec]:
        ct = self._live_contact(contact_id)
        ag = self._agent(agent_id)
        if ct.agent_id != agent_id:
            raise EngineError("not_assigned_to_agent",
                              f"contact {contact_id} is not with agent {agent_id}",
                              contact_id=contact_id, agent_id=agent_id)
        return ct, ag

    def _holder(self, ct: ContactRec) -> AgentRec:
        """The agent a contact is offered to / served by (it must have one)."""
        assert ct.agent_id is not None, ct.id
        return self._agents[ct.agent_id]

    def _live_in_queue(self, queue_id: str) -> bool:
        return any(ct.queue == queue_id for ct in self._contacts.values())

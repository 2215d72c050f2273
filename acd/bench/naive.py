"""A scan-everything routing engine: the baseline the benchmarks compare against.

Why it exists: ``ipcc bench routing`` has to show what the indexed engine
(``acd.engine.Engine``) buys. The comparison is only honest if the baseline is correct and
written the obvious way, not slowed down on purpose. This engine keeps no index at all,
the way Asterisk's app_queue checks its members for every waiting caller: after any event
that can make a new match (a contact arrives or is requeued, an agent becomes ready or
frees capacity, a site-preference window closes) it

1. walks every agent to list the ones that are ready with some free capacity (each agent
   keeps a flag for that, refreshed when its presence or contacts change) - if there are
   none the pass ends here;
2. takes every waiting contact of every queue and sorts them by effective priority
   (own priority + queue priority + ``aging_per_min`` x minutes waited, highest first),
   then arrival, then arrival sequence;
3. for each contact in that order walks the free agents, keeps the eligible ones (media
   capacity, ``voice_exclusive``, required skills at their minimum levels, value tier,
   same site until the queue's ``site_widen_after_s``, not excluded after a reject or
   no-answer) and offers the contact to the best by the longest-idle key
   ``(contacts held, idle_since, agent id)``. A contact that asks for exactly what an earlier
   contact in the same pass found nobody for is skipped: the free list only shrinks
   during a pass, so the walk would find nobody again.

The two shortcuts (no pass after events that cannot create a match, skipping hopeless
repeats within a pass) are what anyone writing the simple version would do; without them
the baseline would be an order of magnitude slower still and the comparison unfair.

It implements the public interface of ``acd.engine.Engine`` (``configure_queue``,
``configure_agent``, ``handle``, ``waiting``, ``queue_stats``) and the semantics the
benchmarks exercise: offers with a ring timer, accept, reject (requeue, not offered to the
same agent again), ring-no-answer (requeue; agent not ready after the queue's
``no_answer_threshold`` misses), completion with per-media wrap-up timers (the queue's
``wrapup_s`` overrides the agent's), early wrap-up end, abandon and cancel while queued or
ringing, ready / not-ready / login / logout. Only the longest-idle strategy is supported;
relaxations, overflows and ``max_wait_s`` are not (configuring them raises), because the
benchmarks do not use them.

The rules follow the choices documented in ``acd/engine.py`` so that both engines make
the same routing decisions: ``idle_since`` is reset when the agent finishes all its work,
goes ready, or misses / rejects an offer; a rejected or unanswered contact goes back to
its original place and is not offered to that agent again for ``ring_timeout_s``; site
preference counts from ``queued_at`` (``site_widen_after_s`` None = strict same-site, 0 =
no preference); a hang-up while connected counts as completion. Notices
(``ContactUpdated`` / ``AgentUpdated``) are emitted on every state change, as the real
engine does, so the counts of returned decisions are comparable.

Timer keys: ``("ring", contact_id, agent_id)``, ``("wrapup", contact_id, agent_id)``,
``("widen", contact_id)``, ``("retry", contact_id)`` (an exclusion ends).
"""

from __future__ import annotations

from typing import Any

from ..events import (
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
    RetractOffer,
    StartTimer,
    TimerFired,
    WrapUpCompleted,
)
from ..model import (
    Activity,
    AgentConfig,
    Contact,
    ContactState,
    Outcome,
    Presence,
    QueueConfig,
    Strategy,
)

_QUEUED = ContactState.QUEUED.value
_OFFERED = ContactState.OFFERED.value
_CONNECTED = ContactState.CONNECTED.value
_WRAP_UP = ContactState.WRAP_UP.value
_ENDED = ContactState.ENDED.value


class _Agent:
    __slots__ = (
        "config",
        "device",
        "held",
        "idle_since",
        "missed",
        "presence",
        "reason",
        "room",
        "seat",
        "site",
    )

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.presence = Presence.LOGGED_OUT
        self.reason: str | None = None
        self.device: str | None = None
        self.site: str | None = None
        self.seat: str | None = None
        # contact id -> (media, Activity value)
        self.held: dict[str, tuple[str, str]] = {}
        self.idle_since = 0.0
        self.missed = 0
        self.room = False   # ready with some free capacity: kept current by _refresh


class _Contact:
    __slots__ = (
        "agent_id",
        "answered_at",
        "contact",
        "ended_at",
        "excluded",
        "media",
        "offered_at",
        "outcome",
        "queued_at",
        "seq",
        "state",
    )

    def __init__(self, contact: Contact, seq: int) -> None:
        self.contact = contact
        self.media = contact.channel.media
        self.seq = seq
        self.state = _QUEUED
        self.agent_id: str | None = None
        self.queued_at = contact.arrival
        self.excluded: dict[str, float] = {}   # agent id -> not offered to it before
        self.offered_at: float | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.outcome: Outcome | None = None


class NaiveEngine:
    """Correct, index-free ACD engine with the public interface of ``acd.engine.Engine``."""

    def __init__(self) -> None:
        self._queues: dict[str, QueueConfig] = {}
        self._agents: dict[str, _Agent] = {}
        self._contacts: dict[str, _Contact] = {}
        self._waiting: list[_Contact] = []   # unordered; sorted on every pass
        self._seq = 0
        self._ended: dict[str, _Contact] = {}   # per-queue statistics read these
        self._dirty = False   # something happened that can make a new match
        self._now = 0.0       # latest time seen, for configuration changes

    # ------------------------------------------------------------------ configuration

    def configure_queue(self, q: QueueConfig) -> list[Decision]:
        if q.strategy is not Strategy.LONGEST_IDLE:
            raise EngineError("unsupported", f"naive engine: strategy {q.strategy.value}")
        if q.relaxations or q.overflows or q.max_wait_s is not None:
            raise EngineError("unsupported", "naive engine: relaxation/overflow/max_wait")
        self._queues[q.id] = q
        return []

    def configure_agent(self, a: AgentConfig) -> list[Decision]:
        agent = self._agents.get(a.id)
        if agent is None:
            self._agents[a.id] = _Agent(a)
            return []
        agent.config = a
        self._refresh(agent)
        return self._rematch(self._now) if agent.presence is Presence.READY else []

    # ------------------------------------------------------------------ queries

    def waiting(self, queue_id: str) -> list[str]:
        if queue_id not in self._queues:
            raise EngineError("queue_not_found", f"unknown queue {queue_id}")
        mine = [c for c in self._waiting if c.contact.queue == queue_id]
        # Within one queue the aging rate is shared, so the order does not depend on now.
        mine.sort(key=lambda c: self._order_key(c, 0.0))
        return [c.contact.id for c in mine]

    def queue_stats(self, queue_id: str, now: float) -> dict[str, Any]:
        """Service level = answered within ``sl_threshold_s`` / (answered + abandoned after
        the threshold), as the real engine documents it."""
        q = self._queues.get(queue_id)
        if q is None:
            raise EngineError("queue_not_found", f"unknown queue {queue_id}")
        waiting = [c for c in self._waiting if c.contact.queue == queue_id]
        offered = answered = abandoned = within = abandoned_late = 0
        wait_sum = 0.0
        for rec in list(self._contacts.values()) + list(self._ended.values()):
            if rec.contact.queue != queue_id:
                continue
            if rec.offered_at is not None:
                offered += 1
            if rec.answered_at is not None:
                answered += 1
                wait = rec.answered_at - rec.queued_at
                wait_sum += wait
                within += wait <= q.sl_threshold_s
            elif rec.outcome is Outcome.ABANDONED:
                abandoned += 1
                assert rec.ended_at is not None
                abandoned_late += rec.ended_at - rec.queued_at > q.sl_threshold_s
        denominator = answered + abandoned
        sl_base = answered + abandoned_late
        return {
            "waiting": len(waiting),
            "longest_wait_s": max((now - c.queued_at for c in waiting), default=0.0),
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "abandoned_pct": 100.0 * abandoned / denominator if denominator else 0.0,
            "service_level_pct": 100.0 * within / sl_base if sl_base else 100.0,
            "asa_s": wait_sum / answered if answered else 0.0,
        }

    # ------------------------------------------------------------------ events

    def handle(self, event: Event, now: float) -> list[Decision]:
        out: list[Decision] = []
        self._dirty = False
        self._now = max(self._now, now)
        if isinstance(event, TimerFired):
            self._on_timer(event.key, now, out)
        elif isinstance(event, ContactArrived):
            self._on_arrived(event.contact, now if event.queued_at is None else event.queued_at,
                             now, out)
        elif isinstance(event, OfferAccepted):
            self._on_accepted(event.contact_id, event.agent_id, now, out)
        elif isinstance(event, ContactCompleted):
            self._on_completed(event.contact_id, event.agent_id, now, out)
        elif isinstance(event, WrapUpCompleted):
            rec = self._held_by(event.contact_id, event.agent_id, _WRAP_UP)
            out.append(CancelTimer(("wrapup", rec.contact.id, event.agent_id)))
            self._finish(rec, now, out)
        elif isinstance(event, OfferRejected):
            rec = self._held_by(event.contact_id, event.agent_id, _OFFERED)
            out.append(CancelTimer(("ring", rec.contact.id, event.agent_id)))
            self._exclude(rec, event.agent_id, now, out)
            self._requeue(rec, now, "rejected", out)
        elif isinstance(event, (ContactAbandoned, ContactCancelled)):
            outcome = (Outcome.ABANDONED if isinstance(event, ContactAbandoned)
                       else Outcome.CANCELLED)
            self._on_left(event.contact_id, outcome, now, out)
        elif isinstance(event, AgentWentReady):
            agent = self._agent(event.agent_id)
            if agent.presence is Presence.LOGGED_OUT:
                raise EngineError("illegal_transition", f"agent {agent.config.id} logged out")
            if agent.presence is not Presence.READY:
                agent.missed = 0
                if not agent.held:
                    agent.idle_since = now
            self._set_presence(agent, Presence.READY, None, now, out)
        elif isinstance(event, AgentWentNotReady):
            agent = self._agent(event.agent_id)
            if agent.presence is Presence.LOGGED_OUT:
                raise EngineError("illegal_transition", f"agent {agent.config.id} logged out")
            self._set_presence(agent, Presence.NOT_READY, event.reason, now, out)
        elif isinstance(event, AgentLoggedIn):
            agent = self._agent(event.agent_id)
            if agent.presence is not Presence.LOGGED_OUT:
                raise EngineError("illegal_transition", f"agent {agent.config.id} logged in")
            agent.device, agent.seat = event.device, event.seat
            agent.site = event.site or agent.config.home_site
            agent.missed = 0
            self._set_presence(agent, Presence.NOT_READY, None, now, out)
        elif isinstance(event, AgentLoggedOut):
            agent = self._agent(event.agent_id)
            for cid, (_media, state) in list(agent.held.items()):
                if state == Activity.OFFERED.value:
                    out.append(RetractOffer(cid, agent.config.id, "agent_logged_out"))
                    out.append(CancelTimer(("ring", cid, agent.config.id)))
                    self._requeue(self._contacts[cid], now, "agent_logged_out", out)
            self._set_presence(agent, Presence.LOGGED_OUT, event.reason, now, out)
        else:
            raise EngineError("unsupported", f"naive engine: {type(event).__name__}")
        if self._dirty:
            self._rematch(now, out)
        return out

    # ------------------------------------------------------------------ transitions

    def _on_arrived(self, contact: Contact, queued_at: float, now: float,
                    out: list[Decision]) -> None:
        if contact.id in self._contacts:
            raise EngineError("duplicate_contact", f"contact {contact.id} exists")
        q = self._queues.get(contact.queue)
        if q is None:
            raise EngineError("queue_not_found", f"unknown queue {contact.queue}")
        self._seq += 1
        rec = _Contact(contact, self._seq)
        rec.queued_at = queued_at
        self._contacts[contact.id] = rec
        self._waiting.append(rec)
        self._dirty = True
        self._contact_notice(rec, now, out)
        widen = q.site_widen_after_s
        if contact.site is not None and widen is not None and now < queued_at + widen:
            out.append(StartTimer(("widen", contact.id), queued_at + widen))

    def _on_accepted(self, cid: str, aid: str, now: float, out: list[Decision]) -> None:
        rec = self._held_by(cid, aid, _OFFERED)
        agent = self._agents[aid]
        agent.missed = 0
        rec.state = _CONNECTED
        rec.answered_at = now
        agent.held[cid] = (rec.media, Activity.BUSY.value)
        out.append(CancelTimer(("ring", cid, aid)))
        self._contact_notice(rec, now, out)
        self._agent_notice(agent, now, out)

    def _on_completed(self, cid: str, aid: str, now: float, out: list[Decision]) -> None:
        rec = self._held_by(cid, aid, _CONNECTED)
        agent = self._agents[aid]
        q = self._queues[rec.contact.queue]
        table = q.wrapup_s if q.wrapup_s is not None else agent.config.wrapup_s
        wrapup = float(table.get(rec.media, 0.0))
        if wrapup <= 0.0:
            self._finish(rec, now, out)
            return
        rec.state = _WRAP_UP
        agent.held[cid] = (rec.media, Activity.WRAP_UP.value)
        out.append(StartTimer(("wrapup", cid, aid), now + wrapup))
        self._contact_notice(rec, now, out)
        self._agent_notice(agent, now, out)

    def _on_left(self, cid: str, outcome: Outcome, now: float, out: list[Decision]) -> None:
        rec = self._contacts.get(cid)
        if rec is None:
            raise EngineError("contact_not_found", f"unknown contact {cid}")
        if rec.state == _CONNECTED and outcome is Outcome.ABANDONED:
            assert rec.agent_id is not None
            self._on_completed(cid, rec.agent_id, now, out)   # the customer hung up
            return
        if rec.state == _QUEUED:
            self._waiting.remove(rec)
            self._cancel_widen(rec, out)
        elif rec.state == _OFFERED:
            assert rec.agent_id is not None
            agent = self._agents[rec.agent_id]
            out.append(RetractOffer(cid, agent.config.id, outcome.value))
            out.append(CancelTimer(("ring", cid, agent.config.id)))
            del agent.held[cid]
            self._refresh(agent, freed=True)
            self._agent_notice(agent, now, out)
        else:
            raise EngineError("illegal_transition", f"contact {cid} is {rec.state}")
        rec.state = _ENDED
        rec.agent_id = None
        rec.outcome = outcome
        rec.ended_at = now
        self._forget(rec)
        self._contact_notice(rec, now, out)

    def _on_timer(self, key: tuple[Any, ...], now: float, out: list[Decision]) -> None:
        kind = key[0]
        if kind == "ring":
            rec = self._contacts.get(key[1])
            if rec is None or rec.state != _OFFERED or rec.agent_id != key[2]:
                return  # stale
            agent = self._agents[key[2]]
            agent.missed += 1
            out.append(RetractOffer(rec.contact.id, agent.config.id, "no_answer"))
            self._exclude(rec, agent.config.id, now, out)
            threshold = self._queues[rec.contact.queue].no_answer_threshold
            self._requeue(rec, now, "no_answer", out)
            if agent.missed >= threshold and agent.presence is Presence.READY:
                self._set_presence(agent, Presence.NOT_READY, "no answer", now, out)
        elif kind == "wrapup":
            rec = self._contacts.get(key[1])
            if rec is None or rec.state != _WRAP_UP or rec.agent_id != key[2]:
                return
            self._finish(rec, now, out)
        elif kind in ("widen", "retry"):
            self._dirty = True  # the pass routes it with the wider site / exclusion rule
        else:
            raise EngineError("unknown_timer", f"unknown timer {key!r}")

    def _finish(self, rec: _Contact, now: float, out: list[Decision]) -> None:
        """The agent is done with the contact: free the capacity, end the contact."""
        assert rec.agent_id is not None
        agent = self._agents[rec.agent_id]
        del agent.held[rec.contact.id]
        if not agent.held:
            agent.idle_since = now
        self._refresh(agent, freed=True)
        rec.state = _ENDED
        rec.outcome = Outcome.ANSWERED
        rec.ended_at = now
        self._forget(rec)
        self._contact_notice(rec, now, out)
        self._agent_notice(agent, now, out)

    def _requeue(self, rec: _Contact, now: float, reason: str, out: list[Decision]) -> None:
        """Back to the queue at its original place: arrival and sequence are unchanged."""
        assert rec.agent_id is not None
        agent = self._agents[rec.agent_id]
        del agent.held[rec.contact.id]
        if not agent.held and reason != "agent_logged_out":
            agent.idle_since = now
        self._refresh(agent, freed=True)
        rec.state = _QUEUED
        rec.agent_id = None
        self._waiting.append(rec)
        if self._site_rule(rec, now) is not None:
            widen = self._queues[rec.contact.queue].site_widen_after_s
            if widen is not None:
                out.append(StartTimer(("widen", rec.contact.id), rec.queued_at + widen))
        self._contact_notice(rec, now, out, reason)
        self._agent_notice(agent, now, out)

    def _set_presence(self, agent: _Agent, presence: Presence, reason: str | None,
                      now: float, out: list[Decision]) -> None:
        agent.presence = presence
        agent.reason = reason
        self._refresh(agent)
        self._agent_notice(agent, now, out)

    # ------------------------------------------------------------------ the scan

    def _order_key(self, rec: _Contact, now: float) -> tuple[float, float, int]:
        q = self._queues[rec.contact.queue]
        effective = (rec.contact.priority + q.priority
                     + q.aging_per_min * (now - rec.contact.arrival) / 60.0)
        return (-effective, rec.contact.arrival, rec.seq)

    def _rematch(self, now: float, out: list[Decision] | None = None) -> list[Decision]:
        if out is None:
            out = []
        if not self._waiting:
            return out
        free = [a for a in self._agents.values() if a.room]
        if not free:
            return out
        ordered = sorted(self._waiting, key=lambda c: self._order_key(c, now))
        hopeless: set[tuple[Any, ...]] = set()
        for rec in ordered:
            c = rec.contact
            # Contacts asking for the same thing as one that found nobody in this pass
            # find nobody either (the free list only shrinks during a pass).
            sig = (c.queue, None if c.skills is None else tuple(c.skills.items()), rec.media,
                   self._site_rule(rec, now), c.value_tier)
            if sig in hopeless:
                continue
            best = self._best_agent(rec, free, now)
            if best is None:
                if not rec.excluded:
                    hopeless.add(sig)
                continue
            self._offer(rec, best, now, out)
            if not best.room:
                free.remove(best)
                if not free:
                    break
        return out

    def _site_rule(self, rec: _Contact, now: float) -> str | None:
        """The site the contact is still restricted to, or None (any site)."""
        site = rec.contact.site
        if site is None:
            return None
        widen = self._queues[rec.contact.queue].site_widen_after_s
        if widen is not None and (widen <= 0 or now >= rec.queued_at + widen):
            return None
        return site   # None: strict same-site, never widened

    def _best_agent(self, rec: _Contact, free: list[_Agent], now: float) -> _Agent | None:
        contact = rec.contact
        q = self._queues[contact.queue]
        need = list((contact.skills if contact.skills is not None else q.skills).items())
        site = self._site_rule(rec, now)
        media = rec.media
        tier = contact.value_tier
        excluded = rec.excluded
        can_take = self._can_take
        best: _Agent | None = None
        best_key: tuple[int, float, str] = (0, 0.0, "")
        for agent in free:
            if site is not None and agent.site != site:
                continue
            if not can_take(agent, media):
                continue
            skills = agent.config.skills
            for s, lvl in need:
                if skills.get(s, 0) < lvl:
                    break
            else:
                tiers = agent.config.value_tiers
                if tiers and tier not in tiers:
                    continue
                if excluded and excluded.get(agent.config.id, -1.0) > now:
                    continue
                key = (len(agent.held), agent.idle_since, agent.config.id)
                if best is None or key < best_key:
                    best, best_key = agent, key
        return best

    @staticmethod
    def _can_take(agent: _Agent, media: str) -> bool:
        held = agent.held
        cap = agent.config.capacity.get(media, 0)
        if cap <= 0:
            return False
        if not held:
            return True
        same = 0
        for m, _state in held.values():
            if m == media:
                same += 1
            elif agent.config.voice_exclusive and (m == "voice" or media == "voice"):
                return False
        return same < cap

    def _refresh(self, agent: _Agent, freed: bool = False) -> None:
        """Recompute the agent's ``room`` flag after its presence or contacts changed;
        a pass is due if it gained room or freed capacity (in some media) while having room."""
        was = agent.room
        agent.room = agent.presence is Presence.READY and any(
            self._can_take(agent, m) for m, n in agent.config.capacity.items() if n > 0)
        if agent.room and (freed or not was):
            self._dirty = True

    def _offer(self, rec: _Contact, agent: _Agent, now: float, out: list[Decision]) -> None:
        q = self._queues[rec.contact.queue]
        self._waiting.remove(rec)
        self._cancel_widen(rec, out)
        rec.state = _OFFERED
        rec.agent_id = agent.config.id
        if rec.offered_at is None:
            rec.offered_at = now
        agent.held[rec.contact.id] = (rec.media, Activity.OFFERED.value)
        self._refresh(agent)
        out.append(Offer(rec.contact.id, agent.config.id, rec.contact.channel.value,
                         agent.device, q.ring_timeout_s))
        out.append(StartTimer(("ring", rec.contact.id, agent.config.id), now + q.ring_timeout_s))
        self._contact_notice(rec, now, out)
        self._agent_notice(agent, now, out)

    # ------------------------------------------------------------------ helpers

    def _cancel_widen(self, rec: _Contact, out: list[Decision]) -> None:
        q = self._queues[rec.contact.queue]
        widen = q.site_widen_after_s
        if rec.contact.site is not None and widen is not None and widen > 0:
            out.append(CancelTimer(("widen", rec.contact.id)))
        if rec.excluded:
            out.append(CancelTimer(("retry", rec.contact.id)))

    def _exclude(self, rec: _Contact, agent_id: str, now: float, out: list[Decision]) -> None:
        """After a reject or a ring-no-answer the contact is not offered to that agent for
        the queue's ring timeout (other agents get it meanwhile), as the real engine does."""
        until = now + self._queues[rec.contact.queue].ring_timeout_s
        rec.excluded[agent_id] = until
        out.append(StartTimer(("retry", rec.contact.id), until))

    def _forget(self, rec: _Contact) -> None:
        del self._contacts[rec.contact.id]
        self._ended[rec.contact.id] = rec
        if len(self._ended) > 10_000:
            del self._ended[next(iter(self._ended))]

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise EngineError("agent_not_found", f"unknown agent {agent_id}")
        return agent

    def _held_by(self, cid: str, aid: str, state: str) -> _Contact:
        rec = self._contacts.get(cid)
        if rec is None:
            raise EngineError("contact_not_found", f"unknown contact {cid}")
        if rec.agent_id != aid:
            raise EngineError("not_offered_to_agent", f"contact {cid} is not with {aid}")
        if rec.state != state:
            raise EngineError("illegal_transition", f"contact {cid} is {rec.state}")
        return rec

    def _contact_notice(self, rec: _Contact, now: float, out: list[Decision],
                        reason: str | None = None) -> None:
        c = rec.contact
        out.append(ContactUpdated(c.id, c.tenant, c.queue, rec.state, rec.agent_id,
                                  rec.outcome, reason, now))

    def _agent_notice(self, agent: _Agent, now: float, out: list[Decision]) -> None:
        contacts = self._contacts
        activity = {cid: {"channel": contacts[cid].contact.channel.value, "state": state}
                    for cid, (_media, state) in agent.held.items()}
        out.append(AgentUpdated(agent.config.id, agent.config.tenant, agent.presence,
                                agent.reason, activity, now))

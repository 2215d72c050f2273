"""Discrete-event simulator: drives a routing engine on a virtual clock.

Why: the benchmarks, capacity planning and the dialer's pacing tests need to push hours of
contact-center traffic through the real engine in seconds, with the same code path as the
server: events in through ``engine.handle(event, now)``, decisions out and applied. The
simulator plays every party the engine talks to - customers, agents, the timer wheel -
and keeps the books needed for the usual KPIs.

How decisions are applied
-------------------------
* ``Offer``: the simulated agent answers after the contact's ``answer_delay_s``
  (``OfferAccepted``); the conversation then lasts ``handle_s`` (``ContactCompleted``).
  Wrap-up is the engine's business: it asks for a timer and frees the agent when it fires.
* ``StartTimer(key, at)``: ``TimerFired(key)`` is scheduled at ``at`` (a second
  ``StartTimer`` with the same key replaces the first); ``CancelTimer(key)`` cancels it.
* ``RetractOffer``: the pending answer is dropped; the contact is back in the queue.
* ``ContactUpdated``: its ``state`` is tracked; ``ended`` closes the contact's books.
* ``AgentUpdated``: its ``presence`` is tracked (the engine may set an agent not ready).
* A customer with a ``patience_s`` abandons (``ContactAbandoned``) that long after arrival
  if the contact is still queued or ringing then.

Every event the simulator sends is valid in the state it has tracked, so it can drive any
engine with the public interface of ``acd.engine.Engine``; engine errors are not caught.
An engine that keeps producing work without the clock moving (a timer re-armed at
``now``) raises ``SimulationStuck`` instead of hanging the run.
Randomness lives with the caller: each contact carries its own handle time, patience and
answer delay, so the same scenario replayed against two engines is the same customers.

The KPIs (``SimReport``), over contacts that *arrive* inside the measurement window
``[measure_from, measure_until)`` (warm-up excluded):

* service level = answered within ``sl_threshold_s`` of arrival / all answered;
* ASA = mean of (answer - arrival) over answered contacts, where answer is the moment the
  simulated agent accepts the offer;
* abandon rate = abandoned / (answered + abandoned);
* occupancy = sum over agents of time holding at least one contact (from the offer to the
  end of wrap-up) / sum over agents of logged-in time, both clipped to the window.

Wall-clock use is limited to timing each ``handle()`` call (``time.perf_counter_ns``),
which is what the routing benchmark measures.
"""

from __future__ import annotations

import heapq
import time
from array import array
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpdated,
    AgentWentNotReady,
    AgentWentReady,
    CancelTimer,
    ContactAbandoned,
    ContactArrived,
    ContactCompleted,
    ContactUpdated,
    Decision,
    Event,
    Offer,
    OfferAccepted,
    RetractOffer,
    StartTimer,
    TimerFired,
)
from .model import AgentConfig, Contact, Presence, QueueConfig


class RoutingEngine(Protocol):
    """What the simulator needs from an engine (``acd.engine.Engine`` and the baseline)."""

    def configure_queue(self, q: QueueConfig) -> list[Decision]: ...

    def configure_agent(self, a: AgentConfig) -> list[Decision]: ...

    def handle(self, event: Event, now: float) -> list[Decision]: ...


# contact states as the simulator tracks them
PENDING = "pending"       # scheduled, not arrived yet
QUEUED = "queued"
OFFERED = "offered"
CONNECTED = "connected"
WRAP_UP = "wrap_up"
ENDED = "ended"


@dataclass(slots=True)
class ContactRecord:
    """One customer: what the scenario decided about them, and what happened."""

    contact: Contact
    handle_s: float
    patience_s: float | None = None
    answer_delay_s: float = 0.0
    state: str = PENDING
    agent_id: str | None = None
    offers: int = 0
    offer_token: int = 0          # bumps on every offer; a stale answer is dropped
    first_offer_at: float | None = None
    answered_at: float | None = None
    completed_at: float | None = None   # conversation end (wrap-up follows)
    ended_at: float | None = None
    outcome: str | None = None


@dataclass(slots=True)
class AgentRecord:
    config: AgentConfig
    presence: Presence = Presence.LOGGED_OUT
    held: set[str] = field(default_factory=set)
    logged_in_since: float | None = None
    logged_in_s: float = 0.0      # inside the measurement window
    busy_since: float | None = None
    busy_s: float = 0.0           # inside the measurement window
    answered: int = 0


@dataclass(frozen=True)
class SimReport:
    """KPIs over the measurement window (formulas in the module docstring)."""

    measured: int          # contacts that arrived inside the window
    answered: int
    answered_within: int
    abandoned: int
    other_outcomes: int    # ended some other way (timed out, overflowed, ...)
    unfinished: int        # still queued or with an agent when the run stopped
    service_level_pct: float
    asa_s: float
    abandon_pct: float
    occupancy_pct: float
    sl_threshold_s: float
    window: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class SimulationStuck(RuntimeError):
    """The virtual clock stopped moving: the engine keeps producing work at one instant."""


# heap entry kinds
_ARRIVE, _ACCEPT, _COMPLETE, _ABANDON, _TIMER, _READY, _NOT_READY, _LOGIN, _LOGOUT, _CALL = \
    range(10)


class Simulator:
    """Virtual-clock driver for one engine. Build, schedule, ``run()``, then ``report()``."""

    def __init__(
        self,
        engine: RoutingEngine,
        *,
        measure_from: float = 0.0,
        measure_until: float = float("inf"),
        record_latency: bool = False,
        on_dequeued: Callable[[Simulator, ContactRecord], None] | None = None,
        keep_ended: bool = True,
    ) -> None:
        """``keep_ended=False`` drops a contact's record once it has ended and been booked
        (long runs); ``on_dequeued(sim, record)`` is called when a contact leaves the
        queue for the first time (first offer, or abandoned before any offer)."""
        self.engine = engine
        self.now = 0.0
        self.measure_from = measure_from
        self.measure_until = measure_until
        self.contacts: dict[str, ContactRecord] = {}
        self.agents: dict[str, AgentRecord] = {}
        self.queued = 0                 # contacts waiting in a queue right now
        self.events = 0                 # events handed to the engine
        self.decisions = 0              # decisions it returned
        self.engine_ns = 0              # total time inside handle()
        self.latencies_ns: list[int] = []     # per event, when record_latency
        self.decision_counts: list[int] = []  # per event, when record_latency
        self.record_latency = record_latency
        self.on_dequeued = on_dequeued
        self.keep_ended = keep_ended
        self._ended_waits = array("d")     # answer - arrival of ended measured contacts
        self._ended_abandoned = 0
        self._ended_other = 0
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._timers: dict[tuple[Hashable, ...], int] = {}   # key -> live seq
        self._streams: dict[int, Iterator[tuple[float, ContactRecord]]] = {}
        self._stream_ids = 0
        # guard against an engine that livelocks the clock (e.g. a timer re-armed at now)
        self.max_steps_at_one_time = 100_000

    # ------------------------------------------------------------------ scenario

    def add_queue(self, q: QueueConfig) -> None:
        self._apply(self.engine.configure_queue(q))

    def add_agent(self, a: AgentConfig) -> None:
        self.agents[a.id] = AgentRecord(a)
        self._apply(self.engine.configure_agent(a))

    def login(self, agent_id: str, at: float, *, device: str | None = None,
              site: str | None = None, ready: bool = True) -> None:
        self._push(at, _LOGIN, (agent_id, device or f"sip:{agent_id}@sim", site, ready))

    def logout(self, agent_id: str, at: float) -> None:
        self._push(at, _LOGOUT, agent_id)

    def ready(self, agent_id: str, at: float) -> None:
        self._push(at, _READY, agent_id)

    def not_ready(self, agent_id: str, at: float, *, back_after_s: float | None = None,
                  reason: str = "break") -> None:
        """Agent goes not ready at ``at`` (if ready then), and ready again after a while."""
        self._push(at, _NOT_READY, (agent_id, back_after_s, reason))

    def add_contact(self, contact: Contact, *, handle_s: float, patience_s: float | None = None,
                    answer_delay_s: float = 0.0, at: float | None = None) -> ContactRecord:
        """Schedule a customer. ``at`` defaults to ``contact.arrival`` (a restored contact
        can arrive at the engine later than its original arrival)."""
        rec = ContactRecord(contact, handle_s, patience_s, answer_delay_s)
        self._push(contact.arrival if at is None else at, _ARRIVE, rec)
        return rec

    def add_stream(self, stream: Iterable[tuple[float, ContactRecord]]) -> None:
        """A lazily read, time-ordered source of ``(at, ContactRecord)``: only the next
        arrival sits in the heap, so a long run does not hold every future contact."""
        it = iter(stream)
        self._stream_ids += 1
        sid = self._stream_ids
        self._streams[sid] = it
        self._next_from_stream(sid)

    def call_at(self, at: float, fn: Callable[[Simulator], None]) -> None:
        """Run ``fn(sim)`` at virtual time ``at`` (scenario hooks, probes)."""
        self._push(at, _CALL, fn)

    # ------------------------------------------------------------------ running

    def run(self, until: float = float("inf"), *, max_events: int | None = None,
            deadline_ns: int | None = None) -> None:
        """Process everything scheduled before ``until``; stop early after ``max_events``
        engine events or once ``time.perf_counter_ns()`` passes ``deadline_ns``."""
        heap = self._heap
        pop = heapq.heappop
        check = 0
        same_time = 0
        while heap and heap[0][0] < until:
            if max_events is not None and self.events >= max_events:
                return
            if deadline_ns is not None:
                check += 1
                if check & 63 == 0 and time.perf_counter_ns() > deadline_ns:
                    return
            at, seq, kind, data = pop(heap)
            if at == self.now:
                same_time += 1
                if same_time > self.max_steps_at_one_time:
                    raise SimulationStuck(
                        f"{same_time} steps at virtual time {at} without the clock moving; "
                        f"last entry kind {kind}: {data!r} (an engine re-arming a timer at "
                        "or before now?)")
            else:
                same_time = 0
            self.now = at
            self._dispatch(kind, seq, data)
        if until != float("inf") and until > self.now:
            self.now = until

    @property
    def pending(self) -> int:
        return len(self._heap)

    # ------------------------------------------------------------------ report

    def report(self, sl_threshold_s: float) -> SimReport:
        lo, hi = self.measure_from, min(self.measure_until, self.now)
        waits = list(self._ended_waits)          # contacts that ended: tallied then
        abandoned, other = self._ended_abandoned, self._ended_other
        unfinished = 0
        for rec in self.contacts.values():
            arrival = rec.contact.arrival
            if rec.state in (ENDED, PENDING) or not lo <= arrival < hi:
                continue
            if rec.answered_at is not None:
                waits.append(rec.answered_at - arrival)
            else:
                unfinished += 1
        answered = len(waits)
        within = sum(1 for w in waits if w <= sl_threshold_s)
        wait_sum = sum(waits)
        measured = answered + abandoned + other + unfinished
        busy = logged = 0.0
        for agent in self.agents.values():
            busy += agent.busy_s
            logged += agent.logged_in_s
            if agent.busy_since is not None:
                busy += self._overlap(agent.busy_since, self.now)
            if agent.logged_in_since is not None:
                logged += self._overlap(agent.logged_in_since, self.now)
        gone = answered + abandoned
        return SimReport(
            measured=measured,
            answered=answered,
            answered_within=within,
            abandoned=abandoned,
            other_outcomes=other,
            unfinished=unfinished,
            service_level_pct=100.0 * within / answered if answered else 0.0,
            asa_s=wait_sum / answered if answered else 0.0,
            abandon_pct=100.0 * abandoned / gone if gone else 0.0,
            occupancy_pct=100.0 * busy / logged if logged else 0.0,
            sl_threshold_s=sl_threshold_s,
            window=(lo, hi),
        )

    # ------------------------------------------------------------------ internals

    def _push(self, at: float, kind: int, data: Any) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, data))
        return self._seq

    def _next_from_stream(self, sid: int) -> None:
        it = self._streams[sid]
        for at, rec in it:
            self._push(at, _ARRIVE, (sid, rec))
            return
        del self._streams[sid]

    def _send(self, event: Event) -> None:
        t0 = time.perf_counter_ns()
        decisions = self.engine.handle(event, self.now)
        dt = time.perf_counter_ns() - t0
        self.events += 1
        self.decisions += len(decisions)
        self.engine_ns += dt
        if self.record_latency:
            self.latencies_ns.append(dt)
            self.decision_counts.append(len(decisions))
        self._apply(decisions)

    def _dispatch(self, kind: int, seq: int, data: Any) -> None:
        if kind == _TIMER:
            if self._timers.get(data) == seq:
                del self._timers[data]
                self._send(TimerFired(data))
        elif kind == _ACCEPT:
            rec, token = data
            if rec.state == OFFERED and rec.offer_token == token:
                rec.answered_at = self.now
                rec.state = CONNECTED
                assert rec.agent_id is not None
                self.agents[rec.agent_id].answered += 1
                self._push(self.now + rec.handle_s, _COMPLETE, (rec, token))
                self._send(OfferAccepted(rec.contact.id, rec.agent_id))
        elif kind == _COMPLETE:
            rec, token = data
            if rec.state == CONNECTED and rec.offer_token == token:
                assert rec.agent_id is not None
                rec.completed_at = self.now
                self._send(ContactCompleted(rec.contact.id, rec.agent_id))
        elif kind == _ARRIVE:
            if isinstance(data, tuple):
                sid, rec = data
                self._next_from_stream(sid)
            else:
                rec = data
            self._arrive(rec)
        elif kind == _ABANDON:
            rec = data
            if rec.state in (QUEUED, OFFERED):
                self._send(ContactAbandoned(rec.contact.id))
        elif kind == _NOT_READY:
            agent_id, back_after_s, reason = data
            agent = self.agents[agent_id]
            if agent.presence is Presence.READY:
                self._send(AgentWentNotReady(agent_id, reason))
                if back_after_s is not None:
                    self._push(self.now + back_after_s, _READY, agent_id)
        elif kind == _READY:
            agent = self.agents[data]
            if agent.presence is Presence.NOT_READY:
                self._send(AgentWentReady(data))
        elif kind == _LOGIN:
            agent_id, device, site, ready = data
            agent = self.agents[agent_id]
            if agent.presence is Presence.LOGGED_OUT:
                self._set_presence(agent, Presence.NOT_READY)   # until the engine says more
                self._send(AgentLoggedIn(agent_id, device, site))
                # the engine's notice may have made it ready already
                if ready and self.agents[agent_id].presence is Presence.NOT_READY:
                    self._send(AgentWentReady(agent_id))
        elif kind == _LOGOUT:
            agent = self.agents[data]
            if agent.presence is not Presence.LOGGED_OUT:
                self._send(AgentLoggedOut(data))
                self._set_presence(agent, Presence.LOGGED_OUT)
        elif kind == _CALL:
            data(self)
        else:  # pragma: no cover - the kinds are the constants above
            raise ValueError(f"unknown entry kind {kind}")

    def _arrive(self, rec: ContactRecord) -> None:
        cid = rec.contact.id
        if cid in self.contacts:
            raise ValueError(f"contact {cid} scheduled twice")
        self.contacts[cid] = rec
        rec.state = QUEUED
        self.queued += 1
        if rec.patience_s is not None:
            self._push(rec.contact.arrival + rec.patience_s, _ABANDON, rec)
        self._send(ContactArrived(rec.contact))

    def _apply(self, decisions: list[Decision]) -> None:
        for d in decisions:
            if isinstance(d, ContactUpdated):
                self._on_contact_updated(d)
            elif isinstance(d, StartTimer):
                self._timers[d.key] = self._push(d.at, _TIMER, d.key)
            elif isinstance(d, CancelTimer):
                self._timers.pop(d.key, None)
            elif isinstance(d, Offer):
                self._on_offer(d)
            elif isinstance(d, RetractOffer):
                rec = self.contacts[d.contact_id]
                if rec.agent_id == d.agent_id and rec.state == OFFERED:
                    self._requeue(rec)
            elif isinstance(d, AgentUpdated):
                agent = self.agents.get(d.agent_id)
                if agent is not None and agent.presence != d.presence:
                    self._set_presence(agent, Presence(d.presence))

    def _requeue(self, rec: ContactRecord) -> None:
        """The offer is off (retracted, timed out): back to waiting, pending answer void."""
        assert rec.agent_id is not None
        rec.offer_token += 1
        self._release(rec, rec.agent_id)
        rec.agent_id = None
        rec.state = QUEUED
        self.queued += 1

    def _on_offer(self, d: Offer) -> None:
        rec = self.contacts[d.contact_id]
        if rec.state != QUEUED:
            raise AssertionError(f"offer of {d.contact_id} in state {rec.state}")
        agent = self.agents[d.agent_id]
        rec.state = OFFERED
        rec.agent_id = d.agent_id
        rec.offers += 1
        rec.offer_token += 1
        self.queued -= 1
        if rec.first_offer_at is None:
            rec.first_offer_at = self.now
        if not agent.held:
            agent.busy_since = self.now
        agent.held.add(d.contact_id)
        self._push(self.now + rec.answer_delay_s, _ACCEPT, (rec, rec.offer_token))
        if rec.offers == 1 and self.on_dequeued is not None:
            self.on_dequeued(self, rec)

    def _on_contact_updated(self, d: ContactUpdated) -> None:
        rec = self.contacts.get(d.contact_id)
        if rec is None or rec.state == ENDED:
            return
        state = str(getattr(d.state, "value", d.state))
        if state == ENDED:
            was_queued = rec.state == QUEUED
            if was_queued:
                self.queued -= 1
            if rec.agent_id is not None:
                self._release(rec, rec.agent_id)
            rec.state = ENDED
            rec.ended_at = self.now
            rec.outcome = None if d.outcome is None else str(getattr(d.outcome, "value",
                                                                    d.outcome))
            self._tally(rec)
            if was_queued and rec.offers == 0 and self.on_dequeued is not None:
                self.on_dequeued(self, rec)
            if not self.keep_ended:
                del self.contacts[rec.contact.id]
        elif state == WRAP_UP and rec.state == CONNECTED:
            rec.state = WRAP_UP
        elif state == QUEUED and rec.state == OFFERED:
            self._requeue(rec)     # an engine that requeues without a RetractOffer

    def _tally(self, rec: ContactRecord) -> None:
        """Book an ended contact's figures now, so its record need not be kept."""
        if not self.measure_from <= rec.contact.arrival < self.measure_until:
            return
        if rec.answered_at is not None:
            self._ended_waits.append(rec.answered_at - rec.contact.arrival)
        elif rec.outcome == "abandoned":
            self._ended_abandoned += 1
        else:
            self._ended_other += 1

    def _release(self, rec: ContactRecord, agent_id: str) -> None:
        agent = self.agents[agent_id]
        agent.held.discard(rec.contact.id)
        if not agent.held and agent.busy_since is not None:
            agent.busy_s += self._overlap(agent.busy_since, self.now)
            agent.busy_since = None

    def _set_presence(self, agent: AgentRecord, presence: Presence) -> None:
        was_in = agent.presence is not Presence.LOGGED_OUT
        is_in = presence is not Presence.LOGGED_OUT
        agent.presence = presence
        if is_in and not was_in:
            agent.logged_in_since = self.now
        elif was_in and not is_in and agent.logged_in_since is not None:
            agent.logged_in_s += self._overlap(agent.logged_in_since, self.now)
            agent.logged_in_since = None

    def _overlap(self, start: float, end: float) -> float:
        lo = max(start, self.measure_from)
        hi = min(end, self.measure_until)
        return hi - lo if hi > lo else 0.0


def percentile(sorted_values: list[int], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (``pct`` in 0..100)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return float(sorted_values[min(len(sorted_values), int(rank)) - 1])

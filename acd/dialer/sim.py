"""A discrete-event simulator that runs a :class:`~acd.dialer.pacer.Pacer` on a virtual
clock against a model of the called parties and the agents.

The world model (:class:`SimProfile`), per dial attempt, independently:

* a person answers after a ring drawn uniformly in ``human_ring_s`` (default 30 %);
* busy after ``busy_after_s`` (10 %);
* nobody answers; the network gives up after ``no_answer_after_s`` (50 %) - the pacer's
  own ring timer (at least 15 s) may hang up first;
* an answering machine picks up after a ring in ``machine_ring_s``, and answering-machine
  detection needs ``machine_detect_s`` more before the pacer hears ``CallAnswered(MACHINE)``
  (10 %). The pacer then hangs up: a machine is never connected to an agent and is not a
  live answer. (A person is recognised at once; real AMD also delays persons, which would
  only shorten the 2 s grace - not modelled.)

Agents are all available from the start to the end of the shift; a connected call lasts a
lognormal talk time (mean ``talk_mean_s``, standard deviation ``talk_sd_s``), then the agent
wraps up for ``wrap_s`` and reports ``AgentAvailable``. The simulator sends ``Tick`` every
``tick_s`` and carries out the pacer's timers. Everything random comes from one seeded
``random.Random``, so a run is reproducible.

Measured: productive agent time (talk + wrap-up inside the shift) per logged-in hour, and
the abandonment rate in each governor window at the end of the shift, plus the worst
rate any window showed at any moment after an abandon (``max_rate_pct``).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from . import events as ev
from .model import AnswerKind, Lead, Outcome
from .pacer import Pacer
from .windows import utc

US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


@dataclass(frozen=True)
class SimProfile:
    agents: int = 50
    hours: float = 8.0
    start: float = utc(2024, 6, 4, 16)     # a Tuesday: 12:00 in New York, 09:00 in LA
    p_human: float = 0.30
    p_busy: float = 0.10
    p_no_answer: float = 0.50
    p_machine: float = 0.10
    human_ring_s: tuple[float, float] = (6.0, 10.0)
    busy_after_s: float = 3.0
    no_answer_after_s: float = 20.0
    machine_ring_s: tuple[float, float] = (6.0, 10.0)
    machine_detect_s: float = 3.0
    talk_mean_s: float = 120.0
    talk_sd_s: float = 60.0
    wrap_s: float = 20.0
    tick_s: float = 1.0
    leads: int | None = None              # None: enough for the shift
    zones: tuple[str, ...] = US_ZONES
    dnc_fraction: float = 0.0             # share of leads whose number is on the DNC list

    def __post_init__(self) -> None:
        total = self.p_human + self.p_busy + self.p_no_answer + self.p_machine
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError("attempt outcome probabilities must add up to 1")

    @property
    def end(self) -> float:
        return self.start + self.hours * 3600.0


@dataclass
class SimResult:
    dials: int = 0
    live_answers: int = 0
    abandoned: int = 0
    connected: int = 0
    machines: int = 0
    productive_s: float = 0.0
    logged_in_s: float = 0.0
    rate_pct: dict[str, float] = field(default_factory=dict)
    max_rate_pct: dict[str, float] = field(default_factory=dict)
    audits: int = 0
    dnc_dials: int = 0
    outside_window_dials: int = 0
    abandon_messages: int = 0

    @property
    def productive_min_per_h(self) -> float:
        return 60.0 * self.productive_s / self.logged_in_s if self.logged_in_s else 0.0


class Simulation:
    """Run ``pacer`` through one shift of ``profile`` with ``seed``."""

    def __init__(self, pacer: Pacer, profile: SimProfile, seed: int,
                 observer: Callable[[float, list[ev.Decision]], None] | None = None) -> None:
        self.pacer = pacer
        self.profile = profile
        self.rng = random.Random(seed)
        self.observer = observer
        self.result = SimResult()
        self._heap: list[tuple[float, int, object]] = []
        self._seq = itertools.count()
        self._timers: dict[tuple[Hashable, ...], int] = {}
        self._dead: set[str] = set()
        self._call_agent: dict[str, str] = {}
        self._connected_at: dict[str, float] = {}
        self._dnc_numbers: set[str] = set()
        self._lead_tz: dict[str, str] = {}
        sd = profile.talk_sd_s / profile.talk_mean_s
        self._ln_sigma = math.sqrt(math.log(1.0 + sd * sd))
        self._ln_mu = math.log(profile.talk_mean_s) - 0.5 * self._ln_sigma ** 2

    # ---------------------------------------------------------------- scheduling

    def _at(self, at: float, item: object) -> int:
        seq = next(self._seq)
        heapq.heappush(self._heap, (at, seq, item))
        return seq

    def _leads(self) -> list[Lead]:
        p = self.profile
        n = p.leads if p.leads is not None else int(p.agents * p.hours * 100)
        leads = []
        for i in range(n):
            phone = f"+1555{i:07d}"
            if self.rng.random() < p.dnc_fraction:
                self._dnc_numbers.add(phone)
            tz = p.zones[i % len(p.zones)]
            self._lead_tz[f"L{i}"] = tz
            leads.append(Lead(f"L{i}", phone, tz, not_before=p.start))
        return leads

    # ---------------------------------------------------------------- run

    def run(self) -> SimResult:
        p = self.profile
        start, end = p.start, p.end
        leads = self._leads()
        self._feed(ev.DncUpdated(added=tuple(sorted(self._dnc_numbers))), start)
        self._feed(ev.LeadsAdded(tuple(leads)), start)
        for i in range(p.agents):
            self._feed(ev.AgentAvailable(f"a{i}"), start)
        self.result.logged_in_s = p.agents * (end - start)
        next_tick = start + p.tick_s
        heap = self._heap
        while True:
            if heap and heap[0][0] <= next_tick:
                at, seq, item = heapq.heappop(heap)
                if at >= end:
                    break
                if isinstance(item, ev.TimerFired):
                    if self._timers.get(item.key) != seq:
                        continue            # cancelled or re-armed
                    del self._timers[item.key]
                elif isinstance(item, _Wrapped):
                    if item.call_id in self._dead:
                        continue
                    item = item.event
                    if isinstance(item, _TalkOver):
                        self.talk_over(item.call_id, at)
                        continue
                self._feed(item, at)        # type: ignore[arg-type]
            else:
                if next_tick >= end:
                    break
                self._feed(ev.Tick(), next_tick)
                next_tick += p.tick_s
        self._close_books(end)
        gov = self.pacer.governor
        for window in ("24h", "30d"):
            self.result.rate_pct[window] = gov.rate_pct(window, end)
            self.result.max_rate_pct.setdefault(window, 0.0)
        return self.result

    def _feed(self, event: ev.Event, now: float) -> None:
        decisions = self.pacer.handle(event, now)
        if self.observer is not None:
            self.observer(now, decisions)
        for d in decisions:
            self._apply(d, now)

    # ---------------------------------------------------------------- decisions

    def _apply(self, d: ev.Decision, now: float) -> None:
        r = self.result
        if isinstance(d, ev.Dial):
            r.dials += 1
            if d.phone in self._dnc_numbers:
                r.dnc_dials += 1
            if not self.pacer.policy.is_open(now, self._lead_tz[d.lead_id]):
                r.outside_window_dials += 1
            self._network(d.call_id, now)
        elif isinstance(d, ev.StartTimer):
            self._timers[d.key] = self._at(d.at, ev.TimerFired(d.key))
        elif isinstance(d, ev.CancelTimer):
            self._timers.pop(d.key, None)
        elif isinstance(d, ev.Connect):
            r.connected += 1
            self._call_agent[d.call_id] = d.agent_id
            self._connected_at[d.call_id] = now
            self._at(now, _Wrapped(d.call_id, ev.CallConnectedToAgent(d.call_id, d.agent_id)))
            talk = self.rng.lognormvariate(self._ln_mu, self._ln_sigma)
            self._at(now + talk, _Wrapped(d.call_id, _TalkOver(d.call_id)))
        elif isinstance(d, ev.HangUp):
            self._dead.add(d.call_id)
        elif isinstance(d, ev.PlayAbandonMessage):
            r.abandon_messages += 1
        elif isinstance(d, ev.Audit):
            r.audits += 1
            if d.outcome is Outcome.MACHINE:
                r.machines += 1
            if d.abandoned:
                r.abandoned += 1
                gov = self.pacer.governor
                for window in ("24h", "30d"):
                    rate = gov.rate_pct(window, now)
                    r.max_rate_pct[window] = max(r.max_rate_pct.get(window, 0.0), rate)
            if d.answered_at is not None and d.outcome is not Outcome.MACHINE:
                r.live_answers += 1

    def _network(self, call_id: str, now: float) -> None:
        p = self.profile
        u = self.rng.random()
        if u < p.p_human:
            at = now + self.rng.uniform(*p.human_ring_s)
            event: object = ev.CallAnswered(call_id, AnswerKind.HUMAN)
        elif u < p.p_human + p.p_busy:
            at = now + p.busy_after_s
            event = ev.CallBusy(call_id)
        elif u < p.p_human + p.p_busy + p.p_no_answer:
            at = now + p.no_answer_after_s
            event = ev.CallNoAnswer(call_id)
        else:
            at = now + self.rng.uniform(*p.machine_ring_s) + p.machine_detect_s
            event = ev.CallAnswered(call_id, AnswerKind.MACHINE)
        self._at(at, _Wrapped(call_id, event))

    def _close_books(self, end: float) -> None:
        """Productive time of calls still going at the end of the shift."""
        for at in self._connected_at.values():
            self.result.productive_s += max(0.0, end - at)

    def talk_over(self, call_id: str, now: float) -> None:
        agent = self._call_agent.pop(call_id)
        connected = self._connected_at.pop(call_id)
        end = self.profile.end
        wrap_end = now + self.profile.wrap_s
        self.result.productive_s += (now - connected) + (min(wrap_end, end) - now)
        self._feed(ev.CallEnded(call_id), now)
        self._at(wrap_end, ev.AgentAvailable(agent))


@dataclass(frozen=True)
class _Wrapped:
    """A network event about a call; dropped if the pacer hung the call up meanwhile."""

    call_id: str
    event: object


@dataclass(frozen=True)
class _TalkOver:
    call_id: str

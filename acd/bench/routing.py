"""Routing engine throughput and latency, against a scan-everything baseline.

What is measured
----------------
A seeded population (agents with 2-5 skills at levels 1-10, specialised capacities -
voice, chat, blended voice+chat, back office email+sms - at three sites with free seating;
queues on one channel needing 1-2 skills at minimum levels, with priorities and site
preference) is driven through ``acd.sim.Simulator``: agents log in and go ready during
the first minute, then ``W`` contacts arrive at once; agents answer after a few seconds, talk, wrap up (engine
timers), take breaks (not-ready / ready flips) and customers abandon when their patience
runs out. The waiting count is held near ``W`` by replacing every contact that leaves the
queue (offered or abandoned) with a new arrival after a short random delay, so the engine
works with about ``W`` waiting contacts and saturated agents throughout - the busy hour.

Only ``engine.handle()`` is timed (``time.perf_counter_ns`` around each call), after a
warm-up (logins and the initial fill) that is not measured.

* **decisions/s** = Decision objects returned by ``handle()`` (offers, timers, retracts
  and the ContactUpdated / AgentUpdated notices the server journals and publishes) /
  seconds spent inside ``handle()``. ``offers_per_s`` and ``events_per_s`` are given too.
* **p50/p99/p99.9** = nearest-rank percentiles of the time of one ``handle()`` call, in
  microseconds, over the measured events.
* **ratio** = engine decisions/s / baseline decisions/s, both over the same stretch of
  the scenario: the baseline's measured prefix (see below) and the engine's first as many
  measured events. Both engines route identically (the tests check that the offers are
  the same), so these are the same customer and agent events; only timer events differ
  a little, as each engine arms its own timers. ``events_ratio`` compares events/s the same way (it does not depend on how many
  notices each engine emits); ``ratio_full_run`` uses the engine's whole measured run.

Fairness: both engines run the *same simulator logic with the same seed*: the population,
every customer's attributes (queue, channel, skills, site, priority, handle time,
patience, answer delay, replacement delay - drawn in arrival order from one RNG) and the
break schedule are identical; the reactive events (answers, completions, timers) follow
each engine's own decisions, so every event is valid for the engine that receives it.
Two correct engines with the same routing rules produce the same stream.
The baseline is slow by construction, so its measured phase stops after ``--baseline-
events`` events or ``--baseline-seconds`` of wall time, whichever comes first, and its
rate is the rate over that prefix (the warm-up is processed in full but not timed).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import AgentConfig, Channel, Contact, QueueConfig
from ..sim import ContactRecord, RoutingEngine, Simulator, percentile
from .naive import NaiveEngine

TENANT = "bench"
SITES = ("paris", "lyon", "tunis")
SITE_WEIGHTS = (0.5, 0.3, 0.2)
LEVEL_WEIGHTS = (1, 2, 4, 6, 8, 8, 6, 4, 2, 1)   # agent skill level 1..10
# agent profiles: (weight, capacity)
PROFILES = (
    (0.55, {"voice": 1}),
    (0.25, {"chat": 3}),
    (0.10, {"voice": 1, "chat": 2}),
    (0.10, {"email": 2, "sms": 3}),
)
QUEUE_CHANNELS = ((Channel.VOICE, 0.55), (Channel.CHAT, 0.25), (Channel.EMAIL, 0.12),
                  (Channel.SMS, 0.08))
# per media: mean handle time (s), mean patience (s, None: never abandons), answer delay
HANDLE_MEAN = {"voice": 240.0, "chat": 420.0, "email": 300.0, "sms": 180.0}
PATIENCE_MEAN: dict[str, float | None] = {"voice": 150.0, "chat": 300.0, "email": None,
                                          "sms": 600.0}
ANSWER_DELAY = {"voice": (1.0, 6.0), "chat": (0.5, 3.0), "email": (0.0, 2.0), "sms": (0.0, 2.0)}

OPEN_S = 60.0               # agents log in before this, contacts arrive from then on
WARMUP_S = 180.0            # the initial fill is over by then; measuring starts
BREAK_EVERY_S = 1800.0      # each agent takes a break about this often
BREAK_MEAN_S = 300.0
REPLACE_MEAN_S = 0.25       # delay before a departed waiting contact is replaced


@dataclass(frozen=True)
class Population:
    queues: list[QueueConfig]
    agents: list[AgentConfig]
    queue_weights: list[float]
    queue_channel: dict[str, Channel]
    login_site: dict[str, str]


def build_population(n_agents: int, n_queues: int, n_skills: int, seed: int) -> Population:
    """Agents with a few skills each (popular skills are common), queues whose
    requirement at least a handful of agents meet; deterministic for a seed."""
    rng = random.Random(seed)
    skills = [f"sk{i:02d}" for i in range(n_skills)]
    popularity = [1.0 / (i + 1) ** 0.7 for i in range(n_skills)]
    agents: list[AgentConfig] = []
    login_site: dict[str, str] = {}
    for i in range(n_agents):
        k = min(n_skills, rng.choice((2, 3, 3, 4, 5)))
        mine: dict[str, int] = {}
        while len(mine) < k:
            s = rng.choices(skills, popularity)[0]
            mine[s] = rng.choices(range(1, 11), LEVEL_WEIGHTS)[0]
        capacity = rng.choices([p[1] for p in PROFILES], [p[0] for p in PROFILES])[0]
        home = rng.choices(SITES, SITE_WEIGHTS)[0]
        aid = f"a{i:05d}"
        agents.append(AgentConfig(id=aid, tenant=TENANT, skills=mine, home_site=home,
                                  capacity=dict(capacity)))
        # free seating: one agent in ten works from another site today
        login_site[aid] = rng.choice(SITES) if rng.random() < 0.1 else home
    queues: list[QueueConfig] = []
    weights: list[float] = []
    queue_channel: dict[str, Channel] = {}
    min_eligible = max(3, n_agents // 200)
    for j in range(n_queues):
        channel = rng.choices([c for c, _ in QUEUE_CHANNELS], [w for _, w in QUEUE_CHANNELS])[0]
        media = channel.media
        for _attempt in range(200):
            n_req = 1 if rng.random() < 0.7 else 2
            need: dict[str, int] = {}
            while len(need) < min(n_req, n_skills):
                need[rng.choices(skills, popularity)[0]] = rng.randint(1, 5)
            eligible = sum(
                1 for a in agents
                if a.capacity.get(media, 0) > 0
                and all(a.skills.get(s, 0) >= lvl for s, lvl in need.items()))
            if eligible >= min_eligible:
                break
        else:
            raise ValueError(f"cannot staff queue {j}: too few agents for {media}")
        queues.append(QueueConfig(
            id=f"q{j:03d}", tenant=TENANT, skills=need, priority=rng.choice((0, 0, 0, 1, 2)),
            sl_threshold_s={"voice": 20.0, "chat": 60.0}.get(media, 3600.0),
            site_widen_after_s=rng.choice((0.0, 15.0, 30.0, 60.0)),   # 0: no preference
        ))
        weights.append(eligible * rng.uniform(0.5, 1.5))
        queue_channel[queues[-1].id] = channel
    return Population(queues, agents, weights, queue_channel, login_site)


class _Customers:
    """Draws customer k's attributes from one RNG in arrival order, so both engines see
    the same customers."""

    def __init__(self, pop: Population, seed: int) -> None:
        self.rng = random.Random(seed * 7919 + 1)
        self.pop = pop
        self.n = 0

    def make(self, arrival: float) -> tuple[ContactRecord, float]:
        """The next customer arriving at ``arrival``, and the delay before the one that
        replaces it arrives once this one has left the queue."""
        rng = self.rng
        q = rng.choices(self.pop.queues, self.pop.queue_weights)[0]
        channel = self.pop.queue_channel[q.id]
        if channel is Channel.VOICE:
            channel = rng.choices((Channel.VOICE, Channel.WEBRTC, Channel.CALLBACK),
                                  (0.9, 0.07, 0.03))[0]
        media = channel.media
        priority = 0 if rng.random() < 0.85 else rng.randint(1, 3)
        site = rng.choices(SITES, SITE_WEIGHTS)[0] if rng.random() < 0.6 else None
        # lognormal with the given mean: mu = ln(mean) - sigma^2 / 2
        handle = rng.lognormvariate(math.log(HANDLE_MEAN[media]) - 0.18, 0.6)
        mean_patience = PATIENCE_MEAN[media]
        patience = None if mean_patience is None else 5.0 + rng.expovariate(1 / mean_patience)
        lo, hi = ANSWER_DELAY[media]
        delay = rng.uniform(lo, hi)
        replace_after = rng.expovariate(1 / REPLACE_MEAN_S)
        self.n += 1
        contact = Contact(id=f"c{self.n:07d}", tenant=TENANT, channel=channel, queue=q.id,
                          arrival=arrival, priority=priority, site=site)
        return ContactRecord(contact, handle, patience, delay), replace_after


def drive(engine: RoutingEngine, pop: Population, *,
          waiting: int, seed: int, measure_events: int,
          deadline_s: float | None = None) -> dict[str, Any]:
    """Run the busy-hour scenario against ``engine``; time ``handle()`` after warm-up."""
    customers = _Customers(pop, seed)
    rng = random.Random(seed * 104729 + 2)
    replace_after: dict[str, float] = {}

    def arrive(sim: Simulator, at: float) -> None:
        rec, delay = customers.make(at)
        replace_after[rec.contact.id] = delay
        sim.add_contact(rec.contact, handle_s=rec.handle_s, patience_s=rec.patience_s,
                        answer_delay_s=rec.answer_delay_s)

    def on_dequeued(sim: Simulator, rec: ContactRecord) -> None:
        delay = replace_after.pop(rec.contact.id)
        arrive(sim, sim.now + delay)

    sim = Simulator(engine, on_dequeued=on_dequeued)
    for q in pop.queues:
        sim.add_queue(q)
    for a in pop.agents:
        sim.add_agent(a)
    # agents log in over the first minute, one in twenty starts not ready for a while;
    # the doors open at OPEN_S and the waiting line forms at once
    for a in pop.agents:
        at = rng.uniform(0.0, OPEN_S)
        late = rng.random() < 0.05
        sim.login(a.id, at, site=pop.login_site[a.id], ready=not late)
        if late:
            sim.ready(a.id, at + rng.uniform(30.0, WARMUP_S))
    for i in range(waiting):
        arrive(sim, OPEN_S + i * 0.001)
    # breaks: a Poisson stream of (agent, duration) from its own RNG, each break
    # scheduling the next, so the stream is the same whatever the engine does
    break_rng = random.Random(seed * 15485863 + 3)
    rate = len(pop.agents) / BREAK_EVERY_S

    def next_break(s: Simulator) -> None:
        a = break_rng.choice(pop.agents)
        s.not_ready(a.id, s.now, back_after_s=break_rng.expovariate(1 / BREAK_MEAN_S))
        s.call_at(s.now + break_rng.expovariate(rate), next_break)

    sim.call_at(break_rng.uniform(0.0, WARMUP_S), next_break)

    wall0 = time.perf_counter()
    sim.run(until=WARMUP_S)
    warmup_wall_s = time.perf_counter() - wall0
    warm_events = sim.events
    sim.events = sim.decisions = sim.engine_ns = 0
    sim.record_latency = True
    samples: list[int] = []

    def probe(s: Simulator) -> None:
        samples.append(s.queued)
        s.call_at(s.now + 10.0, probe)

    sim.call_at(sim.now, probe)
    gc.collect()
    deadline_ns = (None if deadline_s is None
                   else time.perf_counter_ns() + int(deadline_s * 1e9))
    offers_before = sum(r.offers for r in sim.contacts.values())
    # the break and probe chains never end: the event budget (or deadline) stops the run
    sim.run(max_events=measure_events, deadline_ns=deadline_ns)
    offers = sum(r.offers for r in sim.contacts.values()) - offers_before
    lat = sorted(sim.latencies_ns)
    per_event = (sim.latencies_ns, sim.decision_counts)
    secs = sim.engine_ns / 1e9 if sim.engine_ns else float("nan")
    return {
        "events": sim.events,
        "decisions": sim.decisions,
        "offers": offers,
        "engine_s": secs,
        "decisions_per_s": sim.decisions / secs,
        "events_per_s": sim.events / secs,
        "offers_per_s": offers / secs,
        "p50_us": percentile(lat, 50) / 1000,
        "p99_us": percentile(lat, 99) / 1000,
        "p999_us": percentile(lat, 99.9) / 1000,
        "max_us": (lat[-1] / 1000) if lat else 0.0,
        "mean_waiting": sum(samples) / len(samples) if samples else float(sim.queued),
        "sim_seconds": sim.now - WARMUP_S,
        "warmup_events": warm_events,
        "warmup_wall_s": warmup_wall_s,
        "per_event": per_event,
    }


def load_engine() -> Callable[[], RoutingEngine]:
    """The real engine class; the benchmark is meaningless without it."""
    try:
        from ..engine import Engine
    except ImportError as exc:  # pragma: no cover - depends on the tree
        raise SystemExit(f"ipcc bench: acd.engine.Engine is not available ({exc})") from exc
    return Engine


TARGET_DECISIONS_PER_S = 20_000.0
TARGET_P99_US = 1_000.0
TARGET_RATIO = 10.0
RATIO_TARGET_AGENTS = 5_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--skills", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=200,
                        help="contacts kept waiting (pre-filled, then replaced as they leave)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=60_000,
                        help="measured engine events (after warm-up)")
    parser.add_argument("--baseline-events", type=int, default=60_000,
                        help="cap on measured baseline events")
    parser.add_argument("--baseline-seconds", type=float, default=25.0,
                        help="cap on the baseline's measured wall time")


def run(args: argparse.Namespace) -> dict[str, Any]:
    pop = build_population(args.agents, args.queues, args.skills, args.seed)
    engine_cls = load_engine()
    gc.collect()
    main = drive(engine_cls(), pop, waiting=args.waiting, seed=args.seed,
                 measure_events=args.events)
    gc.collect()
    base = drive(NaiveEngine(), pop, waiting=args.waiting, seed=args.seed,
                 measure_events=args.baseline_events, deadline_s=args.baseline_seconds)
    # The same first n measured events went through both engines (same scenario, same
    # routing); compare the rates over exactly those events.
    n = base["events"]
    lat, counts = main["per_event"]
    prefix_rate = sum(counts[:n]) / (sum(lat[:n]) / 1e9)
    result: dict[str, Any] = {
        "decisions_per_s": main["decisions_per_s"],
        "p50_us": main["p50_us"],
        "p99_us": main["p99_us"],
        "p999_us": main["p999_us"],
        "baseline_decisions_per_s": base["decisions_per_s"],
        "ratio": prefix_rate / base["decisions_per_s"],
        "ratio_full_run": main["decisions_per_s"] / base["decisions_per_s"],
        "engine_decisions_per_s_same_events": prefix_rate,
        "events_per_s": main["events_per_s"],
        "baseline_events_per_s": base["events_per_s"],
        "events_ratio": (n / (sum(lat[:n]) / 1e9)) / base["events_per_s"],
        "offers_per_s": main["offers_per_s"],
        "baseline_offers_per_s": base["offers_per_s"],
        "baseline_p50_us": base["p50_us"],
        "baseline_p99_us": base["p99_us"],
        "agents": args.agents,
        "queues": args.queues,
        "skills": args.skills,
        "waiting": args.waiting,
        "seed": args.seed,
        "engine": {k: main[k] for k in ("events", "decisions", "offers", "engine_s", "max_us",
                                        "mean_waiting", "sim_seconds", "warmup_events")},
        "baseline": {k: base[k] for k in ("events", "decisions", "offers", "engine_s",
                                          "mean_waiting", "sim_seconds", "warmup_events",
                                          "warmup_wall_s")},
    }
    return result


def render(result: dict[str, Any]) -> str:
    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    e, b = result["engine"], result["baseline"]
    lines = [
        (f"ipcc bench routing: {result['agents']} agents, {result['queues']} queues, "
         f"{result['skills']} skills, {result['waiting']} waiting (seed {result['seed']})"),
        (f"  engine   : {result['decisions_per_s']:>12,.0f} decisions/s  "
         f"{result['events_per_s']:>10,.0f} events/s  {result['offers_per_s']:>9,.0f} offers/s"
         f"   ({e['events']:,} events, {e['decisions']:,} decisions, mean waiting "
         f"{e['mean_waiting']:.0f})"),
        (f"             latency per event p50 {result['p50_us']:.1f} us, p99 "
         f"{result['p99_us']:.1f} us, p99.9 {result['p999_us']:.1f} us, max {e['max_us']:.0f} us"),
        (f"  baseline : {result['baseline_decisions_per_s']:>12,.0f} decisions/s  "
         f"{result['baseline_events_per_s']:>10,.0f} events/s  "
         f"{result['baseline_offers_per_s']:>9,.0f} offers/s   ({b['events']:,} events, "
         f"mean waiting {b['mean_waiting']:.0f}; naive scan-everything engine)"),
        (f"             latency per event p50 {result['baseline_p50_us']:.1f} us, p99 "
         f"{result['baseline_p99_us']:.1f} us"),
        (f"  ratio    : {result['ratio']:.1f}x decisions/s over the same "
         f"{b['events']:,} events (engine {result['engine_decisions_per_s_same_events']:,.0f}"
         f" decisions/s on them); {result['ratio_full_run']:.1f}x against the engine's "
         "whole run"),
        "  decisions/s = Decision objects returned by handle() / seconds inside handle()",
        (f"  target >= {TARGET_DECISIONS_PER_S:,.0f} decisions/s: "
         f"{yes(result['decisions_per_s'] >= TARGET_DECISIONS_PER_S)}"),
        f"  target p99 < {TARGET_P99_US:,.0f} us: {yes(result['p99_us'] < TARGET_P99_US)}",
    ]
    ratio_line = f"  target ratio >= {TARGET_RATIO:.0f}x at {RATIO_TARGET_AGENTS:,} agents: "
    if result["agents"] >= RATIO_TARGET_AGENTS:
        lines.append(ratio_line + yes(result["ratio"] >= TARGET_RATIO))
    else:
        lines.append(ratio_line + f"not applicable at {result['agents']:,} agents "
                     f"(run --agents {RATIO_TARGET_AGENTS})")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    _parser = argparse.ArgumentParser(prog="ipcc bench routing")
    add_arguments(_parser)
    _parser.add_argument("--json", action="store_true")
    _args = _parser.parse_args()
    _result = run(_args)
    print(json.dumps(_result) if _args.json else render(_result))
    sys.exit(0)

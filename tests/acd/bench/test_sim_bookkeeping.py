"""The simulator's books on scenarios small enough to work out by hand."""

from __future__ import annotations

import pytest

from acd.bench.naive import NaiveEngine
from acd.events import (
    AgentUpdated,
    ContactUpdated,
    Decision,
    Event,
    Offer,
    StartTimer,
    TimerFired,
)
from acd.model import AgentConfig, Channel, Contact, Presence, QueueConfig
from acd.sim import ENDED, QUEUED, Simulator, percentile

T = "t"


def contact(cid: str, arrival: float, queue: str = "q", **kw: object) -> Contact:
    return Contact(id=cid, tenant=T, channel=kw.pop("channel", Channel.VOICE),  # type: ignore[arg-type]
                   queue=queue, arrival=arrival, **kw)  # type: ignore[arg-type]


class Recorder:
    """Wraps an engine and keeps every (now, event, decisions) it saw."""

    def __init__(self, engine: NaiveEngine) -> None:
        self.engine = engine
        self.log: list[tuple[float, Event, list[Decision]]] = []

    def configure_queue(self, q: QueueConfig) -> list[Decision]:
        return self.engine.configure_queue(q)

    def configure_agent(self, a: AgentConfig) -> list[Decision]:
        return self.engine.configure_agent(a)

    def handle(self, event: Event, now: float) -> list[Decision]:
        out = self.engine.handle(event, now)
        self.log.append((now, event, out))
        return out

    def events(self, kind: type) -> list[tuple[float, Event]]:
        return [(now, ev) for now, ev, _ in self.log if isinstance(ev, kind)]


def one_agent_sim(**sim_kw: object) -> tuple[Simulator, Recorder]:
    rec = Recorder(NaiveEngine())
    sim = Simulator(rec, **sim_kw)  # type: ignore[arg-type]
    sim.add_queue(QueueConfig(id="q", tenant=T, sl_threshold_s=20.0, site_widen_after_s=0.0))
    sim.add_agent(AgentConfig(id="a1", tenant=T, capacity={"voice": 1},
                              wrapup_s={"voice": 30.0}))
    sim.login("a1", 0.0)
    return sim, rec


def test_three_calls_one_agent_exact_books() -> None:
    sim, _ = one_agent_sim()
    for i in range(3):
        sim.add_contact(contact(f"c{i}", 1.0 + i), handle_s=100.0, answer_delay_s=2.0)
    sim.run()
    c0, c1, c2 = (sim.contacts[f"c{i}"] for i in range(3))
    # c0 rings at 1, answered at 3, talks 100 s, wrap-up 30 s -> agent free at 133
    assert (c0.first_offer_at, c0.answered_at, c0.completed_at, c0.ended_at) == (1, 3, 103, 133)
    assert (c1.first_offer_at, c1.answered_at, c1.ended_at) == (133, 135, 265)
    assert (c2.first_offer_at, c2.answered_at, c2.ended_at) == (265, 267, 397)
    assert all(c.outcome == "answered" and c.state == ENDED for c in (c0, c1, c2))
    r = sim.report(20.0)
    assert (r.measured, r.answered, r.answered_within, r.abandoned, r.unfinished) == (3, 3, 1, 0, 0)
    assert r.service_level_pct == pytest.approx(100.0 / 3)
    assert r.asa_s == pytest.approx((2 + 133 + 264) / 3)
    # busy from 1 to 397 (offer to end of the last wrap-up); logged in from 0 to 397
    assert r.occupancy_pct == pytest.approx(100.0 * 396 / 397)
    assert sim.agents["a1"].answered == 3


def test_ring_timer_is_cancelled_on_answer() -> None:
    sim, rec = one_agent_sim()
    sim.add_contact(contact("c0", 0.5), handle_s=10.0, answer_delay_s=5.0)
    sim.run()
    fired = [ev.key[0] for _, ev in rec.events(TimerFired)]  # type: ignore[attr-defined]
    assert fired == ["wrapup"]  # the ring timer (due at 20.5) was cancelled at 5.5


def test_abandon_while_queued_and_stale_patience_ignored() -> None:
    sim, rec = one_agent_sim()
    sim.add_contact(contact("busy", 1.0), handle_s=300.0)            # occupies a1
    sim.add_contact(contact("gone", 2.0), handle_s=50.0, patience_s=40.0)
    sim.add_contact(contact("kept", 3.0), handle_s=50.0, patience_s=1000.0)
    sim.run()
    gone, kept = sim.contacts["gone"], sim.contacts["kept"]
    assert gone.outcome == "abandoned" and gone.ended_at == 42.0 and gone.offers == 0
    assert kept.outcome == "answered" and kept.answered_at == 331.0   # 1 + 300 + 30
    # patience of an answered customer does not turn into an abandon event
    from acd.events import ContactAbandoned
    assert [ev.contact_id for _, ev in rec.events(ContactAbandoned)] == ["gone"]  # type: ignore[attr-defined]
    r = sim.report(20.0)
    assert (r.answered, r.abandoned) == (2, 1)
    assert r.abandon_pct == pytest.approx(100.0 / 3)


def test_abandon_while_ringing_voids_the_pending_answer() -> None:
    sim, rec = one_agent_sim()
    sim.add_contact(contact("c0", 1.0), handle_s=50.0, patience_s=3.0, answer_delay_s=10.0)
    sim.run()
    c0 = sim.contacts["c0"]
    assert c0.outcome == "abandoned" and c0.answered_at is None and c0.offers == 1
    from acd.events import OfferAccepted
    assert rec.events(OfferAccepted) == []
    assert not sim.agents["a1"].held
    # rang from 1 to 4: that is the agent's only occupied time
    assert sim.agents["a1"].busy_s == pytest.approx(3.0)


def test_warmup_window_excludes_contacts_and_clips_time() -> None:
    sim, _ = one_agent_sim(measure_from=100.0, measure_until=300.0)
    sim.add_contact(contact("early", 10.0), handle_s=100.0)     # busy 10..140
    sim.add_contact(contact("late", 200.0), handle_s=50.0)      # busy 200..280
    sim.run(until=1000.0)
    r = sim.report(20.0)
    assert r.measured == 1 and r.answered == 1 and r.asa_s == 0.0
    assert r.window == (100.0, 300.0)
    # busy inside [100, 300): 40 + 80; logged in: 200
    assert r.occupancy_pct == pytest.approx(100.0 * 120 / 200)
    # a run that stops earlier clips the window at its clock
    sim2, _ = one_agent_sim(measure_from=100.0, measure_until=300.0)
    sim2.add_contact(contact("late", 200.0), handle_s=50.0)
    sim2.run()
    assert sim2.now == 280.0 and sim2.report(20.0).window == (100.0, 280.0)


def test_breaks_keep_offers_away_and_end() -> None:
    sim, _ = one_agent_sim()
    sim.not_ready("a1", 5.0, back_after_s=60.0)
    sim.add_contact(contact("c0", 10.0), handle_s=10.0)
    sim.run()
    c0 = sim.contacts["c0"]
    assert c0.first_offer_at == 65.0                 # offered when a1 came back
    assert sim.agents["a1"].presence is Presence.READY


def test_break_skipped_when_agent_not_ready() -> None:
    """A flip for an agent that is not ready is not sent (it would be illegal)."""
    sim, rec = one_agent_sim()
    sim.logout("a1", 1.0)
    sim.not_ready("a1", 5.0, back_after_s=10.0)
    sim.run()
    from acd.events import AgentWentNotReady
    assert rec.events(AgentWentNotReady) == []
    assert sim.agents["a1"].presence is Presence.LOGGED_OUT
    assert sim.agents["a1"].logged_in_s == pytest.approx(1.0)


def test_stream_is_read_lazily_and_hook_sees_departures() -> None:
    seen: list[str] = []
    sim, _ = one_agent_sim(on_dequeued=lambda s, r: seen.append(r.contact.id))
    pulled: list[int] = []

    def stream():  # type: ignore[no-untyped-def]
        from acd.sim import ContactRecord
        for i in range(5):
            pulled.append(i)
            c = contact(f"s{i}", 50.0 * (i + 1))   # after the previous wrap-up
            yield c.arrival, ContactRecord(c, handle_s=1.0, patience_s=2.0)

    sim.add_stream(stream())
    assert pulled == [0]            # only the first arrival is in the heap
    sim.run(until=125.0)
    assert pulled == [0, 1, 2]
    sim.run()
    assert pulled == [0, 1, 2, 3, 4]
    assert seen == [f"s{i}" for i in range(5)]
    assert all(c.outcome == "answered" for c in sim.contacts.values())


def test_max_events_stops_and_resumes() -> None:
    sim, _ = one_agent_sim()
    for i in range(4):
        sim.add_contact(contact(f"c{i}", float(i)), handle_s=5.0)
    sim.run(max_events=3)
    assert sim.events == 3
    sim.run()
    assert all(c.state == ENDED for c in sim.contacts.values())
    assert sim.queued == 0


class ScriptedEngine:
    """A hand-written engine: proves the simulator applies decisions as documented,
    independently of any real engine's rules."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, object]] = []

    def configure_queue(self, q: QueueConfig) -> list[Decision]:
        return []

    def configure_agent(self, a: AgentConfig) -> list[Decision]:
        return []

    def handle(self, event: Event, now: float) -> list[Decision]:
        self.seen.append((now, event))
        name = type(event).__name__
        if name == "AgentLoggedIn":
            return [AgentUpdated("a", T, Presence.READY, at=now)]   # ready at login
        if name == "ContactArrived":
            return [ContactUpdated("c", T, "q", QUEUED, at=now),
                    StartTimer(("tick",), now + 5.0), StartTimer(("tick",), now + 7.0)]
        if name == "TimerFired":
            return [Offer("c", "a", "voice", None, 20.0),
                    ContactUpdated("c", T, "q", "offered", "a", at=now)]
        if name == "OfferAccepted":
            return []
        if name == "ContactCompleted":
            return [ContactUpdated("c", T, "q", ENDED, "a", outcome=None, at=now)]
        raise AssertionError(f"unexpected {event}")


def test_simulator_applies_decisions_of_any_engine() -> None:
    eng = ScriptedEngine()
    sim = Simulator(eng)  # type: ignore[arg-type]
    sim.add_queue(QueueConfig(id="q", tenant=T))
    sim.add_agent(AgentConfig(id="a", tenant=T))
    sim.login("a", 0.0)              # engine says ready: no AgentWentReady is sent
    sim.add_contact(contact("c", 1.0), handle_s=4.0, answer_delay_s=1.0)
    sim.run()
    names = [(now, type(ev).__name__) for now, ev in eng.seen]
    # the second StartTimer with the same key replaced the first: one tick, at 8
    assert names == [(0.0, "AgentLoggedIn"), (1.0, "ContactArrived"), (8.0, "TimerFired"),
                     (9.0, "OfferAccepted"), (13.0, "ContactCompleted")]
    c = sim.contacts["c"]
    assert (c.answered_at, c.ended_at) == (9.0, 13.0)


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 99.9) == 100
    assert percentile([7], 99.9) == 7
    assert percentile([], 50) == 0.0


class LoopingEngine(ScriptedEngine):
    """Re-arms its timer at the current time forever: a livelock the sim must report."""

    def handle(self, event: Event, now: float) -> list[Decision]:
        if type(event).__name__ in ("ContactArrived", "TimerFired"):
            return [StartTimer(("again",), now)]
        return super().handle(event, now)


def test_a_livelocked_engine_is_reported_not_hung() -> None:
    from acd.sim import SimulationStuck

    sim = Simulator(LoopingEngine())  # type: ignore[arg-type]
    sim.max_steps_at_one_time = 500
    sim.add_queue(QueueConfig(id="q", tenant=T))
    sim.add_contact(contact("c", 1.0), handle_s=1.0)
    with pytest.raises(SimulationStuck, match="virtual time 1.0"):
        sim.run()
    assert 500 <= sim.events <= 502

"""The routing benchmark compares like with like: the same scenario through both engines
gives the same offers, and run() reports the figures under the documented keys."""

from __future__ import annotations

import argparse

import pytest

from acd.bench import routing
from acd.bench.naive import NaiveEngine
from acd.events import Decision, Event, Offer
from acd.model import Channel

engine_mod = pytest.importorskip("acd.engine")


class OfferLog:
    def __init__(self, engine: object) -> None:
        self.engine = engine
        self.offers: list[tuple[float, str, str]] = []

    def configure_queue(self, q):  # type: ignore[no-untyped-def]
        return self.engine.configure_queue(q)  # type: ignore[attr-defined]

    def configure_agent(self, a):  # type: ignore[no-untyped-def]
        return self.engine.configure_agent(a)  # type: ignore[attr-defined]

    def handle(self, event: Event, now: float) -> list[Decision]:
        out = self.engine.handle(event, now)  # type: ignore[attr-defined]
        self.offers.extend((now, d.contact_id, d.agent_id) for d in out if isinstance(d, Offer))
        return out


def test_population_is_deterministic_and_staffed() -> None:
    a = routing.build_population(120, 8, 6, seed=4)
    b = routing.build_population(120, 8, 6, seed=4)
    assert a == b
    assert len(a.agents) == 120 and len(a.queues) == 8
    for q in a.queues:
        media = a.queue_channel[q.id].media
        eligible = [ag for ag in a.agents if ag.capacity.get(media, 0) > 0
                    and all(ag.skills.get(s, 0) >= lvl for s, lvl in q.skills.items())]
        assert len(eligible) >= 3
        assert 1 <= len(q.skills) <= 2
    assert {a.queue_channel[q.id] for q in a.queues} <= {Channel.VOICE, Channel.CHAT,
                                                          Channel.EMAIL, Channel.SMS}


def test_same_scenario_same_offers_in_both_engines() -> None:
    pop = routing.build_population(150, 8, 6, seed=2)
    logs = []
    for engine in (engine_mod.Engine(), NaiveEngine()):
        log = OfferLog(engine)
        res = routing.drive(log, pop, waiting=40, seed=2, measure_events=6000)  # type: ignore[arg-type]
        assert res["events"] == 6000 and res["offers"] > 500
        assert 20 <= res["mean_waiting"] <= 40
        logs.append(log.offers)
    assert len(logs[0]) > 1000
    assert logs[0] == logs[1]


def test_run_reports_the_documented_keys() -> None:
    parser = argparse.ArgumentParser()
    routing.add_arguments(parser)
    args = parser.parse_args(["--agents", "100", "--queues", "6", "--skills", "5",
                              "--waiting", "20", "--events", "3000",
                              "--baseline-events", "1500"])
    result = routing.run(args)
    for key in ("decisions_per_s", "p50_us", "p99_us", "p999_us",
                "baseline_decisions_per_s", "ratio"):
        assert isinstance(result[key], float) and result[key] > 0
    assert result["p50_us"] <= result["p99_us"] <= result["p999_us"]
    assert result["ratio"] == pytest.approx(
        result["engine_decisions_per_s_same_events"] / result["baseline_decisions_per_s"])
    assert result["ratio_full_run"] == pytest.approx(
        result["decisions_per_s"] / result["baseline_decisions_per_s"])
    assert result["engine"]["events"] == 3000 and result["baseline"]["events"] == 1500
    text = routing.render(result)
    assert "decisions/s" in text and "ratio" in text and "not applicable" in text

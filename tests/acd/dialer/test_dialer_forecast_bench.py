"""The forecast's observed distributions, the simulator's determinism and the benchmark's
output contract (on a tiny run; the figures themselves are the benchmark's business)."""

from __future__ import annotations

import argparse
import json

import pytest

from acd.bench import dialer as bench
from acd.dialer import events as ev
from acd.dialer.forecast import DurationStats, RingStats
from acd.dialer.model import Mode
from acd.dialer.pacer import Pacer
from acd.dialer.sim import SimProfile, Simulation

from .dialer_harness import Driver, campaign, lead, of


def test_answer_table_is_conditional_on_seconds_already_rung() -> None:
    ring = RingStats(maxlen=100, max_elapsed_s=21, horizon_s=20)
    for _ in range(3):
        ring.add(True, 7.5)           # persons answer in second 7
    for _ in range(2):
        ring.add(False, 3.0)          # busy
    for _ in range(5):
        ring.add(False, 20.0)         # no answer
    G = ring.table
    assert G[0][20] == pytest.approx(0.3)        # 3 of 10 answered by a person
    assert G[0][7] == 0.0 and G[0][8] == pytest.approx(0.3)
    assert G[4][20] == pytest.approx(3 / 8)      # the busy ones are out of the picture
    assert G[9][20] == 0.0                       # past every person's answer time
    assert ring.last_human_bin == 7


def test_ring_table_forgets_old_attempts() -> None:
    ring = RingStats(maxlen=10, max_elapsed_s=21, horizon_s=20, rebuild_every=1)
    for _ in range(10):
        ring.add(True, 6.0)
    assert ring.answer_probability() == 1.0
    for _ in range(10):
        ring.add(False, 3.0)
    assert ring.answer_probability() == 0.0


def test_duration_stats_conditional_probability() -> None:
    talk = DurationStats(maxlen=100)
    for v in (60.0, 120.0, 180.0, 240.0):
        talk.add(v)
    assert talk.mean() == 150.0
    assert talk.p_done_within(0.0, 60.0) == 0.25
    assert talk.p_done_within(100.0, 30.0) == pytest.approx(1 / 3)   # 120 of {120,180,240}
    assert talk.p_done_within(200.0, 100.0) == 1.0
    # Longer than every sample: a cautious tail, not certainty.
    assert 0.0 < talk.p_done_within(300.0, 10.0) < 0.5


def test_lead_removed_is_closed_or_closed_after_its_call() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(lead(1), lead(2))
    (dial,) = of(d.agents("a1"), ev.Dial)
    assert of(d.send(ev.LeadRemoved("L2")), ev.LeadClosed) == [ev.LeadClosed("L2", "removed", 0)]
    assert of(d.send(ev.LeadRemoved("L1")), ev.LeadClosed) == []          # in a call
    out = d.after(3).send(ev.CallBusy(dial.call_id))
    assert of(out, ev.LeadClosed) == [ev.LeadClosed("L1", "removed", 1)]
    assert of(out, ev.ScheduleRetry) == []


def test_simulation_is_reproducible_from_its_seed() -> None:
    profile = SimProfile(agents=8, hours=0.5)

    def once(seed: int) -> tuple:
        r = Simulation(Pacer(campaign(mode=Mode.PREDICTIVE)), profile, seed).run()
        return (r.dials, r.connected, r.abandoned, round(r.productive_s, 6))

    assert once(5) == once(5)
    assert once(5) != once(6)


def test_bench_reports_the_required_keys() -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--seeds", "1", "--hours", "0.25", "--agents", "10",
                              "--workers", "1"])
    result = bench.run(args)
    for key in ("predictive_abandon_pct_max", "predictive_productive_min_per_h",
                "progressive_productive_min_per_h", "baseline_abandon_pct_max",
                "baseline_productive_min_per_h"):
        assert isinstance(result[key], float), key
    for mode in ("predictive", "progressive", "baseline"):
        assert 0.0 < result["modes"][mode]["productive_min_per_h"] <= 60.0
    assert result["dnc_or_out_of_window_dials"] == 0
    json.dumps(result)
    text = bench.render(result)
    assert "predictive" in text and "baseline" in text and "targets met" in text

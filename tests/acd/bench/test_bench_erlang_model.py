"""Erlang C reference figures and a short simulation that lands near them."""

from __future__ import annotations

import argparse

import pytest

from acd.bench import erlang
from acd.bench.naive import NaiveEngine


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    erlang.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_erlang_c_reference_figures() -> None:
    ref = erlang.erlang_c(100, 30, 180, 14, 20)
    assert ref["erlangs"] == pytest.approx(10.0)
    assert ref["sl"] == pytest.approx(88.8, abs=0.05)
    assert ref["asa_s"] == pytest.approx(7.84, abs=0.005)
    assert ref["occupancy"] == pytest.approx(71.4, abs=0.05)
    with pytest.raises(ValueError):
        erlang.erlang_c(100, 30, 180, 10, 20)      # 10 agents for 10 erlangs


@pytest.mark.parametrize("engine_name", ["engine", "naive"])
def test_short_simulation_is_near_erlang_c(engine_name: str) -> None:
    """30,000 contacts: looser bounds than the benchmark's (statistical noise), fixed seed."""
    if engine_name == "engine":
        engine_mod = pytest.importorskip("acd.engine")
        engine = engine_mod.Engine()
    else:
        engine = NaiveEngine()
    a = args("--contacts", "30000", "--warmup", "500", "--seed", "3")
    out = erlang.simulate(a, engine)
    rep = out["report"]
    ref = erlang.erlang_c(100, 30, 180, 14, 20)
    assert rep.measured == 30000 - 500 - 1
    assert rep.answered == rep.measured and rep.abandoned == 0 and rep.unfinished == 0
    assert abs(rep.service_level_pct - ref["sl"]) < 3.0
    assert abs(rep.asa_s - ref["asa_s"]) < 0.35 * ref["asa_s"]
    assert abs(rep.occupancy_pct - ref["occupancy"]) < 2.0


def test_render_says_percentages_and_verdict() -> None:
    result = {
        "sl": 88.5, "sl_erlang": 88.84, "asa_s": 8.0, "asa_erlang_s": 7.84,
        "occupancy": 71.5, "occupancy_erlang": 71.43, "within_tolerance": True,
        "sl_ok": True, "asa_ok": True, "occupancy_ok": True, "contacts": 100000,
        "measured": 98000, "warmup": 2000, "seed": 1, "agents": 14, "erlangs": 10.0,
        "events": 300000, "engine_s": 5.0, "wall_s": 7.0,
    }
    text = erlang.render(result)
    assert "service level (%)" in text and "target met: yes" in text
    assert "NO" in erlang.render({**result, "within_tolerance": False, "asa_ok": False})

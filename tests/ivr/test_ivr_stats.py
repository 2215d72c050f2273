"""Visits, drop-offs and containment from session traces."""

from __future__ import annotations

import pytest

from ivr.events import Outcome
from ivr.stats import StatsBook, TreeStats

from .ivr_helpers import ACCOUNT, GOLD_ANI, UNKNOWN_ANI, call, demo_tree

TREE = demo_tree()


def run(script, ani=UNKNOWN_ANI, n=0):
    sim = call(TREE, ani=ani, session_id=f"s{n}")
    sim.start()
    for step in script:
        if step == "hangup":
            sim.hangup()
        else:
            sim.press(step)
    assert sim.session.ended
    return sim.session.trace()


def test_stats_from_real_sessions():
    traces = [
        run(["1", "3", ACCOUNT + "#", "9"], GOLD_ANI, 1),     # self-served
        run(["1", "3", ACCOUNT + "#", "hangup"], GOLD_ANI, 2),  # self-served (hung up)
        run(["1", "1"], n=3),                                 # queued to sales
        run(["1", "2", "hangup"], n=4),                       # abandoned in support menu
        run(["1", "hangup"], n=5),                            # abandoned in main menu
    ]
    stats = TreeStats("demo-main").extend(traces)
    d = stats.to_dict()
    assert d["sessions"] == 5
    assert d["outcomes"][Outcome.SELF_SERVED] == 2 and d["outcomes"][Outcome.QUEUED] == 1
    assert d["outcomes"][Outcome.ABANDONED] == 2
    assert d["containment_rate"] == pytest.approx(0.4)
    assert d["drop_offs"] == {"main_menu": 1, "support_menu": 1}
    assert d["visits"]["choose_language"] == 5 and d["visits"]["bill_say"] == 2
    assert d["visits"]["main_menu"] == 3 and d["visits"]["main_menu_internet"] == 2
    assert d["avg_seconds"] > 0


def test_stats_reject_foreign_or_unfinished_traces():
    stats = TreeStats("demo-main")
    with pytest.raises(ValueError, match="acme"):
        stats.add({"tree": "acme-main", "outcome": "queued"})
    with pytest.raises(ValueError, match="no final outcome"):
        stats.add({"tree": "demo-main", "outcome": None})
    assert stats.to_dict()["containment_rate"] == 0.0


def test_stats_book_per_tree():
    book = StatsBook()
    book.add({"tree": "a", "outcome": "self_served", "nodes": [{"node": "x"}]})
    book.add({"tree": "b", "outcome": "abandoned", "nodes": [{"node": "y"}], "last_node": "y"})
    assert book.trees() == ["a", "b"]
    assert book.get("a").containment_rate == 1.0 and book.get("b").drop_offs["y"] == 1
    assert book.get("zzz").sessions == 0

"""Each agent-selection strategy and its deterministic tie-break."""

from acd.events import ContactCompleted, OfferAccepted, WrapUpCompleted
from acd.model import Channel, Strategy

from .engine_harness import Harness, offers


def _finish(h: Harness, cid: str, aid: str) -> list:
    h.send(OfferAccepted(cid, aid))
    h.send(ContactCompleted(cid, aid))
    return h.send(WrapUpCompleted(cid, aid))


def test_longest_idle_picks_agent_free_longest():
    h = Harness()
    h.queue(strategy=Strategy.LONGEST_IDLE)
    h.now = 1
    h.agent("b")
    h.now = 2
    h.agent("a")
    h.now = 3
    h.agent("c")
    h.now = 10
    assert offers(h.arrive("c1")) == [("c1", "b")]
    _finish(h, "c1", "b")              # b is now the most recently idle
    assert offers(h.arrive("c2")) == [("c2", "a")]
    assert offers(h.arrive("c3")) == [("c3", "c")]
    assert offers(h.arrive("c4")) == [("c4", "b")]


def test_longest_idle_tie_broken_by_agent_id():
    h = Harness()
    h.queue(strategy=Strategy.LONGEST_IDLE)
    for aid in ("z", "m", "a"):
        h.agent(aid)                   # all idle since t=0
    assert offers(h.arrive("c1")) == [("c1", "a")]
    assert offers(h.arrive("c2")) == [("c2", "m")]


def test_most_skilled_uses_level_sum_over_required_skills():
    h = Harness()
    h.queue(strategy=Strategy.MOST_SKILLED, skills={"en": 2, "billing": 1})
    h.agent("a", {"en": 9, "billing": 1, "fr": 10})     # sum 10 (fr not required)
    h.agent("b", {"en": 6, "billing": 6})               # sum 12
    h.agent("c", {"en": 10})                            # lacks billing
    assert offers(h.arrive("c1")) == [("c1", "b")]
    assert offers(h.arrive("c2")) == [("c2", "a")]
    assert offers(h.arrive("c3")) == []


def test_most_skilled_tie_broken_by_idle_then_id():
    h = Harness()
    h.queue(strategy=Strategy.MOST_SKILLED, skills={"en": 1})
    h.now = 5
    h.agent("d", {"en": 7})
    h.agent("c", {"en": 7})
    h.now = 6
    h.agent("b", {"en": 7})
    assert offers(h.arrive("c1")) == [("c1", "c")]  # c,d idle since 5, c < d
    assert offers(h.arrive("c2")) == [("c2", "d")]
    assert offers(h.arrive("c3")) == [("c3", "b")]


def test_least_occupied_spreads_digital_work():
    h = Harness()
    h.queue(strategy=Strategy.LEAST_OCCUPIED)
    cap = {"voice": 0, "chat": 2, "email": 0, "sms": 0}
    h.agent("a", capacity=cap)
    h.agent("b", capacity=cap)
    got = []
    for i in range(4):
        got += offers(h.arrive(f"c{i}", channel=Channel.CHAT))
    # a, then b (a is 1/2 busy), then a, then b - never 2 on one while the other has 0
    assert [a for _c, a in got] == ["a", "b", "a", "b"]
    assert offers(h.arrive("c5", channel=Channel.CHAT)) == []   # both full


def test_least_occupied_counts_fraction_of_capacity():
    h = Harness()
    h.queue(strategy=Strategy.LEAST_OCCUPIED)
    h.agent("a", capacity={"voice": 0, "chat": 4, "email": 0, "sms": 0})
    h.agent("b", capacity={"voice": 0, "chat": 1, "email": 0, "sms": 0})
    h.arrive("c0", channel=Channel.CHAT)   # -> a (tie at 0 broken by id), a at 1/4
    assert offers(h.arrive("c1", channel=Channel.CHAT)) == [("c1", "b")]
    assert offers(h.arrive("c2", channel=Channel.CHAT)) == [("c2", "a")]


def test_round_robin_cycles_in_agent_id_order():
    h = Harness()
    h.queue(strategy=Strategy.ROUND_ROBIN)
    cap = {"voice": 0, "chat": 10, "email": 0, "sms": 0}
    for aid in ("c", "a", "b"):
        h.agent(aid, capacity=cap)
    got = []
    for i in range(7):
        got += offers(h.arrive(f"k{i}", channel=Channel.CHAT))
    assert [a for _c, a in got] == ["a", "b", "c", "a", "b", "c", "a"]


def test_round_robin_skips_busy_agents_and_wraps():
    h = Harness()
    h.queue(strategy=Strategy.ROUND_ROBIN)
    for aid in ("a", "b", "c"):
        h.agent(aid)
    assert offers(h.arrive("k1")) == [("k1", "a")]
    assert offers(h.arrive("k2")) == [("k2", "b")]
    _finish(h, "k1", "a")
    # pointer is after b: c next, then wrap to a
    assert offers(h.arrive("k3")) == [("k3", "c")]
    assert offers(h.arrive("k4")) == [("k4", "a")]

"""Upserting and removing queues and agents; index hygiene; stale timers."""

import pytest

from acd.events import ContactCancelled, EngineError, OfferAccepted, StartTimer, TimerFired
from acd.model import AgentConfig, Channel, QueueConfig, Relaxation, Strategy

from .engine_harness import Harness, of_type, offers


def test_agent_skill_change_reindexes_and_routes_waiting_contact():
    h = Harness()
    h.queue(skills={"es": 4})
    h.agent("a", {"en": 7})
    h.arrive("c1")
    assert offers(h.log) == []
    out = h.engine.configure_agent(AgentConfig(id="a", tenant="t", skills={"es": 4}), now=1)
    assert offers(out) == [("c1", "a")]
    # and the reverse: losing the skill removes it from the queue's agents
    h.send(OfferAccepted("c1", "a"))
    h.engine.configure_agent(AgentConfig(id="a", tenant="t", skills={"en": 7}), now=2)
    assert h.engine.queue_stats("q", 2)["agents"]["busy"] == 0


def test_queue_strategy_change_applies_to_next_offer():
    h = Harness()
    h.queue(strategy=Strategy.LONGEST_IDLE)
    h.agent("b", {"x": 9})
    h.now = 1
    h.agent("a", {"x": 1})
    h.engine.configure_queue(QueueConfig(id="q", tenant="t", strategy=Strategy.MOST_SKILLED,
                                         skills={"x": 1}), now=2)
    assert offers(h.arrive("c1")) == [("c1", "b")]
    h.engine.configure_queue(QueueConfig(id="q", tenant="t", strategy=Strategy.ROUND_ROBIN),
                             now=3)
    assert offers(h.arrive("c2")) == [("c2", "a")]


def test_remove_queue_when_empty_and_unknown_ids():
    h = Harness()
    h.queue("a")
    h.queue("b", relaxations=(Relaxation(after_s=5, add_queues=("a",)),))
    h.arrive("c1", queue="a")
    h.send(ContactCancelled("c1"))
    assert h.engine.remove_queue("a") == []
    assert h.engine.queue_ids() == ["b"]
    with pytest.raises(EngineError) as exc:
        h.engine.waiting("a")
    assert exc.value.error_id == "queue_not_found"
    with pytest.raises(EngineError) as exc:
        h.engine.remove_agent("ghost")
    assert exc.value.error_id == "agent_not_found"
    # queue b still works without the removed added queue
    h.agent("x")
    h.arrive("c2", queue="b")
    assert h.engine.contact_view("c2")["agent_id"] == "x"


def test_stale_wait_timer_is_ignored():
    h = Harness()
    h.queue(site_widen_after_s=10, max_wait_s=100)
    out = h.arrive("c1", site="s")
    first = of_type(out, StartTimer)[0]
    assert first.at == 10
    h.run_until(10)                      # fires, re-arms for max wait
    assert h.engine.handle(TimerFired(first.key), 11) == []
    assert h.engine.contact_view("c1")["state"] == "queued"


def test_custom_skill_pools_are_released_after_use():
    h = Harness()
    h.queue()
    h.agent("a", {"de": 5, "en": 5})
    before = len(h.engine._pools)
    for i in range(20):
        h.arrive(f"c{i}", channel=Channel.EMAIL, skills={"de": 1 + i % 5})
    for i in range(20):
        h.send(ContactCancelled(f"c{i}"))
    assert len(h.engine._pools) == before
    assert len(h.engine.explain("c3")["offers"]) <= 1

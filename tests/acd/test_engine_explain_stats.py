"""explain(), views and queue_stats figures."""

import pytest

from acd.engine import Engine
from acd.events import (
    ContactAbandoned,
    ContactArrived,
    ContactCancelled,
    EngineError,
    OfferAccepted,
    OfferRejected,
)
from acd.model import Channel, Contact, QueueConfig, Strategy
from acd.states import CONTACT, PRESENCE, advance, to_mermaid

from .engine_harness import Harness


def test_explain_contact_side_offer():
    h = Harness()
    h.queue(strategy=Strategy.MOST_SKILLED, skills={"en": 3, "tech": 2})
    h.agent("a", {"en": 5, "tech": 2}, site="paris")
    h.agent("b", {"en": 9, "tech": 8}, site="paris")
    h.agent("c", {"en": 3}, site="paris")
    h.now = 4
    h.arrive("c1", site="paris", priority=2)
    exp = h.engine.explain("c1")
    last = exp["last_offer"]
    assert exp["state"] == "offered" and exp["strategy"] == "most-skilled"
    assert last["agent_id"] == "b" and last["selection"] == "contact_side"
    assert last["trigger"] == "contact_arrived"
    assert last["score"]["level_sum"] == 17
    assert last["score"]["levels"] == {"en": 9, "tech": 8}
    assert last["requirement"] == {"en": 3, "tech": 2}
    assert last["site"] == {"contact": "paris", "agent": "paris", "match": True,
                            "same_site_required": True, "widen_at": 34.0}
    assert last["candidates"] == {"available": 2, "considered": 1, "pools": 1}
    assert last["effective_priority"] == 2 and last["result"] == "pending"
    h.send(OfferRejected("c1", "b"))
    exp = h.engine.explain("c1")
    assert [o["result"] for o in exp["offers"]] == ["rejected", "pending"]
    assert exp["last_offer"]["agent_id"] == "a"
    assert exp["last_offer"]["excluded_agents"] == ["b"]
    assert exp["last_offer"]["trigger"] == "requeued"


def test_explain_agent_side_and_waiting_contact():
    h = Harness()
    h.queue()
    h.arrive("c1")
    exp = h.engine.explain("c1")
    assert exp["last_offer"] is None and exp["waiting"]["requirement"] == {}
    h.now = 3
    h.agent("a")
    last = h.engine.explain("c1")["last_offer"]
    assert last["selection"] == "agent_side" and last["trigger"] == "agent_available"
    assert last["candidates"] == {"queues": 1, "contacts_considered": 1}
    assert last["score"] == {"held": 0, "idle_since": 3, "agent_id": "a"}
    assert last["waited_s"] == 3


def test_contact_and_agent_views():
    h = Harness()
    h.queue(priority=1, aging_per_min=6)
    h.agent("a", ready=False)
    h.arrive("c1", priority=2, value_tier="gold", site="x")
    v = h.engine.contact_view("c1", now=60)
    assert (v["state"], v["queue"], v["channel"], v["priority"], v["base_priority"]) == \
        ("queued", "q", "voice", 2, 3.0)
    assert v["effective_priority"] == pytest.approx(9.0)
    av = h.engine.agent_view("a")
    assert av["presence"] == "logged_out" and av["contacts"] == {}
    assert av["capacity"] == {"voice": 1, "chat": 3, "email": 2, "sms": 3}


def test_ended_contacts_kept_in_bounded_lru():
    e = Engine(ended_keep=3)
    e.configure_queue(QueueConfig(id="q", tenant="t"))
    for i in range(5):
        e.handle(ContactArrived(Contact(f"c{i}", "t", Channel.EMAIL, "q", 0.0)), 0)
        e.handle(ContactCancelled(f"c{i}"), 1)
    assert e.contact_view("c4")["outcome"] == "cancelled"
    assert e.explain("c2")["outcome"] == "cancelled"
    with pytest.raises(EngineError) as exc:
        e.contact_view("c1")
    assert exc.value.error_id == "contact_not_found"


def test_queue_stats_numbers():
    h = Harness()
    h.queue(sl_threshold_s=20, sl_target_pct=50)
    h.agent("a", ready=False)
    h.agent("b", ready=False)
    h.agent("z", {"other": 1}, ready=False)    # member: queue has no skill requirement
    for i in range(5):
        h.arrive(f"c{i}")
    h.send(ContactAbandoned("c0"), now=10)      # abandoned within threshold
    h.send(ContactAbandoned("c1"), now=30)      # abandoned after threshold
    h.agent("a")                                # t=30: takes c2
    h.send(OfferAccepted("c2", "a"), now=32)    # waited 32 -> outside SL
    st = h.engine.queue_stats("q", 40)
    assert st["waiting"] == 2 and st["longest_wait_s"] == 40
    assert (st["offered"], st["answered"], st["abandoned"]) == (1, 1, 2)
    assert st["abandoned_pct"] == pytest.approx(200 / 3)
    assert st["service_level_pct"] == 0.0       # 0 in SL / (1 answered + 1 late abandon)
    assert st["asa_s"] == 32 and st["sl_met"] is False
    assert st["agents"] == {"ready": 0, "not_ready": 0, "busy": 1, "wrap_up": 0,
                            "offered": 0, "logged_out": 2}


def test_queue_stats_service_level_in_threshold():
    h = Harness()
    h.queue(sl_threshold_s=20, ring_timeout_s=60)
    h.agent("a")
    h.agent("b")
    h.arrive("c1")
    h.arrive("c2")
    h.send(OfferAccepted("c1", "a"), now=5)
    h.send(OfferAccepted("c2", "b"), now=25)
    st = h.engine.queue_stats("q", 30)
    assert st["service_level_pct"] == 50.0 and st["asa_s"] == 15.0


def test_transition_tables_reject_missing_entries_and_draw():
    with pytest.raises(EngineError) as exc:
        advance(PRESENCE, next(iter(PRESENCE)), "ready", "a")
    assert exc.value.error_id == "illegal_transition"
    assert exc.value.details["machine"] == "presence"
    assert advance(CONTACT, next(iter(CONTACT)), "offer", "c").value == "offered"
    diagram = to_mermaid("contact")
    assert "queued --> offered: offer" in diagram and diagram.startswith("stateDiagram-v2")

"""Offer / accept / reject / ring-no-answer / abandon / wrap-up / logout, and misuse."""

import pytest

from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpdated,
    AgentWentNotReady,
    AgentWentReady,
    CancelTimer,
    ContactAbandoned,
    ContactCancelled,
    ContactCompleted,
    ContactUpdated,
    EngineError,
    OfferAccepted,
    OfferRejected,
    RetractOffer,
    StartTimer,
    TimerFired,
    WrapUpCompleted,
)
from acd.model import Channel, Outcome, Presence

from .engine_harness import Harness, contact_states, of_type, offers


def test_offer_reserves_capacity_and_starts_ring_timer():
    h = Harness()
    h.queue(ring_timeout_s=15)
    h.agent("a")
    out = h.arrive("c1")
    assert offers(out) == [("c1", "a")]
    ring = [d for d in of_type(out, StartTimer) if d.key[0] == "ring"]
    assert len(ring) == 1 and ring[0].at == 15
    assert contact_states(out, "c1") == ["queued", "offered"]
    assert h.engine.agent_view("a")["contacts"] == {"c1": {"channel": "voice", "state": "offered"}}
    assert offers(h.arrive("c2")) == []          # voice capacity 1 reserved by the offer
    assert h.engine.waiting("q") == ["c2"]


def test_accept_then_complete_then_wrapup_timer_frees_agent():
    h = Harness()
    h.queue(wrapup_s={"voice": 10})
    h.agent("a")
    h.arrive("c1")
    h.arrive("c2")
    out = h.send(OfferAccepted("c1", "a"), now=1)
    assert of_type(out, CancelTimer) and contact_states(out, "c1") == ["connected"]
    assert h.engine.agent_view("a")["contacts"]["c1"]["state"] == "busy"
    out = h.send(ContactCompleted("c1", "a"), now=50)
    assert contact_states(out, "c1") == ["wrap_up"]
    assert [d.at for d in of_type(out, StartTimer)] == [60]
    assert offers(h.run_until(59.9)) == []
    out = h.run_until(60)
    ended = [d for d in out if isinstance(d, ContactUpdated) and d.contact_id == "c1"]
    assert ended[-1].state == "ended" and ended[-1].outcome is Outcome.ANSWERED
    assert offers(out) == [("c2", "a")]


def test_wrapup_completed_early_ends_wrapup_and_cancels_timer():
    h = Harness()
    h.queue()
    h.agent("a", wrapup_s={"voice": 30})          # agent's own wrap-up (queue has none)
    h.arrive("c1")
    h.arrive("c2")
    h.send(OfferAccepted("c1", "a"), now=1)
    out = h.send(ContactCompleted("c1", "a"), now=5)
    assert [d.at for d in of_type(out, StartTimer)] == [35]
    out = h.send(WrapUpCompleted("c1", "a"), now=8)
    assert CancelTimer(("wrapup", "c1", "a")) in out
    assert offers(out) == [("c2", "a")]
    assert h.engine.contact_view("c1")["outcome"] == "answered"


def test_queue_wrapup_overrides_agent_and_zero_means_immediate():
    h = Harness()
    h.queue(wrapup_s={"voice": 0})
    h.agent("a", wrapup_s={"voice": 30})
    h.arrive("c1")
    h.arrive("c2")
    h.send(OfferAccepted("c1", "a"))
    out = h.send(ContactCompleted("c1", "a"))
    assert contact_states(out, "c1") == ["wrap_up", "ended"]
    assert offers(out) == [("c2", "a")]


def test_ring_no_answer_requeues_at_head_and_offers_other_agent():
    h = Harness()
    h.queue(ring_timeout_s=10, no_answer_threshold=1)
    h.agent("a")
    h.arrive("c1", arrival=0)
    h.now = 1
    h.arrive("c2", arrival=1)
    h.now = 2
    h.arrive("c3", arrival=2)
    assert h.engine.waiting("q") == ["c2", "c3"]
    h.now = 5
    h.agent("b")                                   # takes c2 (head)
    assert h.engine.contact_view("c2")["agent_id"] == "b"
    out = h.run_until(10)
    assert RetractOffer("c1", "a", "no_answer") in out
    # c1 goes back to its original place, ahead of c3
    assert h.engine.waiting("q") == ["c1", "c3"]
    view = h.engine.agent_view("a")
    assert view["presence"] == "not_ready" and view["reason"] == "no answer"
    upd = [d for d in out if isinstance(d, AgentUpdated) and d.agent_id == "a"]
    assert upd[-1].presence is Presence.NOT_READY
    # the next free agent gets c1 first
    out = h.send(OfferAccepted("c2", "b"))
    h.send(ContactCompleted("c2", "b"))
    out = h.send(WrapUpCompleted("c2", "b"))
    assert offers(out) == [("c1", "b")]


def test_no_answer_below_threshold_keeps_agent_ready_and_not_reoffered_at_once():
    h = Harness()
    h.queue(ring_timeout_s=10, no_answer_threshold=2)
    h.agent("a")
    h.arrive("c1")
    out = h.run_until(10)
    assert RetractOffer("c1", "a", "no_answer") in out
    assert offers(out) == []                     # a excluded for c1 for ring_timeout_s
    assert h.engine.agent_view("a")["presence"] == "ready"
    assert h.engine.agent_view("a")["missed_offers"] == 1
    out = h.run_until(20)                         # exclusion over: offered again
    assert offers(out) == [("c1", "a")]
    out = h.run_until(30)                         # second consecutive miss
    assert h.engine.agent_view("a")["presence"] == "not_ready"


def test_accept_resets_consecutive_no_answer_count():
    h = Harness()
    h.queue(ring_timeout_s=10, no_answer_threshold=2)
    h.agent("a")
    h.arrive("c1")
    h.run_until(10)
    h.arrive("c2")                                 # a is free, c2 not excluded
    assert h.engine.contact_view("c2")["agent_id"] == "a"
    h.send(OfferAccepted("c2", "a"))
    assert h.engine.agent_view("a")["missed_offers"] == 0


def test_reject_returns_contact_and_agent_stays_ready():
    h = Harness()
    h.queue(ring_timeout_s=20)
    h.agent("a")
    h.agent("b")
    h.arrive("c1")
    first = h.engine.contact_view("c1")["agent_id"]
    other = "b" if first == "a" else "a"
    out = h.send(OfferRejected("c1", first), now=3)
    assert CancelTimer(("ring", "c1", first, 1)) in out
    assert offers(out) == [("c1", other)]
    assert h.engine.agent_view(first)["presence"] == "ready"
    # rejected by both: waits; the first rejecter gets it again after ring_timeout_s
    out = h.send(OfferRejected("c1", other), now=4)
    assert offers(out) == []
    assert h.engine.waiting("q") == ["c1"]
    assert offers(h.run_until(23)) == [("c1", first)]


def test_rejecting_agent_gets_next_contact_instead():
    h = Harness()
    h.queue()
    h.agent("a")
    h.arrive("c1")
    h.arrive("c2")
    out = h.send(OfferRejected("c1", "a"))
    assert offers(out) == [("c2", "a")]
    assert h.engine.waiting("q") == ["c1"]


def test_abandon_while_queued():
    h = Harness()
    h.queue(max_wait_s=100)
    h.arrive("c1")
    out = h.send(ContactAbandoned("c1"), now=30)
    upd = of_type(out, ContactUpdated)[-1]
    assert upd.state == "ended" and upd.outcome is Outcome.ABANDONED
    assert any(isinstance(d, CancelTimer) and d.key[0] == "wait" for d in out)
    assert h.engine.waiting("q") == []
    assert h.engine.queue_stats("q", 30)["abandoned"] == 1


def test_abandon_while_ringing_retracts_and_frees_agent():
    h = Harness()
    h.queue()
    h.agent("a")
    h.arrive("c1")
    h.arrive("c2")
    out = h.send(ContactAbandoned("c1"), now=2)
    assert RetractOffer("c1", "a", "abandoned") in out
    assert CancelTimer(("ring", "c1", "a", 1)) in out
    assert h.engine.contact_view("c1")["outcome"] == "abandoned"
    assert offers(out) == [("c2", "a")]
    # the stale ring timer of c1 is ignored if the I/O layer fires it anyway
    assert h.engine.handle(TimerFired(("ring", "c1", "a", 1)), 20) == []


def test_hangup_while_connected_goes_to_wrapup():
    h = Harness()
    h.queue(wrapup_s={"voice": 5})
    h.agent("a")
    h.arrive("c1")
    h.send(OfferAccepted("c1", "a"))
    out = h.send(ContactAbandoned("c1"), now=9)
    assert contact_states(out, "c1") == ["wrap_up"]
    h.run_until(14)
    assert h.engine.contact_view("c1")["outcome"] == "answered"


def test_cancel_queued_and_offered():
    h = Harness()
    h.queue()
    h.agent("a")
    h.arrive("c1")
    h.arrive("c2")
    out = h.send(ContactCancelled("c2", "duplicate"))
    assert h.engine.contact_view("c2")["outcome"] == "cancelled"
    out = h.send(ContactCancelled("c1"))
    assert RetractOffer("c1", "a", "cancelled") in out
    assert h.engine.agent_view("a")["contacts"] == {}


def test_not_ready_gets_no_new_offers_but_keeps_current_work():
    h = Harness()
    h.queue()
    h.agent("a", capacity={"voice": 1, "chat": 3, "email": 0, "sms": 0}, voice_exclusive=False)
    h.arrive("c1", channel=Channel.CHAT)
    h.send(OfferAccepted("c1", "a"))
    out = h.send(AgentWentNotReady("a", "break"))
    assert h.engine.agent_view("a")["reason"] == "break"
    assert offers(h.arrive("c2", channel=Channel.CHAT)) == []
    assert h.engine.agent_view("a")["contacts"]["c1"]["state"] == "busy"
    out = h.send(AgentWentReady("a"))
    assert offers(out) == [("c2", "a")]


def test_logout_retracts_offers_and_keeps_busy_contacts():
    h = Harness()
    h.queue(wrapup_s={"voice": 0, "chat": 0})
    cap = {"voice": 0, "chat": 3, "email": 0, "sms": 0}
    h.agent("a", capacity=cap)
    h.arrive("c1", channel=Channel.CHAT)
    h.arrive("c2", channel=Channel.CHAT)
    h.send(OfferAccepted("c1", "a"))
    out = h.send(AgentLoggedOut("a"), now=3)
    assert RetractOffer("c2", "a", "logged_out") in out
    assert h.engine.waiting("q") == ["c2"]
    view = h.engine.agent_view("a")
    assert view["presence"] == "logged_out"
    assert view["contacts"] == {"c1": {"channel": "chat", "state": "busy"}}
    # the busy contact is completed normally after logout
    h.send(ContactCompleted("c1", "a"))
    assert h.engine.contact_view("c1")["outcome"] == "answered"
    assert h.engine.agent_view("a")["contacts"] == {}
    # a second agent picks up the requeued contact
    out = h.agent("b", capacity=cap)
    assert offers(out) == [("c2", "b")]


def test_login_binds_device_site_and_seat_for_the_session():
    h = Harness()
    h.queue()
    h.agent("a", ready=False, home_site="paris")
    assert h.engine.agent_view("a")["site"] == "paris"
    h.send(AgentLoggedIn("a", "webrtc", site="lyon", seat="L-12"), now=4)
    v = h.engine.agent_view("a")
    assert (v["device"], v["site"], v["seat"], v["presence"], v["since"]) == \
        ("webrtc", "lyon", "L-12", "not_ready", 4)
    h.send(AgentLoggedOut("a"))
    assert h.engine.agent_view("a")["site"] == "paris"


@pytest.mark.parametrize("make,error_id", [
    (lambda: AgentWentReady("nobody"), "agent_not_found"),
    (lambda: OfferAccepted("nothing", "a"), "contact_not_found"),
    (lambda: OfferAccepted("c1", "b"), "not_offered_to_agent"),
    (lambda: OfferAccepted("c2", "a"), "illegal_transition"),     # c2 is queued
    (lambda: ContactCompleted("c1", "a"), "illegal_transition"),   # still ringing
    (lambda: ContactCompleted("c1", "b"), "not_assigned_to_agent"),
    (lambda: WrapUpCompleted("c1", "a"), "illegal_transition"),
    (lambda: AgentWentReady("z"), "illegal_transition"),           # logged out
    (lambda: AgentWentNotReady("z"), "illegal_transition"),
    (lambda: AgentLoggedOut("z"), "illegal_transition"),
    (lambda: AgentLoggedIn("a", "sip:a"), "illegal_transition"),   # already logged in
    (lambda: TimerFired(("bogus",)), "unknown_timer"),
])
def test_misuse_raises_engine_error_with_stable_id(make, error_id):
    h = Harness()
    h.queue()
    h.agent("a")
    h.agent("b", ready=False)
    h.agent("z", ready=False)
    h.send(AgentLoggedIn("b", "sip:b"))
    h.arrive("c1")
    h.arrive("c2")
    before = (h.engine.contact_view("c1", now=0), h.engine.agent_view("a"))
    with pytest.raises(EngineError) as exc:
        h.engine.handle(make(), 1.0)
    assert exc.value.error_id == error_id
    assert (h.engine.contact_view("c1", now=0), h.engine.agent_view("a")) == before


def test_ended_contact_events_are_illegal_and_unknown_queue_is_an_error():
    h = Harness()
    h.queue()
    h.arrive("c1")
    h.send(ContactAbandoned("c1"))
    with pytest.raises(EngineError) as exc:
        h.send(ContactAbandoned("c1"))
    assert exc.value.error_id == "illegal_transition"
    with pytest.raises(EngineError) as exc:
        h.arrive("c9", queue="nope")
    assert exc.value.error_id == "queue_not_found"
    with pytest.raises(EngineError) as exc:
        h.arrive("c8", tenant="other")
    assert exc.value.error_id == "tenant_mismatch"
    h.arrive("c7")
    with pytest.raises(EngineError) as exc:
        h.arrive("c7")
    assert exc.value.error_id == "contact_exists"
    with pytest.raises(EngineError) as exc:
        h.engine.remove_queue("q")
    assert exc.value.error_id == "queue_not_empty"


def test_remove_agent_retracts_offer_and_refuses_while_busy():
    h = Harness()
    h.queue()
    h.agent("a")
    h.agent("b")
    h.arrive("c1")
    h.arrive("c2")
    h.send(OfferAccepted("c1", "a"))
    with pytest.raises(EngineError) as exc:
        h.engine.remove_agent("a")
    assert exc.value.error_id == "agent_busy"
    out = h.engine.remove_agent("b")
    assert RetractOffer("c2", "b", "agent_removed") in out
    assert h.engine.waiting("q") == ["c2"]
    with pytest.raises(EngineError):
        h.engine.agent_view("b")


def test_every_state_change_is_logged_once_at_debug(caplog):
    h = Harness()
    h.queue()
    h.agent("a")
    with caplog.at_level("DEBUG", logger="ipcc.acd"):
        h.arrive("c1")
        h.send(OfferAccepted("c1", "a"))
    msgs = [r.getMessage() for r in caplog.records if r.name == "ipcc.acd"]
    assert "contact c1: None -[arrive]-> queued" in msgs
    assert "contact c1: queued -[offer]-> offered" in msgs
    assert "contact c1: offered -[accept]-> connected" in msgs
    assert "activity a/c1: offered -[accept]-> busy" in msgs


def test_wrapup_extension_adds_to_what_is_left_and_is_refused_outside_wrapup():
    from acd.events import EngineError, WrapUpExtended

    h = Harness()
    h.queue()
    h.agent("a", wrapup_s={"voice": 30})
    h.arrive("c1")
    h.arrive("c2")
    h.send(OfferAccepted("c1", "a"), now=1)
    with pytest.raises(EngineError) as exc:
        h.send(WrapUpExtended("c1", "a", 30))      # connected, not in wrap-up yet
    assert exc.value.error_id == "illegal_transition"
    h.send(ContactCompleted("c1", "a"), now=5)     # wrap-up until 35
    out = h.send(WrapUpExtended("c1", "a", 30), now=20)
    assert [d.at for d in of_type(out, StartTimer)] == [65]
    assert h.engine.contact_view("c1")["wrapup_until"] == 65
    with pytest.raises(EngineError):
        h.send(WrapUpExtended("c1", "b", 30))      # not this agent's contact
    assert offers(h.run_until(64.9)) == []         # still wrapping up at the old deadline
    assert offers(h.run_until(65)) == [("c2", "a")]

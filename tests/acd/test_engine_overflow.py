"""Overflow to another queue / callback / voicemail, and max wait."""

import pytest

from acd.events import (
    ContactUpdated,
    EngineError,
    OfferAccepted,
    OverflowContact,
    StartTimer,
)
from acd.model import Outcome, Overflow, OverflowAction, QueueConfig

from .engine_harness import Harness, of_type, offers


def test_overflow_to_queue_keeps_arrival_and_place():
    h = Harness()
    h.queue("first", overflows=(Overflow(after_s=30, action=OverflowAction.QUEUE,
                                         target="second"),))
    h.queue("second", skills={"x": 1})
    h.now = 5
    h.arrive("local", queue="second")          # arrived at 5 in second
    h.now = 0
    h.arrive("moved", queue="first", arrival=0.0)
    out = h.run_until(30)
    upd = [d for d in of_type(out, ContactUpdated) if d.contact_id == "moved"][-1]
    assert (upd.queue, upd.state, upd.reason, upd.outcome) == ("second", "queued", "overflow", None)
    assert upd.details["from_queue"] == "first"
    assert not of_type(out, OverflowContact)    # it stays in the ACD
    assert h.engine.waiting("second") == ["moved", "local"]   # older arrival first
    v = h.engine.contact_view("moved")
    assert (v["arrival"], v["queued_at"]) == (0.0, 30)
    s1, s2 = h.engine.queue_stats("first", 30), h.engine.queue_stats("second", 30)
    assert (s1["overflowed_out"], s2["overflowed_in"]) == (1, 1)
    assert offers(h.agent("a", {"x": 1})) == [("moved", "a")]


@pytest.mark.parametrize("action,outcome", [
    (OverflowAction.CALLBACK, Outcome.CALLBACK),
    (OverflowAction.VOICEMAIL, Outcome.OVERFLOWED),
])
def test_overflow_out_of_the_acd(action, outcome):
    h = Harness()
    h.queue(overflows=(Overflow(after_s=45, action=action, target="box-1"),))
    out = h.arrive("c1")
    assert [d.at for d in of_type(out, StartTimer)] == [45]
    assert h.run_until(44.9) == []
    out = h.run_until(45)
    upd = of_type(out, ContactUpdated)[-1]
    assert upd.state == "ended" and upd.outcome is outcome
    assert of_type(out, OverflowContact) == [OverflowContact("c1", action.value, "box-1")]
    assert out.index(upd) < out.index(of_type(out, OverflowContact)[0])
    assert h.engine.contact_view("c1")["outcome"] == outcome.value


def test_max_wait_times_out_when_no_overflow():
    h = Harness()
    h.queue(max_wait_s=120)
    h.arrive("c1")
    out = h.run_until(120)
    upd = of_type(out, ContactUpdated)[-1]
    assert upd.outcome is Outcome.TIMED_OUT and upd.reason == "max_wait"
    assert h.engine.queue_stats("q", 120)["timed_out"] == 1


def test_max_wait_applies_pending_overflow_instead_of_timing_out():
    h = Harness()
    h.queue(max_wait_s=60, overflows=(Overflow(after_s=300, action=OverflowAction.VOICEMAIL),))
    h.arrive("c1")
    out = h.run_until(60)
    assert of_type(out, OverflowContact) == [OverflowContact("c1", "voicemail", None)]
    assert h.engine.contact_view("c1")["outcome"] == "overflowed"


def test_overflow_chain_queue_then_callback():
    h = Harness()
    h.queue("a", overflows=(Overflow(10, OverflowAction.QUEUE, "b"),))
    h.queue("b", overflows=(Overflow(20, OverflowAction.CALLBACK),))
    h.arrive("c1", queue="a")
    h.run_until(10)
    assert h.engine.waiting("b") == ["c1"]
    assert h.run_until(29.9) == []
    out = h.run_until(30)
    assert of_type(out, OverflowContact) == [OverflowContact("c1", "callback", None)]


def test_overflow_due_while_ringing_applies_when_offer_returns():
    h = Harness()
    h.queue(ring_timeout_s=20, overflows=(Overflow(10, OverflowAction.VOICEMAIL),))
    h.agent("a")
    h.arrive("c1")
    out = h.run_until(20)           # rings out at 20, overflow was due at 10
    assert of_type(out, OverflowContact) == [OverflowContact("c1", "voicemail", None)]


def test_overflow_not_applied_once_answered():
    h = Harness()
    h.queue(overflows=(Overflow(10, OverflowAction.VOICEMAIL),), max_wait_s=15)
    h.agent("a")
    h.arrive("c1")
    h.send(OfferAccepted("c1", "a"), now=2)
    assert of_type(h.run_until(100), OverflowContact) == []


def test_overflow_to_missing_queue_is_skipped_and_cycles_are_bounded():
    h = Harness()
    h.queue("a", overflows=(Overflow(5, OverflowAction.QUEUE, "ghost"),), max_wait_s=50)
    h.arrive("c1", queue="a")
    h.run_until(5)
    assert h.engine.waiting("a") == ["c1"]
    h.queue("x", overflows=(Overflow(0, OverflowAction.QUEUE, "y"),))
    h.queue("y", overflows=(Overflow(0, OverflowAction.QUEUE, "x"),))
    h.arrive("loop", queue="x")     # terminates thanks to the move bound
    assert h.engine.contact_view("loop")["state"] == "queued"


def test_overflow_to_itself_is_rejected_as_config_error():
    h = Harness()
    with pytest.raises(EngineError) as exc:
        h.engine.configure_queue(QueueConfig(id="q", tenant="t", overflows=(
            Overflow(5, OverflowAction.QUEUE, "q"),)))
    assert exc.value.error_id == "invalid_config"

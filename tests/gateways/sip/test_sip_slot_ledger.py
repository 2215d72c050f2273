"""Pool capacity books: placement, binding inbound legs, release, expiry, no overbooking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.sip.capacity import SlotLedger


def ledger(*workers: str, ttl: float = 30.0) -> SlotLedger:
    led = SlotLedger(4, ttl)
    for w in workers:
        led.add_worker(w)
    return led


def test_two_contacts_fill_a_worker_then_the_next_is_refused() -> None:
    led = ledger("w1")
    assert led.reserve(2, 0.0) is not None
    assert led.reserve(2, 0.0) is not None
    assert led.free("w1") == 0
    assert led.reserve(2, 0.0) is None
    assert led.reserve(1, 0.0) is None


def test_placement_spreads_to_the_emptiest_worker() -> None:
    led = ledger("w1", "w2")
    a = led.reserve(2, 0.0)
    b = led.reserve(2, 0.0)
    assert {a.worker_id, b.worker_id} == {"w1", "w2"}
    assert led.reserve(2, 0.0, prefer="w2").worker_id == "w2"


def test_inbound_legs_bind_fifo_and_are_not_counted_twice() -> None:
    led = ledger("w1")
    r1 = led.reserve(2, 0.0)
    r2 = led.reserve(2, 0.0)
    assert led.leg_added("w1", "L1", inbound=True) == r1.id
    assert led.leg_added("w1", "L2", reservation_id=r1.id) == r1.id
    assert led.leg_added("w1", "L3", inbound=True) == r2.id
    assert led.used("w1") == 4
    # the contact's caller leg ends: its agent leg still holds the booking
    assert led.leg_removed("L1") is None
    assert led.used("w1") == 4
    released = led.leg_removed("L2")
    assert released is not None and released.id == r1.id
    assert led.free("w1") == 2


def test_unused_reservation_expires_used_one_does_not() -> None:
    led = ledger("w1", ttl=10)
    r1 = led.reserve(2, 0.0)
    r2 = led.reserve(2, 0.0)
    led.leg_added("w1", "L1", inbound=True)
    assert [b.id for b in led.expire(9.9)] == []
    assert [b.id for b in led.expire(10.0)] == [r2.id]
    assert led.get(r1.id) is not None


def test_released_reservation_keeps_its_live_legs_counted() -> None:
    led = ledger("w1")
    r = led.reserve(2, 0.0)
    led.leg_added("w1", "L1", inbound=True)
    led.release(r.id)
    assert led.used("w1") == 1
    assert led.legs_of("w1") == ["L1"]


def test_draining_worker_gets_no_bookings_and_worker_report_is_a_floor() -> None:
    led = ledger("w1", "w2")
    led.set_accepting("w1", False)
    assert led.reserve(2, 0.0).worker_id == "w2"
    led.report_load("w2", 4)
    assert led.reserve(1, 0.0) is None


def test_removing_a_worker_returns_its_legs_and_bookings() -> None:
    led = ledger("w1")
    r = led.reserve(2, 0.0)
    led.leg_added("w1", "L1", inbound=True)
    led.leg_added("w1", "X9")
    assert led.remove_worker("w1") == (["L1", "X9"], [r.id])
    assert led.worker_of("L1") is None


def test_bind_moves_an_unbound_leg() -> None:
    led = ledger("w1", "w2")
    r = led.reserve(2, 0.0, prefer="w1")
    led.leg_added("w1", "L1")
    assert led.bind("L1", r.id)
    assert not led.bind("L1", r.id)
    led.leg_added("w2", "L2")
    assert not led.bind("L2", r.id)       # another worker's leg cannot join


actions = st.lists(st.tuples(st.sampled_from(["reserve", "in", "out", "end", "release",
                                              "expire", "report"]),
                             st.integers(1, 4), st.integers(0, 30)), max_size=40)


@given(actions)
@settings(max_examples=300, deadline=None)
def test_bookings_never_exceed_capacity(seq: list) -> None:
    led = ledger("w1", "w2", ttl=5)
    legs: list[str] = []
    res: list[str] = []
    now = 0.0
    for i, (act, k, t) in enumerate(seq):
        now += t / 10
        if act == "reserve":
            b = led.reserve(k, now)
            if b is not None:
                res.append(b.id)
        elif act == "in" and res:
            b = led.get(res[k % len(res)])
            if b is not None and len(b.legs) < b.slots:
                assert led.leg_added(b.worker_id, f"L{i}", inbound=True) is not None
                legs.append(f"L{i}")
        elif act == "out" and res:
            b = led.get(res[k % len(res)])
            if b is not None and len(b.legs) < b.slots:
                led.leg_added(b.worker_id, f"L{i}", reservation_id=b.id)
                legs.append(f"L{i}")
        elif act == "end" and legs:
            led.leg_removed(legs.pop(k % len(legs)))
        elif act == "release" and res:
            led.release(res[k % len(res)])
        elif act == "expire":
            led.expire(now)
        elif act == "report":
            led.report_load("w1", len(led.legs_of("w1")))
        for w in ("w1", "w2"):
            assert led.used(w) <= 4
            assert led.free(w) + led.used(w) == 4

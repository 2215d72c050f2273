"""Digit collection for one leg on a fake clock: max digits, terminator, timeouts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.sip.dtmf import DtmfResult, LegDigits


def test_collects_up_to_max_digits() -> None:
    d = LegDigits()
    assert d.start("c1", 0.0, max_digits=3, timeout=5) is None
    assert d.digit("1", 1.0) is None
    assert d.digit("2", 2.0) is None
    assert d.digit("3", 3.0) == DtmfResult("c1", "123", "max_digits")
    assert d.collecting is None


def test_terminator_ends_and_is_not_included() -> None:
    d = LegDigits()
    d.start("c1", 0.0, max_digits=10, timeout=5, terminators="#*")
    d.digit("4", 0.5)
    assert d.digit("*", 0.6) == DtmfResult("c1", "4", "terminator")


def test_first_digit_timeout_then_inter_digit_timeout() -> None:
    d = LegDigits()
    d.start("c1", 10.0, max_digits=4, timeout=5, inter_digit_timeout=2)
    assert d.poll(14.9) is None
    d.digit("7", 14.9)
    assert d.deadline == pytest.approx(16.9)
    assert d.poll(16.8) is None
    assert d.poll(16.9) == DtmfResult("c1", "7", "timeout")


def test_type_ahead_digits_satisfy_a_later_collection_unless_flushed() -> None:
    d = LegDigits()
    for x in "12#":
        d.digit(x, 0.0)
    assert d.buffered == "12#"
    assert d.start("c1", 1.0, max_digits=5, timeout=3) == DtmfResult("c1", "12", "terminator")
    d.digit("9", 2.0)
    assert d.start("c2", 3.0, max_digits=1, timeout=3, flush=True) is None
    assert d.digit("5", 3.5) == DtmfResult("c2", "5", "max_digits")


def test_one_collection_at_a_time_and_cancel() -> None:
    d = LegDigits()
    d.start("c1", 0.0, max_digits=2, timeout=3)
    with pytest.raises(RuntimeError):
        d.start("c2", 0.0, max_digits=2, timeout=3)
    d.digit("3", 0.1)
    assert d.cancel("hangup") == DtmfResult("c1", "3", "hangup")
    assert d.cancel() is None


@pytest.mark.parametrize("kw", [{"max_digits": 0, "timeout": 1}, {"max_digits": 1, "timeout": 0},
                                {"max_digits": 1, "timeout": 1, "terminators": "x"},
                                {"max_digits": 1, "timeout": 1, "inter_digit_timeout": -1}])
def test_bad_parameters(kw: dict) -> None:
    with pytest.raises(ValueError):
        LegDigits().start("c", 0.0, **kw)


def test_invalid_digits_are_ignored() -> None:
    d = LegDigits()
    d.start("c1", 0.0, max_digits=1, timeout=3)
    assert d.digit("x", 0.1) is None
    assert d.collecting == "c1"


@given(st.lists(st.sampled_from("0123456789*#"), max_size=30), st.integers(1, 8))
@settings(max_examples=200, deadline=None)
def test_result_never_exceeds_max_and_never_holds_terminator(digits: list[str], mx: int) -> None:
    d = LegDigits()
    d.start("c", 0.0, max_digits=mx, timeout=5)
    for i, x in enumerate(digits):
        r = d.digit(x, i * 0.1)
        if r is not None:
            assert len(r.digits) <= mx and "#" not in r.digits
            break

"""Luhn and mod-11 account validation, and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.checkdigit import (
    check,
    luhn_check_digit,
    luhn_valid,
    mask,
    mod11_check_digit,
    mod11_valid,
)


@pytest.mark.parametrize("number,ok", [
    ("79927398713", True), ("79927398710", False), ("4539578763621486", True),
    ("4539578763621487", False), ("0", False), ("12a4", False), ("", False),
])
def test_luhn_known_values(number, ok):
    assert luhn_valid(number) is ok


@given(st.text(alphabet="0123456789", min_size=1, max_size=18))
def test_luhn_check_digit_validates_and_catches_single_digit_errors(payload):
    number = payload + luhn_check_digit(payload)
    assert luhn_valid(number)
    i = len(number) // 2
    wrong = str((int(number[i]) + 1) % 10)
    assert not luhn_valid(number[:i] + wrong + number[i + 1:])


@given(st.text(alphabet="0123456789", min_size=1, max_size=18))
def test_mod11_check_digit_and_transpositions(payload):
    digit = mod11_check_digit(payload)
    if digit is None:           # would need a "10": such numbers are never issued
        assert not any(mod11_valid(payload + d) for d in "0123456789")
        return
    number = payload + digit
    assert mod11_valid(number)
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            assert not mod11_valid(swapped)


def test_mod11_known_value():
    # weights 2..7 from the right: 4*2 + 3*3 + 2*4 + 1*5 = 30; (11 - 30 % 11) % 11 = 3
    assert mod11_check_digit("1234") == "3"
    assert mod11_valid("12343") and not mod11_valid("12344")


def test_named_validators():
    assert check("luhn", "79927398713") and not check("luhn", "79927398710")
    assert check("none", "42")
    with pytest.raises(ValueError):
        check("crc", "1")


@pytest.mark.parametrize("value,how,shown", [
    ("79927398713", "last4", "*******8713"), ("12345", "last4", "*2345"),
    ("1234", "last4", "**34"), ("79927398713", "all", "***********"),
    ("42", "none", "42"),
])
def test_mask(value, how, shown):
    assert mask(value, how) == shown

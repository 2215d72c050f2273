"""Phone normalization (the ANI key) and money conversions."""

from __future__ import annotations

import pytest

from crm_bridge.money import from_minor, to_minor
from crm_bridge.phones import normalize_phone


@pytest.mark.parametrize("raw", [
    "+12125550101", "+1 212 555 0101", "+1 (212) 555-0101", "12125550101", "2125550101",
    "212.555.0101", "0012125550101", "sip:+12125550101@trunk.example;user=phone",
    "tel:+1-212-555-0101", "SIP:2125550101@10.0.0.1",
])
def test_spellings_of_one_number_normalize_alike(raw: str) -> None:
    assert normalize_phone(raw) == "+12125550101"


@pytest.mark.parametrize("raw,expected", [
    ("1001", "1001"),                    # an extension stays an extension
    ("sip:1001@pbx", "1001"),
    ("+39 02 555 0201", "+39025550201"),
    ("0049 30 555 0202", "+49305550202"),
    ("", ""), (None, ""), ("anonymous", ""), ("sip:anonymous@host", ""), ("+", ""),
])
def test_other_numbers(raw: str | None, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_other_default_country() -> None:
    assert normalize_phone("0612345678", default_country="33", national_length=10) \
        == "+330612345678"


@pytest.mark.parametrize("amount,minor", [
    ("123.45", 12345), ("80", 8000), (80.1, 8010), ("0.005", 1), ("-5", -500),
])
def test_to_minor(amount: object, minor: int) -> None:
    assert to_minor(amount, "usd") == minor


def test_from_minor_keeps_two_decimals() -> None:
    assert from_minor(12345, "USD") == "123.45"
    assert from_minor(8000, "EUR") == "80.00"
    assert from_minor(0, "USD") == "0.00"
    assert from_minor(-500, "USD") == "-5.00"


def test_money_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        to_minor("12,x", "USD")
    with pytest.raises(ValueError):
        to_minor("1", "XYZ")

"""Money as the CRM stores it (integer minor units) and as it shows it (decimal strings).

Integer cents are exact on every backend and add up without rounding; the IVR's speech
module and the REST API take decimal strings ("123.45"), which keep trailing zeros and
never turn into binary floats on the way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: Minor units per major unit; every currency the IVR can speak has two decimals.
MINOR_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "CNY": 2}


def _digits(currency: str) -> int:
    code = currency.upper()
    if code not in MINOR_DIGITS:
        raise ValueError(f"unsupported currency {currency!r} (have {', '.join(MINOR_DIGITS)})")
    return MINOR_DIGITS[code]


def to_minor(amount: Any, currency: str) -> int:
    """``"123.45"`` / ``123.45`` / ``Decimal`` -> ``12345`` (half-up at the minor unit)."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    scale = Decimal(10) ** _digits(currency)
    return int((value * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> str:
    """``12345`` -> ``"123.45"``; ``-500`` -> ``"-5.00"`` (a credit balance)."""
    digits = _digits(currency)
    value = Decimal(int(minor)).scaleb(-digits)
    return f"{value:.{digits}f}"

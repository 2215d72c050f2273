"""Check digits for account numbers typed on a keypad.

Two schemes, chosen per ``collect`` node with ``validator:``:

``luhn``  (ISO/IEC 7812-1; the demo's account numbers): from the rightmost digit
          (the check digit) leftwards, double every second digit, subtract 9 from
          results above 9, sum everything; valid when the sum is a multiple of 10.
          Catches every single-digit error and most adjacent transpositions.

``mod11`` (weights 2, 3, 4, 5, 6, 7 repeating from the right, as used by many
          billing systems): the weighted sum of the payload digits plus the check
          digit must be 0 mod 11, where a check value of 10 cannot be typed and is
          therefore never issued (such payloads are skipped when numbers are minted).
          Catches every single-digit error and every adjacent transposition.
"""

from __future__ import annotations

VALIDATORS = ("luhn", "mod11", "none")


def luhn_valid(number: str) -> bool:
    if len(number) < 2 or not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit to append to ``payload`` so that the result passes ``luhn_valid``."""
    for d in "0123456789":
        if luhn_valid(payload + d):
            return d
    raise ValueError(f"no Luhn check digit for {payload!r}")  # unreachable for digits


def _mod11_check_value(payload: str) -> int:
    weights = (2, 3, 4, 5, 6, 7)
    total = sum(int(ch) * weights[i % 6] for i, ch in enumerate(reversed(payload)))
    return (11 - total % 11) % 11


def mod11_check_digit(payload: str) -> str | None:
    """Check digit for ``payload``, or None when the scheme would need a "10"."""
    if not payload.isdigit():
        raise ValueError(f"not digits: {payload!r}")
    value = _mod11_check_value(payload)
    return None if value == 10 else str(value)


def mod11_valid(number: str) -> bool:
    if len(number) < 2 or not number.isdigit():
        return False
    return mod11_check_digit(number[:-1]) == number[-1]


def check(validator: str, number: str) -> bool:
    """Apply a named validator (``none`` accepts any digit string)."""
    if validator == "luhn":
        return luhn_valid(number)
    if validator == "mod11":
        return mod11_valid(number)
    if validator == "none":
        return number.isdigit() or number == ""
    raise ValueError(f"unknown validator {validator!r}")


def mask(value: str, how: str) -> str:
    """Mask a collected value for traces: ``last4`` keeps the last four characters."""
    if how == "none":
        return value
    if how == "all":
        return "*" * len(value)
    if how == "last4":
        keep = 4 if len(value) > 4 else max(len(value) - 2, 0)
        return "*" * (len(value) - keep) + value[len(value) - keep:]
    raise ValueError(f"unknown mask {how!r}")

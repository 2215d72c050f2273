"""Conditions of ``branch`` nodes: on variables and on calendars.

A condition is YAML data, not a string expression, so the validator can check it and
the SVG can print it::

    {var: customer.segment, eq: business}
    {var: customer.services, contains: internet}
    {var: customer.value_tier, in: [gold, platinum]}
    {var: bill.balance, gt: 100}
    {var: customer, exists: true}
    {open: office}            # within the calendar's hours and not a holiday
    {holiday: office}         # today (in the calendar's zone) is a holiday
    {in_hours: office}        # within the hours, holiday or not
    {all: [...]}, {any: [...]}, {not: {...}}

Variables include ``tenant``, ``language``, ``ANI``, ``DNIS`` and everything lookups and
collect nodes stored. A comparison with a missing variable is false (``ne`` and
``not_in`` included), so an unknown caller falls through to the default branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .calendar import Calendar
from .template import MISSING, lookup

COMPARE_OPS = ("eq", "ne", "in", "not_in", "contains", "gt", "ge", "lt", "le", "exists")
CALENDAR_OPS = ("open", "holiday", "in_hours")


@dataclass(frozen=True)
class Compare:
    var: str
    op: str
    value: Any


@dataclass(frozen=True)
class CalendarTest:
    op: str          # open | holiday | in_hours
    calendar: str


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | CalendarTest | AllOf | AnyOf | Not


def parse_condition(raw: Any, calendars: Mapping[str, Any]) -> Condition:
    """Build a condition; raises ``ValueError`` with a message naming the problem."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"condition must be a mapping, got {raw!r}")
    keys = set(raw)
    if keys & {"all", "any"}:
        if len(keys) != 1:
            raise ValueError(f"'all'/'any' must stand alone, got keys {sorted(keys)}")
        key = next(iter(keys))
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise ValueError(f"'{key}' needs a non-empty list of conditions")
        parsed = tuple(parse_condition(i, calendars) for i in items)
        return AllOf(parsed) if key == "all" else AnyOf(parsed)
    if "not" in keys:
        if len(keys) != 1:
            raise ValueError("'not' must stand alone")
        return Not(parse_condition(raw["not"], calendars))
    cal_keys = keys & set(CALENDAR_OPS)
    if cal_keys:
        if len(keys) != 1:
            raise ValueError(f"calendar test must stand alone, got keys {sorted(keys)}")
        op = next(iter(cal_keys))
        name = str(raw[op])
        if name not in calendars:
            raise ValueError(f"unknown calendar '{name}'"
                             + (f" (have {', '.join(sorted(calendars))})" if calendars
                                else " (the tree declares no calendars)"))
        return CalendarTest(op, name)
    if "var" not in keys:
        raise ValueError(f"condition needs 'var' or one of all/any/not/{'/'.join(CALENDAR_OPS)}, "
                         f"got keys {sorted(keys)}")
    ops = keys - {"var"}
    if len(ops) != 1:
        raise ValueError(f"condition on '{raw['var']}' needs exactly one operator of "
                         f"{', '.join(COMPARE_OPS)}")
    op = next(iter(ops))
    if op not in COMPARE_OPS:
        raise ValueError(f"unknown operator '{op}' (use {', '.join(COMPARE_OPS)})")
    value = raw[op]
    if op in ("in", "not_in") and not isinstance(value, list):
        raise ValueError(f"'{op}' needs a list")
    if op == "exists" and not isinstance(value, bool):
        raise ValueError("'exists' needs true or false")
    return Compare(str(raw["var"]), op, value)


def _num(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    return str(a) == str(b) if isinstance(a, str) or isinstance(b, str) else False


def evaluate(cond: Condition, variables: Mapping[str, Any],
             calendars: Mapping[str, Calendar], now: float) -> bool:
    if isinstance(cond, AllOf):
        return all(evaluate(c, variables, calendars, now) for c in cond.items)
    if isinstance(cond, AnyOf):
        return any(evaluate(c, variables, calendars, now) for c in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, variables, calendars, now)
    if isinstance(cond, CalendarTest):
        cal = calendars[cond.calendar]
        if cond.op == "open":
            return cal.is_open(now)
        if cond.op == "holiday":
            return cal.is_holiday(now)
        return cal.in_hours(now)
    value = lookup(variables, cond.var)
    if cond.op == "exists":
        return (value is not MISSING and value is not None) == bool(cond.value)
    if value is MISSING or value is None:
        return False
    if cond.op == "eq":
        return _same(value, cond.value)
    if cond.op == "ne":
        return not _same(value, cond.value)
    if cond.op == "in":
        return any(_same(value, v) for v in cond.value)
    if cond.op == "not_in":
        return not any(_same(value, v) for v in cond.value)
    if cond.op == "contains":
        if isinstance(value, str):
            return str(cond.value) in value
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(_same(v, cond.value) for v in value)
        if isinstance(value, Mapping):
            return cond.value in value
        return False
    a, b = _num(value), _num(cond.value)
    if a is None or b is None:
        return False
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[cond.op]


_SYMBOL = {"eq": "==", "ne": "!=", "in": "in", "not_in": "not in", "contains": "has",
           "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def describe(cond: Condition) -> str:
    """Short human text for diagrams: ``customer.segment == business``."""
    if isinstance(cond, AllOf):
        return " and ".join(_paren(describe(c)) for c in cond.items)
    if isinstance(cond, AnyOf):
        return " or ".join(_paren(describe(c)) for c in cond.items)
    if isinstance(cond, Not):
        return "not " + _paren(describe(cond.item))
    if isinstance(cond, CalendarTest):
        return {"open": "open", "holiday": "holiday", "in_hours": "in hours"}[cond.op] \
            + f"({cond.calendar})"
    if cond.op == "exists":
        return f"{cond.var} {'set' if cond.value else 'unset'}"
    value = cond.value
    shown = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
    return f"{cond.var} {_SYMBOL[cond.op]} {shown}"


def _paren(text: str) -> str:
    return f"({text})" if (" and " in text or " or " in text) else text


def calendars_used(cond: Condition) -> set[str]:
    if isinstance(cond, (AllOf, AnyOf)):
        return set().union(*(calendars_used(c) for c in cond.items))
    if isinstance(cond, Not):
        return calendars_used(cond.item)
    if isinstance(cond, CalendarTest):
        return {cond.calendar}
    return set()

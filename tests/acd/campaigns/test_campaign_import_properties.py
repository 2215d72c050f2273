"""Invariants of the import plan on generated files: every row is accounted for exactly
once, leads are unique valid E.164 numbers, and a rejected file accepts nothing."""

from __future__ import annotations

import csv
import io

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.campaigns.importer import plan_import, read_table
from acd.campaigns.repository import _csv_safe

VALID = ["+14155552671", "(212) 555-0142", "312-555-0177", "+44 20 7946 0958",
         "+886 2 2345 6789", "+1 800 555 0100"]
BAD = ["", "12", "abc", "+999 1234", "555"]
phone = st.one_of(st.sampled_from(VALID), st.sampled_from(BAD),
                  st.text(alphabet="0123456789 +-()", max_size=14))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(phone, st.sampled_from(["", "a", "b"])), max_size=25),
       dnc=st.sets(st.sampled_from(["+14155552671", "+12125550142"])),
       skip=st.booleans())
def test_every_row_is_accounted_for(rows, dnc, skip) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Phone", "Seg"])
    w.writerows(rows)
    table = read_table(buf.getvalue().encode(), "f.csv")
    plan = plan_import(table, {"phone": "Phone", "segment": "Seg"}, default_region="US",
                       default_tz="UTC", dnc=dnc, on_error="skip" if skip else "reject")
    nonblank = sum(1 for r in table[1:] if any(c.strip() for c in r))
    assert plan.rows == nonblank
    accounted = len(plan.leads) + len(plan.errors) + len(plan.dnc) + len(plan.duplicates)
    assert accounted == plan.rows
    phones = [lead.phone for lead in plan.leads]
    assert len(set(phones)) == len(phones)
    for p in phones:
        assert p.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(p))
        assert p not in dnc
    lines = [e["line"] for e in plan.errors]
    assert lines == sorted(lines) and all(2 <= n <= len(table) for n in lines)
    if plan.errors and not skip:
        assert plan.rejected and plan.report()["accepted"] == 0
    else:
        assert plan.report()["accepted"] == len(plan.leads)


def test_export_cells_are_not_formulas() -> None:
    assert _csv_safe("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _csv_safe("+1") == "'+1" and _csv_safe("@a") == "'@a" and _csv_safe("ok") == "ok"

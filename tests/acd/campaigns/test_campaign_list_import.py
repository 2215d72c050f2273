"""List import: CSV and XLSX with a column mapping, E.164 and time zones, duplicates,
bad rows with line numbers, do-not-call numbers refused."""

from __future__ import annotations

import io

import openpyxl
import pytest

from acd.campaigns import importer
from acd.campaigns.importer import ImportError_, plan_import, read_table

CSV = (
    "Name,Telephone,Zone,Seg,Extra\n"
    "Ann,(415) 555-2671,,gold,x1\n"           # line 2: US number, zone from the number
    "Bob,+44 20 7946 0958,,silver,\n"         # line 3: London
    "Cid,not a number,,gold,\n"               # line 4: bad
    "Dee,415-555-2671,America/Chicago,,y\n"   # line 5: duplicate of line 2
    "Eve,+886 2 2345 6789,Asia/Taipei,gold,\n"  # line 6: zone from the column
    ",,,,\n"                                  # blank: not a row
    "Fay,+1 212 555 0199,Mars/Olympus,,\n"    # line 8: unknown zone
)
MAPPING = {"first_name": "Name", "phone": "Telephone", "tz": "Zone", "segment": "Seg"}


def plan(text: str = CSV, mapping: dict | None = None, **kw: object) -> importer.ImportPlan:
    args: dict = {"default_region": "US", "default_tz": "UTC", "on_error": "skip"}
    args.update(kw)
    return plan_import(read_table(text.encode(), "x.csv"), mapping or MAPPING, **args)


def test_csv_rows_become_e164_leads_with_zones() -> None:
    p = plan()
    by_phone = {lead.phone: lead for lead in p.leads}
    assert set(by_phone) == {"+14155552671", "+442079460958", "+886223456789"}
    ann = by_phone["+14155552671"]
    assert (ann.tz, ann.tz_source, ann.region, ann.segment) == \
        ("America/Los_Angeles", "number", "US", "gold")
    assert ann.data == {"first_name": "Ann", "Extra": "x1"}
    assert by_phone["+442079460958"].tz == "Europe/London"
    assert (by_phone["+886223456789"].tz, by_phone["+886223456789"].tz_source) == \
        ("Asia/Taipei", "column")
    assert ann.id == importer.lead_id_for("+14155552671")


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    p = plan()
    assert [(e["line"], e["reason"]) for e in p.errors] == [
        (4, "not a phone number (not_a_number)"), (8, "unknown time zone")]
    assert p.rows == 6 and not p.rejected
    assert p.report()["accepted"] == 3


def test_one_bad_row_rejects_the_whole_file_by_default() -> None:
    p = plan(on_error="reject")
    assert p.rejected and p.report()["accepted"] == 0
    assert len(p.errors) == 2


def test_duplicates_are_merged_into_the_first_row() -> None:
    p = plan()
    assert p.duplicates == [{"line": 5, "merged_into": 2, "phone": "+14155552671"}]
    ann = next(lead for lead in p.leads if lead.line == 2)
    assert ann.merged_lines == [5]
    assert ann.data["first_name"] == "Ann"       # the first row wins
    assert ann.tz == "America/Los_Angeles"


def test_dnc_numbers_are_refused_at_import() -> None:
    p = plan(dnc={"+442079460958"})
    assert p.dnc == [{"line": 3, "phone": "+442079460958"}]
    assert "+442079460958" not in {lead.phone for lead in p.leads}


def test_ambiguous_zone_falls_back_to_the_default_with_a_warning() -> None:
    # a US toll-free number spans every US zone
    p = plan("Telephone\n+1 800 555 0100\n", {"phone": "Telephone"}, default_tz="America/New_York")
    assert p.leads[0].tz == "America/New_York" and p.leads[0].tz_source == "default"
    assert p.warnings and p.warnings[0]["line"] == 2


def test_xlsx_with_mapping_and_numeric_cells() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Who", "Mobile", "Region"])
    ws.append(["Gus", 4155552671, ""])            # typed as a number in the sheet
    ws.append(["Hal", "02 2345 6789", "TW"])      # national format, region per row
    ws.append(["Ivy", "12", ""])
    buf = io.BytesIO()
    wb.save(buf)
    rows = read_table(buf.getvalue(), "leads.xlsx")
    p = plan_import(rows, {"first_name": "Who", "phone": "Mobile", "region": "Region"},
                    default_region="US", default_tz="UTC", on_error="skip")
    assert [lead.phone for lead in p.leads] == ["+14155552671", "+886223456789"]
    assert p.leads[1].tz == "Asia/Taipei"
    assert [e["line"] for e in p.errors] == [4]


def test_file_level_problems() -> None:
    with pytest.raises(ImportError_) as e:
        plan_import(read_table(b"A,B\n1,2\n"), {"phone": "Phone"}, default_region="US",
                    default_tz="UTC")
    assert e.value.error_id == "missing_column"
    with pytest.raises(ImportError_) as e:
        plan_import(read_table(b"Phone\n1\n"), {"first_name": "Phone"},
                    default_region="US", default_tz="UTC")
    assert e.value.error_id == "no_phone_column"
    with pytest.raises(ImportError_) as e:
        read_table(b"PK\x03\x04garbage", "x.xlsx")
    assert e.value.error_id == "bad_xlsx"
    with pytest.raises(ImportError_) as e:
        read_table(b"\xff\xfe\x00bad", "x.csv")
    assert e.value.error_id == "bad_encoding"


def test_semicolon_csv_is_sniffed() -> None:
    rows = read_table(b"Phone;Name\n+14155552671;Ann\n", "x.csv")
    assert rows[1] == ["+14155552671", "Ann"]

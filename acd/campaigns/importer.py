"""Lead list import: CSV or XLSX bytes in, normalized leads and a report out.

Sans-I/O: the caller hands over the file's bytes, the column mapping, the default region
and the do-not-call numbers; :func:`plan_import` returns what to store and what to tell
the manager. The repository then writes it in one transaction.

Rules, and why:

* Phone numbers become E.164 (``+14155550100``) with ``phonenumbers``, parsing national
  numbers in the campaign's default region (or a per-row ``region`` column). E.164 is the
  key everywhere: duplicates, the do-not-call list, the pacer's dial string.
* The lead's time zone comes from the mapped ``tz`` column when it holds an IANA name,
  else from the number (``phonenumbers.timezone``). When the number spans several zones
  (a mobile range, a country with many zones) the campaign's default zone is used and the
  report says so: a calling window must never be judged in a guessed zone silently.
* Rows with the same number are merged into the first one (later rows fill fields the
  first left empty); the report lists the merged line numbers.
* Numbers on the do-not-call list are refused and reported; they are not bad rows.
* Bad rows (no number, unparsable or invalid number, unknown time zone, bad priority) are
  reported with their line number (the file's own: the header is line 1) and the reason.
  With ``on_error="reject"`` (the default) one bad row refuses the whole file and nothing
  is imported; with ``on_error="skip"`` the good rows are imported and the bad ones
  reported. Either way the import is one transaction: never half a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

#: Lead fields a column may be mapped to; anything else mapped or unmapped goes to ``data``.
FIELDS = ("phone", "tz", "region", "segment", "priority", "external_id", "first_name",
          "last_name")
MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024


class ImportError_(ValueError):
    """The file as a whole cannot be read (format, encoding, missing column)."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass
class ImportedLead:
    id: str
    phone: str                     # E.164
    tz: str
    tz_source: str                 # "column" | "number" | "default"
    region: str                    # ISO country of the number
    segment: str
    priority: int
    data: dict[str, Any]
    line: int                      # first line it came from
    merged_lines: list[int] = field(default_factory=list)


@dataclass
class ImportPlan:
    leads: list[ImportedLead]
    errors: list[dict[str, Any]]           # {"line", "reason", "value"}
    duplicates: list[dict[str, Any]]       # {"line", "merged_into", "phone"}
    dnc: list[dict[str, Any]]              # {"line", "phone"}
    warnings: list[dict[str, Any]]         # {"line", "warning"}
    rows: int
    rejected: bool                         # on_error="reject" and there were errors

    def report(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "accepted": 0 if self.rejected else len(self.leads),
            "rejected": self.rejected, "errors": self.errors, "duplicates": self.duplicates,
            "dnc": self.dnc, "warnings": self.warnings,
        }


# ---------------------------------------------------------------------------- reading


def read_table(data: bytes, filename: str = "", content_type: str = "") -> list[list[str]]:
    """Rows of cells (the header first) from CSV or XLSX bytes."""
    if len(data) > MAX_BYTES:
        raise ImportError_("file_too_large", f"the file is larger than {MAX_BYTES} bytes")
    name = filename.lower()
    if name.endswith(".xlsx") or "spreadsheetml" in content_type or data[:2] == b"PK":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_("bad_encoding", "the CSV file is not UTF-8") from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise ImportError_("bad_csv", f"the CSV file cannot be read: {exc}") from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportError_("bad_xlsx", f"the XLSX file cannot be read: {exc}") from None
    try:
        ws = wb.worksheets[0]
        rows: list[list[str]] = []
        for values in ws.iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        wb.close()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))          # a phone number typed as a number in a spreadsheet
    return str(v)


# ---------------------------------------------------------------------------- planning


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not_a_number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too_short",
    phonenumbers.NumberParseException.TOO_LONG: "too_long",
}


def normalize_phone(raw: str, region: str) -> tuple[str, str]:
    """(E.164, ISO region of the number), or ValueError with the reason."""
    raw = raw.strip()
    if not raw:
        raise ValueError("no phone number")
    try:
        num = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({_PARSE_ERRORS.get(exc.error_type, 'unreadable')})"
                         ) from None
    if not phonenumbers.is_valid_number(num):
        raise ValueError("not a valid number")
    return (phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
            phonenumbers.region_code_for_number(num) or "")


def zone_of_number(e164: str) -> str | None:
    """The single IANA zone of a number, or None when unknown or ambiguous."""
    zones = [z for z in pn_timezone.time_zones_for_number(phonenumbers.parse(e164))
             if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def lead_id_for(e164: str) -> str:
    """Stable id of a lead: the same number is the same lead in a campaign."""
    return "L" + hashlib.sha1(e164.encode()).hexdigest()[:16]


def plan_import(rows: Sequence[Sequence[str]], mapping: Mapping[str, str], *,
                default_region: str, default_tz: str, dnc: Iterable[str] = (),
                on_error: str = "reject", list_priority: int = 0) -> ImportPlan:
    """Check and normalize a table; ``mapping`` is lead field -> column header.

    ``list_priority`` is the priority of the whole list: rows without a ``priority``
    value take it (lower dials first)."""
    if on_error not in ("reject", "skip"):
        raise ImportError_("bad_option", "on_error must be 'reject' or 'skip'")
    if not rows:
        raise ImportError_("empty_file", "the file has no header row")
    header = [h.strip() for h in rows[0]]
    if len(rows) - 1 > MAX_ROWS:
        raise ImportError_("too_many_rows", f"at most {MAX_ROWS} rows per file")
    col: dict[str, int] = {}
    for fld, name in mapping.items():
        if name not in header:
            raise ImportError_("missing_column", f"column {name!r} (for {fld}) is not in "
                               f"the file; its columns are {header}")
        col[fld] = header.index(name)
    if "phone" not in col:
        raise ImportError_("no_phone_column", "the mapping must name the phone column")
    mapped_cols = set(col.values())
    dnc_set = set(dnc)
    errors: list[dict[str, Any]] = []
    dups: list[dict[str, Any]] = []
    dnc_hits: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    by_phone: dict[str, ImportedLead] = {}
    count = 0
    for offset, row in enumerate(rows[1:]):
        line = offset + 2
        if not any(c.strip() for c in row):
            continue                         # blank line: not a row
        count += 1

        def get(fld: str, row: Sequence[str] = row) -> str:
            i = col.get(fld)
            return row[i].strip() if i is not None and i < len(row) else ""

        raw_phone = get("phone")
        region = (get("region") or default_region).upper()
        try:
            e164, num_region = normalize_phone(raw_phone, region)
        except ValueError as exc:
            errors.append({"line": line, "reason": str(exc), "value": raw_phone})
            continue
        tz_col = get("tz")
        if tz_col:
            if not _valid_zone(tz_col):
                errors.append({"line": line, "reason": "unknown time zone", "value": tz_col})
                continue
            tz, tz_source = tz_col, "column"
        else:
            found = zone_of_number(e164)
            if found:
                tz, tz_source = found, "number"
            else:
                tz, tz_source = default_tz, "default"
                warnings.append({"line": line, "warning": f"time zone of {e164} is not "
                                 f"known from the number; using {default_tz}"})
        prio_raw = get("priority")
        try:
            priority = int(prio_raw) if prio_raw else list_priority
        except ValueError:
            errors.append({"line": line, "reason": "priority is not a whole number",
                           "value": prio_raw})
            continue
        if e164 in dnc_set:
            dnc_hits.append({"line": line, "phone": e164})
            continue
        data: dict[str, Any] = {}
        for fld in ("first_name", "last_name", "external_id"):
            if get(fld):
                data[fld] = get(fld)
        for i, name in enumerate(header):
            if i not in mapped_cols and name and i < len(row) and row[i].strip():
                data[name] = row[i].strip()
        first = by_phone.get(e164)
        if first is not None:
            for k, v in data.items():
                first.data.setdefault(k, v)
            if not first.segment and get("segment"):
                first.segment = get("segment")
            first.merged_lines.append(line)
            dups.append({"line": line, "merged_into": first.line, "phone": e164})
            continue
        by_phone[e164] = ImportedLead(
            id=lead_id_for(e164), phone=e164, tz=tz, tz_source=tz_source,
            region=num_region, segment=get("segment"), priority=priority, data=data,
            line=line)
    rejected = bool(errors) and on_error == "reject"
    return ImportPlan(list(by_phone.values()), errors, dups, dnc_hits, warnings, count,
                      rejected)

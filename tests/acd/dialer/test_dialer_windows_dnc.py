"""Calling windows in the lead's local time (daylight-saving edges included) and the
do-not-call check at dial time."""

from __future__ import annotations

from datetime import date, time

import pytest

from acd.dialer import events as ev
from acd.dialer.model import CallingWindow, Mode, Outcome
from acd.dialer.pacer import Pacer
from acd.dialer.windows import CallingPolicy, local_iso, utc

from .dialer_harness import Driver, campaign, lead, of

TCPA = CallingPolicy([CallingWindow(time(8), time(21))])


@pytest.mark.parametrize("at, tz, open_", [
    # New York springs forward on Sunday 10 March 2024 at 07:00 UTC.
    (utc(2024, 3, 9, 12, 30), "America/New_York", False),   # 07:30 EST
    (utc(2024, 3, 10, 12, 30), "America/New_York", True),   # 08:30 EDT, same UTC clock
    (utc(2024, 3, 10, 0, 59), "America/New_York", True),    # 20:59 EDT...
    (utc(2024, 3, 11, 1, 0), "America/New_York", False),    # ...21:00 EDT closes
    # Los Angeles: 15:30 UTC is 07:30 PST on the 9th and 08:30 PDT on the 10th.
    (utc(2024, 3, 9, 15, 30), "America/Los_Angeles", False),
    (utc(2024, 3, 10, 15, 30), "America/Los_Angeles", True),
    # New York falls back on Sunday 3 November 2024 at 06:00 UTC.
    (utc(2024, 11, 2, 12, 30), "America/New_York", True),   # 08:30 EDT
    (utc(2024, 11, 3, 12, 30), "America/New_York", False),  # 07:30 EST
    # London springs forward on 31 March 2024 at 01:00 UTC.
    (utc(2024, 3, 30, 7, 30), "Europe/London", False),      # 07:30 GMT
    (utc(2024, 3, 31, 7, 30), "Europe/London", True),       # 08:30 BST
    # Half-hour zone: Kolkata is UTC+05:30.
    (utc(2024, 6, 4, 2, 29), "Asia/Kolkata", False),        # 07:59
    (utc(2024, 6, 4, 2, 30), "Asia/Kolkata", True),         # 08:00
])
def test_is_open_uses_the_lead_local_time(at: float, tz: str, open_: bool) -> None:
    assert TCPA.is_open(at, tz) is open_


def test_next_open_crosses_spring_forward() -> None:
    # 01:00 EST on the changeover night: the window opens at 08:00 EDT = 12:00 UTC.
    assert TCPA.next_open(utc(2024, 3, 10, 6), "America/New_York") == utc(2024, 3, 10, 12)
    # The day before, 08:00 EST = 13:00 UTC.
    assert TCPA.next_open(utc(2024, 3, 9, 6), "America/New_York") == utc(2024, 3, 9, 13)


def test_window_starting_inside_the_spring_forward_gap_opens_when_the_gap_ends() -> None:
    policy = CallingPolicy([CallingWindow(time(2, 30), time(4))])
    # 02:30 does not exist on 10 March in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    at = policy.next_open(utc(2024, 3, 10, 5), "America/New_York")
    assert at == utc(2024, 3, 10, 7)
    assert local_iso(at, "America/New_York") == "2024-03-10T03:00:00-04:00"


def test_window_in_the_repeated_fall_back_hour_opens_at_its_first_occurrence() -> None:
    policy = CallingPolicy([CallingWindow(time(1, 30), time(3))])
    # 01:30 happens twice on 3 November in New York; the first is 05:30 UTC (EDT).
    assert policy.next_open(utc(2024, 11, 3, 4), "America/New_York") == utc(2024, 11, 3, 5, 30)
    # Inside the second 01:xx hour the window is open too.
    assert policy.is_open(utc(2024, 11, 3, 6, 40), "America/New_York")


def test_weekdays_and_holidays() -> None:
    policy = CallingPolicy([CallingWindow(time(9), time(17), frozenset(range(5)))],
                           holidays=[date(2024, 7, 4)])
    # Thursday 4 July is a holiday; Friday 5 July opens at 09:00 EDT.
    assert not policy.is_open(utc(2024, 7, 4, 15), "America/New_York")
    assert policy.next_open(utc(2024, 7, 4, 15), "America/New_York") == utc(2024, 7, 5, 13)
    # Saturday evening: next opening is Monday 09:00.
    assert policy.next_open(utc(2024, 7, 6, 20), "America/New_York") == utc(2024, 7, 8, 13)


def test_pacer_dials_each_lead_only_inside_its_own_window() -> None:
    # 14:00 UTC: 10:00 in New York (open), 07:00 in Los Angeles (closed until 15:00 UTC).
    d = Driver(Pacer(campaign()), now=utc(2024, 6, 4, 14))
    d.leads(lead(1, tz="America/Los_Angeles"), lead(2, tz="America/New_York"))
    out = d.agents("a1", "a2")
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L2"]
    assert of(d.at(utc(2024, 6, 4, 14, 59, 59)).send(ev.Tick()), ev.Dial) == []
    out = d.at(utc(2024, 6, 4, 15)).send(ev.Tick())
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L1"]


def test_pacer_window_across_dst_change_for_the_same_utc_clock() -> None:
    # 12:30 UTC: 07:30 EST on Saturday 9 March (closed), 08:30 EDT on Sunday 10 March.
    d = Driver(Pacer(campaign()), now=utc(2024, 3, 9, 12, 30))
    d.leads(lead(1))
    assert of(d.agents("a1"), ev.Dial) == []
    out = d.at(utc(2024, 3, 9, 13)).send(ev.Tick())                 # 08:00 EST
    (dial,) = of(out, ev.Dial)
    out = d.after(3).send(ev.CallBusy(dial.call_id))
    (audit,) = of(out, ev.Audit)
    assert audit.lead_local_time == "2024-03-09T08:00:00-05:00"


def test_manual_dial_outside_the_window_is_refused() -> None:
    d = Driver(Pacer(campaign(mode=Mode.MANUAL)), now=utc(2024, 6, 4, 11))  # 07:00 EDT
    d.leads(lead(1))
    d.agents("a1")
    with pytest.raises(ev.DialerError) as exc:
        d.send(ev.ManualDialRequested("a1", "L1"))
    assert exc.value.error_id == "outside_window"


def test_dnc_is_checked_at_dial_time_not_at_load_time() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(lead(1, phone="+1 (555) 000-0001"), lead(2, phone="+1 555 000 0002"))
    # Listed after the leads were loaded, written differently.
    d.send(ev.DncUpdated(added=("15550000001",)))
    out = d.agents("a1")
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L2"]
    (blocked,) = [a for a in of(out, ev.Audit) if a.lead_id == "L1"]
    assert blocked.outcome is Outcome.DNC and blocked.dnc_checked and blocked.dnc_listed
    assert blocked.call_id is None
    assert ev.LeadClosed("L1", "dnc", 0) in out


def test_dnc_removal_allows_dialling() -> None:
    d = Driver(Pacer(campaign(), dnc=["+15550000001"]))
    d.send(ev.DncUpdated(removed=("+1 555 000 0001",)))
    d.leads(lead(1))
    assert [x.lead_id for x in of(d.agents("a1"), ev.Dial)] == ["L1"]


def test_dnc_listed_during_a_preview_blocks_the_dial() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW)))
    d.leads(lead(1), lead(2))
    d.agents("a1")
    d.send(ev.DncUpdated(added=("+15550000001",)))
    out = d.after(5).send(ev.PreviewAccepted("a1", "L1"))
    assert of(out, ev.Dial) == []
    assert ev.WithdrawPreview("a1", "L1", "dnc") in out
    assert [a.outcome for a in of(out, ev.Audit)] == [Outcome.DNC]
    assert [s.lead_id for s in of(out, ev.ShowPreview)] == ["L2"]


def test_manual_dial_of_a_dnc_number_is_blocked_and_audited() -> None:
    d = Driver(Pacer(campaign(mode=Mode.MANUAL), dnc=["+15550000001"]))
    d.leads(lead(1))
    d.agents("a1")
    out = d.send(ev.ManualDialRequested("a1", "L1"))
    assert of(out, ev.Dial) == []
    assert [a.dnc_listed for a in of(out, ev.Audit)] == [True]


def test_bad_time_zone_is_refused() -> None:
    d = Driver(Pacer(campaign()))
    with pytest.raises(ev.DialerError) as exc:
        d.leads(lead(1, tz="Mars/Olympus_Mons"))
    assert exc.value.error_id == "bad_lead"

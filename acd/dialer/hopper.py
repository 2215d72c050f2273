"""The campaign's lead list ("hopper"): which record may be dialled next, and what
happens to a record after each attempt.

Leads wait in a heap keyed by (due time, priority, load order); stale entries are
skipped by version number, so rescheduling is a push, not a search. Taking the next lead
applies the dial-time gate in order:

1. due (``not_before`` reached);
2. not abandoned by us in the last 72 hours - unless an agent is already on the line
   (manual, preview), the one case regulators allow a repeat call;
3. inside a calling window in the lead's local time, else rescheduled to the next
   opening;
4. last, at the moment of dialling, not on the do-not-call list - else closed with an
   audit record saying so.

After an attempt the retry policy gives the next due time per outcome (moved into the
next calling window, never within 72 hours of an abandon) or closes the record.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfoNotFoundError

from . import events as ev
from .events import DialerError
from .model import ABANDON_REDIAL_BLOCK_S, DAY, Lead, Mode, Outcome, RetryPolicy
from .windows import CallingPolicy, local_iso, zone


def normalize_number(phone: str) -> str:
    """Digits only: "+1 (555) 010-0100" and "15550100100" are the same line for DNC."""
    return "".join(ch for ch in phone if ch.isdigit())


@dataclass
class LeadRecord:
    lead: Lead
    attempts: int
    not_before: float
    last_abandoned_at: float | None
    callbacks: int = 0
    status: str = "pending"        # pending | previewing | in_call | closed
    version: int = 0
    remove_after_call: bool = False
    order: int = 0                 # load order: the tie-break among leads due together


class Hopper:
    def __init__(self, policy: CallingPolicy, retry: RetryPolicy,
                 dnc: Iterable[str] = ()) -> None:
        self.policy = policy
        self.retry = retry
        self.leads: dict[str, LeadRecord] = {}
        self._dnc: set[str] = {normalize_number(n) for n in dnc}
        self._due: list[tuple[float, int, int, str, int]] = []
        self._order = itertools.count()

    # ---------------------------------------------------------------- list upkeep

    def add(self, leads: Iterable[Lead], out: list[ev.Decision]) -> None:
        for lead in leads:
            if lead.id in self.leads:
                continue            # already known: the pacer's own record wins
            try:
                zone(lead.tz)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise DialerError("bad_lead", f"lead {lead.id}: unknown time zone {lead.tz}",
                                  lead_id=lead.id) from exc
            rec = LeadRecord(lead, lead.attempts, lead.not_before, lead.last_abandoned_at,
                             order=next(self._order))
            self.leads[lead.id] = rec
            if rec.attempts >= self.retry.max_attempts:
                self.close(rec, "max_attempts", out)
            else:
                self.push(rec)

    def get(self, lead_id: str) -> LeadRecord | None:
        return self.leads.get(lead_id)

    def update_dnc(self, added: Iterable[str], removed: Iterable[str]) -> None:
        self._dnc.update(normalize_number(n) for n in added)
        self._dnc.difference_update(normalize_number(n) for n in removed)

    def is_dnc(self, phone: str) -> bool:
        return normalize_number(phone) in self._dnc

    def push(self, rec: LeadRecord) -> None:
        rec.version += 1
        rec.status = "pending"
        heapq.heappush(self._due, (rec.not_before, rec.lead.priority, rec.order,
                                   rec.lead.id, rec.version))

    def close(self, rec: LeadRecord, reason: str, out: list[ev.Decision]) -> None:
        rec.status = "closed"
        rec.version += 1
        out.append(ev.LeadClosed(rec.lead.id, reason, rec.attempts))

    def has_due(self, now: float) -> bool:
        return bool(self._due) and self._due[0][0] <= now

    # ---------------------------------------------------------------- dial gate

    def next_due(self, now: float, agent_on_line: bool, mode: Mode,
                 out: list[ev.Decision]) -> LeadRecord | None:
        """Pop the next lead that may be dialled now; reschedule or close the ones that
        may not (outside the window, blocked after an abandon, on the DNC list)."""
        due = self._due
        while due:
            not_before, _, _, lead_id, version = due[0]
            if not_before > now:
                return None
            heapq.heappop(due)
            rec = self.leads.get(lead_id)
            if rec is None or rec.version != version or rec.status != "pending":
                continue
            blocked_until = self.blocked_until(rec, now, agent_on_line)
            if blocked_until is not None:
                rec.not_before = blocked_until
                self.push(rec)
                continue
            if self.is_dnc(rec.lead.phone):
                self.audit_dnc(rec, now, mode, out)
                continue
            return rec
        return None

    def blocked_until(self, rec: LeadRecord, now: float, agent_on_line: bool) -> float | None:
        """None if the lead may be dialled now, else when to look at it again."""
        if (not agent_on_line and rec.last_abandoned_at is not None
                and now < rec.last_abandoned_at + ABANDON_REDIAL_BLOCK_S):
            return rec.last_abandoned_at + ABANDON_REDIAL_BLOCK_S
        if not self.policy.is_open(now, rec.lead.tz):
            nxt = self.policy.next_open(now, rec.lead.tz)
            return nxt if nxt is not None else now + DAY
        return None

    def audit_dnc(self, rec: LeadRecord, now: float, mode: Mode,
                  out: list[ev.Decision]) -> None:
        """The number is on the DNC list at dial time: no call, an audit record, closed."""
        lead = rec.lead
        out.append(ev.Audit(
            at=now, call_id=None, lead_id=lead.id, phone=lead.phone,
            lead_local_time=local_iso(now, lead.tz), tz=lead.tz, dnc_checked=True,
            dnc_listed=True, mode=mode, outcome=Outcome.DNC, abandoned=False,
            played=None, agent_id=None, ended_at=now))
        self.close(rec, "dnc", out)

    # ---------------------------------------------------------------- after an attempt

    def retry_or_close(self, rec: LeadRecord, outcome: Outcome, now: float,
                       out: list[ev.Decision], callback_at: float | None) -> None:
        retry = self.retry
        if outcome is Outcome.CALLBACK_REQUESTED:
            if rec.callbacks >= retry.max_callbacks:
                self.close(rec, "max_callbacks", out)
                return
            rec.callbacks += 1
            delay = retry.delay_for(outcome)
            at = callback_at if callback_at is not None else now + (delay or 0.0)
        else:
            delay = retry.delay_for(outcome)
            if delay is None:
                self.close(rec, "done", out)
                return
            if rec.attempts >= retry.max_attempts:
                self.close(rec, "max_attempts", out)
                return
            at = now + delay
        if rec.last_abandoned_at is not None:
            at = max(at, rec.last_abandoned_at + ABANDON_REDIAL_BLOCK_S)
        opened = self.policy.next_open(at, rec.lead.tz)
        rec.not_before = opened if opened is not None else at
        self.push(rec)
        out.append(ev.ScheduleRetry(rec.lead.id, rec.not_before, outcome, rec.attempts))

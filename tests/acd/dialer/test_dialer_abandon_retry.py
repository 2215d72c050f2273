"""Abandonment at 2 s (message, audit, no redial for 72 h), ring at least 15 s before no
answer, and the retry schedule per outcome with its maximum attempts."""

from __future__ import annotations

import pytest

from acd.dialer import events as ev
from acd.dialer.model import (
    ABANDON_REDIAL_BLOCK_S,
    HOUR,
    MIN_RING_S,
    AnswerKind,
    Mode,
    Outcome,
    RetryPolicy,
)
from acd.dialer.pacer import Pacer
from acd.dialer.states import AgentState, CallState
from acd.dialer.windows import utc

from .dialer_harness import NOON_NY, Driver, campaign, clean_history, lead, of


def _two_lines_one_agent(mode: Mode = Mode.PROGRESSIVE) -> tuple[Driver, list[ev.Dial]]:
    d = Driver(Pacer(campaign(mode=mode, progressive_ratio=2.0),
                     governor_history=clean_history()))
    d.leads(lead(1), lead(2))
    dials = of(d.agents("a1"), ev.Dial)
    assert len(dials) == 2
    return d, dials


def test_live_answer_without_agent_for_2_s_is_abandoned_with_the_message() -> None:
    d, (first, second) = _two_lines_one_agent()
    assert of(d.after(7).answer(first.call_id), ev.Connect) == [ev.Connect(first.call_id, "a1")]
    out = d.after(0.5).answer(second.call_id)
    assert of(out, ev.Connect) == []
    (grace,) = of(out, ev.StartTimer)
    assert grace == ev.StartTimer(("grace", second.call_id), d.now + 2.0)
    assert d.pacer.call_state(second.call_id) is CallState.WAITING
    # Nothing happens before the 2 s are up...
    assert of(d.after(1.9).send(ev.Tick()), ev.PlayAbandonMessage) == []
    # ...then the recorded message naming the company and a call-back number, and hang up.
    out = d.at(grace.at).send(ev.TimerFired(grace.key))
    (msg,) = of(out, ev.PlayAbandonMessage)
    assert msg.call_id == second.call_id
    assert "Acme Energy" in msg.text and "+1 555 0100" in msg.text
    assert of(out, ev.HangUp) == [ev.HangUp(second.call_id, "abandoned", after_prompt=True)]
    (audit,) = of(out, ev.Audit)
    assert audit.abandoned and audit.outcome is Outcome.ABANDONED and audit.played == msg.text
    assert audit.dnc_checked and not audit.dnc_listed
    assert audit.lead_local_time.startswith("2024-06-04T12:00:00-04:00")
    (retry,) = of(out, ev.ScheduleRetry)
    assert retry.lead_id == "L2" and retry.at >= d.now + ABANDON_REDIAL_BLOCK_S
    assert d.pacer.governor.counts("24h", d.now) == (1002, 1)


def test_agent_freed_within_the_grace_takes_the_waiting_call() -> None:
    d, (first, second) = _two_lines_one_agent()
    d.after(7).answer(first.call_id)
    d.after(0.1).send(ev.CallEnded(first.call_id))
    d.after(0.1).answer(second.call_id)
    out = d.after(1.0).send(ev.AgentAvailable("a1"))      # wrap-up skipped
    assert of(out, ev.Connect) == [ev.Connect(second.call_id, "a1")]
    assert ev.CancelTimer(("grace", second.call_id)) in out
    assert of(d.after(1.0).send(ev.TimerFired(("grace", second.call_id))),
              ev.PlayAbandonMessage) == []
    assert d.pacer.governor.counts("24h", d.now) == (1002, 0)


def test_person_hanging_up_while_waiting_counts_as_abandoned() -> None:
    d, (first, second) = _two_lines_one_agent()
    d.after(7).answer(first.call_id)
    d.after(0.2).answer(second.call_id)
    out = d.after(1.0).send(ev.CallEnded(second.call_id))
    (audit,) = of(out, ev.Audit)
    assert audit.abandoned and audit.played is None
    assert d.pacer.governor.counts("24h", d.now) == (1002, 1)


def test_abandoned_number_is_not_redialled_by_the_predictive_dialer_for_72_hours() -> None:
    abandoned_at = NOON_NY - 3 * HOUR
    d = Driver(Pacer(campaign(mode=Mode.PROGRESSIVE)))
    d.leads(lead(1, last_abandoned_at=abandoned_at), lead(2))
    out = d.agents("a1", "a2")
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L2"]
    # 72 h after the abandon, 15:00 local on Friday: dialled (inside the window).
    d.at(abandoned_at + ABANDON_REDIAL_BLOCK_S - 1).send(ev.Tick())
    assert "L1" not in [x.lead_id for x in of(d.log, ev.Dial)]
    out = d.at(abandoned_at + ABANDON_REDIAL_BLOCK_S).send(ev.Tick())
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L1"]


def test_agent_attended_dial_of_an_abandoned_number_is_allowed() -> None:
    d = Driver(Pacer(campaign(mode=Mode.MANUAL)))
    d.leads(lead(1, last_abandoned_at=NOON_NY - HOUR))
    d.agents("a1")
    (dial,) = of(d.send(ev.ManualDialRequested("a1", "L1")), ev.Dial)
    assert dial.agent_id == "a1"


def test_retry_after_abandon_is_at_least_72_hours_whatever_the_table() -> None:
    policy = RetryPolicy(delays_s={Outcome.ABANDONED: 60.0})
    assert policy.delay_for(Outcome.ABANDONED) == ABANDON_REDIAL_BLOCK_S


def test_ring_timeout_below_15_s_is_refused() -> None:
    with pytest.raises(ValueError):
        campaign(ring_timeout_s=MIN_RING_S - 1)
    campaign(ring_timeout_s=MIN_RING_S)


def test_line_rings_at_least_15_s_before_no_answer() -> None:
    d = Driver(Pacer(campaign(ring_timeout_s=15.0)))
    d.leads(lead(1), lead(2))
    (dial,) = of(d.agents("a1"), ev.Dial)
    assert dial.ring_timeout_s >= MIN_RING_S
    (ring,) = [t for t in of(d.log, ev.StartTimer) if t.key[0] == "ring"]
    assert ring.at - d.now >= MIN_RING_S
    for _ in range(14):
        assert of(d.after(1).send(ev.Tick()), ev.HangUp) == []
    out = d.at(ring.at).send(ev.TimerFired(ring.key))
    assert of(out, ev.HangUp) == [ev.HangUp(dial.call_id, "no_answer")]
    (audit,) = of(out, ev.Audit)
    assert audit.outcome is Outcome.NO_ANSWER and audit.ended_at - audit.at >= MIN_RING_S


def test_answer_cancels_the_ring_timer() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    out = d.after(7).answer(dial.call_id)
    assert ev.CancelTimer(("ring", dial.call_id)) in out
    assert of(d.after(13).send(ev.TimerFired(("ring", dial.call_id))), ev.HangUp) == []


RETRY = RetryPolicy(max_attempts=3, delays_s={
    Outcome.BUSY: 600.0, Outcome.NO_ANSWER: 3600.0, Outcome.MACHINE: 7200.0,
    Outcome.ABANDONED: ABANDON_REDIAL_BLOCK_S, Outcome.CALLBACK_REQUESTED: 1800.0,
    Outcome.FAILED: 900.0})


def _one_attempt(outcome: str) -> tuple[Driver, list[ev.Decision]]:
    d = Driver(Pacer(campaign(retry=RETRY)))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    events = {
        "busy": ev.CallBusy(dial.call_id),
        "no_answer": ev.TimerFired(("ring", dial.call_id)),
        "machine": ev.CallAnswered(dial.call_id, AnswerKind.MACHINE),
        "failed": ev.CallFailed(dial.call_id, "404"),
    }
    return d, d.after(5).send(events[outcome])


@pytest.mark.parametrize("outcome, delay", [("busy", 600.0), ("no_answer", 3600.0),
                                            ("machine", 7200.0), ("failed", 900.0)])
def test_retry_delay_per_outcome(outcome: str, delay: float) -> None:
    d, out = _one_attempt(outcome)
    (retry,) = of(out, ev.ScheduleRetry)
    assert retry.outcome.value == outcome
    assert retry.at == pytest.approx(d.now + delay)
    assert retry.attempts == 1


def test_callback_requested_is_scheduled_at_the_requested_time() -> None:
    d = Driver(Pacer(campaign(retry=RETRY)))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    d.after(7).answer(dial.call_id)
    wanted = NOON_NY + 3 * HOUR
    out = d.after(100).send(ev.CallEnded(dial.call_id, "callback", callback_at=wanted))
    (retry,) = of(out, ev.ScheduleRetry)
    assert retry.outcome is Outcome.CALLBACK_REQUESTED and retry.at == wanted
    assert d.pacer.agent_state("a1") is AgentState.WRAP_UP


def test_connected_call_closes_the_lead() -> None:
    d = Driver(Pacer(campaign(retry=RETRY)))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    d.after(7).answer(dial.call_id)
    d.send(ev.CallConnectedToAgent(dial.call_id, "a1"))
    out = d.after(100).send(ev.CallEnded(dial.call_id))
    assert of(out, ev.LeadClosed) == [ev.LeadClosed("L1", "done", 1)]
    (audit,) = of(out, ev.Audit)
    assert audit.outcome is Outcome.CONNECTED and audit.connected_at == NOON_NY + 7
    assert d.pacer.talk_stats.mean() == pytest.approx(100.0)


def test_lead_is_closed_after_max_attempts() -> None:
    d = Driver(Pacer(campaign(retry=RETRY)))
    d.leads(lead(1))
    d.agents("a1")
    for attempt in range(1, 4):
        (dial,) = [x for x in of(d.log, ev.Dial) if x.call_id.endswith(f":{attempt}")]
        out = d.after(3).send(ev.CallBusy(dial.call_id))
        if attempt < 3:
            (retry,) = of(out, ev.ScheduleRetry)
            assert retry.attempts == attempt
            d.at(retry.at).send(ev.Tick())          # due again: dialled again
        else:
            assert of(out, ev.ScheduleRetry) == []
            assert of(out, ev.LeadClosed) == [ev.LeadClosed("L1", "max_attempts", 3)]
    assert len(of(d.log, ev.Dial)) == 3
    assert of(d.after(10 * HOUR).send(ev.Tick()), ev.Dial) == []


def test_retry_landing_outside_the_window_moves_to_the_next_opening() -> None:
    # 20:30 in New York: a one-hour retry would fall at 21:30, after the 21:00 close.
    d = Driver(Pacer(campaign(retry=RETRY)), now=utc(2024, 6, 5, 0, 30))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    out = d.after(20).send(ev.TimerFired(("ring", dial.call_id)))
    (retry,) = of(out, ev.ScheduleRetry)
    assert retry.at == utc(2024, 6, 5, 12, 0)        # 08:00 EDT the next morning

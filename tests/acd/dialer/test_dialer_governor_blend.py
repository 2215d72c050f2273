"""The abandonment governor's windows and feedback, inbound blending, and the state
tables."""

from __future__ import annotations

import pytest

from acd.dialer import events as ev
from acd.dialer.governor import AbandonGovernor
from acd.dialer.model import DAY, BlendPolicy, Mode, PredictiveParams
from acd.dialer.pacer import Pacer
from acd.dialer.states import AGENT, CALL, AgentState, CallState, step

from .dialer_harness import NOON_NY, Driver, campaign, clean_history, lead, of, warm_up

T0 = NOON_NY


def test_windows_drop_old_answers_at_24_hours_and_30_days() -> None:
    g = AbandonGovernor(3.0, 2.0)
    g.record(T0, True)
    for i in range(9):
        g.record(T0 + 1 + i, False)
    assert g.counts("24h", T0 + 100) == (10, 1)
    assert g.rate_pct("24h", T0 + 100) == pytest.approx(10.0)
    assert g.counts("24h", T0 + DAY + 0.5) == (9, 0)       # the abandon aged out
    assert g.counts("30d", T0 + DAY + 0.5) == (10, 1)
    assert g.counts("30d", T0 + 30 * DAY + 10) == (0, 0)


def test_headroom_is_the_abandons_every_window_can_still_absorb() -> None:
    g = AbandonGovernor(3.0, 2.0)
    for i in range(1000):
        g.record(T0 + i, i < 10)
    # 24h and 30d: (0.03 * 1000 - 10) / 0.97 = 20.6 abandons before either reaches 3 %.
    assert g.headroom(T0 + 1000) == pytest.approx(20 / 0.97)
    assert not g.at_limit(T0 + 1000)
    for i in range(20):
        g.record(T0 + 1000, True)
    assert g.rate_pct("24h", T0 + 1000) <= 3.0
    assert g.at_limit(T0 + 1000)


def test_new_campaign_is_at_the_limit_until_one_abandon_fits() -> None:
    g = AbandonGovernor(3.0, 2.0)
    assert g.at_limit(T0)
    for i in range(32):
        g.record(T0, False)
    assert g.at_limit(T0)              # an abandon now: 1 / 33 > 3 %
    g.record(T0, False)
    assert not g.at_limit(T0)          # 1 / 34 < 3 %


def test_risk_target_tightens_above_goal_and_loosens_below() -> None:
    params = PredictiveParams(adjust_interval_s=30.0, adjust_gain=0.2, prior_answers=10.0)
    bad = AbandonGovernor(3.0, 2.0, params)
    good = AbandonGovernor(3.0, 2.0, params)
    for i in range(500):
        bad.record(T0 + i, i % 20 == 0)           # 5 %
        good.record(T0 + i, False)                # 0 %
    start = bad.risk_target(T0 + 500)
    assert good.risk_target(T0 + 500) == start
    assert bad.risk_target(T0 + 800) < start
    assert good.risk_target(T0 + 800) > start
    # No loosening while something else limits dialling (anti-wind-up).
    held = good.risk_target(T0 + 800)
    assert good.risk_target(T0 + 1100, may_loosen=False) == held


def test_governor_history_is_loaded_in_time_order() -> None:
    g = AbandonGovernor(3.0, 2.0, history=[(T0 + 5, False), (T0 - 2 * DAY, True)])
    assert g.counts("24h", T0 + 10) == (1, 0)
    assert g.counts("30d", T0 + 10) == (2, 1)


BLEND = BlendPolicy(frozenset({"sales"}), release_interval_s=30.0, max_release_fraction=0.5,
                    recover_margin_pct=2.0)


def test_blending_releases_agents_slows_dialling_and_reclaims() -> None:
    d = Driver(Pacer(campaign(progressive_ratio=2.0, blend=BLEND),
                     governor_history=clean_history()))
    d.agents("a0", "a1", "a2", "a3")
    out = d.send(ev.InboundServiceLevel("sales", sl_pct=60.0, target_pct=80.0))
    assert of(out, ev.ReleaseAgent) == [ev.ReleaseAgent("a0", "sales")]
    assert of(d.after(10).send(ev.Tick()), ev.ReleaseAgent) == []
    assert of(d.after(20).send(ev.Tick()), ev.ReleaseAgent) == [ev.ReleaseAgent("a1", "sales")]
    assert of(d.after(30).send(ev.Tick()), ev.ReleaseAgent) == []      # at most half
    # Released agents' inbound comings and goings are not the campaign's.
    d.send(ev.AgentAvailable("a0"))
    assert d.pacer.agent_state("a0") is AgentState.RELEASED
    # Slowed: one line per free agent instead of two while the queue is below target.
    out = d.leads(*[lead(i) for i in range(20)])
    assert len(of(out, ev.Dial)) == 2
    # Recovered above target + margin: reclaimed one per interval.
    out = d.after(30).send(ev.InboundServiceLevel("sales", sl_pct=83.0, target_pct=80.0))
    assert of(out, ev.ReclaimAgent) == [ev.ReclaimAgent("a0", "sales")]
    assert of(d.after(30).send(ev.Tick()), ev.ReclaimAgent) == [ev.ReclaimAgent("a1", "sales")]
    # Back at full ratio once a reclaimed agent is free: 2 more lines for him.
    out = d.send(ev.AgentAvailable("a0"))
    assert len(of(out, ev.Dial)) == 2


def test_blending_between_target_and_margin_keeps_released_agents() -> None:
    d = Driver(Pacer(campaign(blend=BLEND)))
    d.agents("a0", "a1")
    d.send(ev.InboundServiceLevel("sales", 70.0, 80.0))
    out = d.after(60).send(ev.InboundServiceLevel("sales", 81.0, 80.0))
    assert of(out, ev.ReclaimAgent) == []
    assert d.pacer.agent_state("a0") is AgentState.RELEASED


def test_blending_slows_the_predictive_dialer_to_progressive() -> None:
    history = [(T0 - 600 + i * 0.1, False) for i in range(1000)]
    pacer = Pacer(campaign(mode=Mode.PREDICTIVE, blend=BLEND), governor_history=history)
    warm_up(pacer)
    d = Driver(pacer)
    d.leads(*[lead(i) for i in range(100)])
    d.send(ev.InboundServiceLevel("sales", 50.0, 80.0))     # releases nobody: no agents yet
    out = d.agents(*[f"a{i}" for i in range(6)])
    assert pacer.effective_mode is Mode.PROGRESSIVE and pacer.pacing_reason == "blending"
    released = len(of(d.log, ev.ReleaseAgent))
    assert len(of(out, ev.Dial)) == 6 - released
    # With the queue healthy the same six agents get more lines than agents.
    pacer2 = Pacer(campaign(mode=Mode.PREDICTIVE, blend=BLEND), governor_history=history)
    warm_up(pacer2)
    d2 = Driver(pacer2)
    d2.leads(*[lead(i) for i in range(100)])
    d2.send(ev.InboundServiceLevel("sales", 90.0, 80.0))
    assert len(of(d2.agents(*[f"a{i}" for i in range(6)]), ev.Dial)) > 6


def test_every_state_has_a_table_entry_and_illegal_moves_raise() -> None:
    assert set(CALL) == set(CallState)
    assert set(AGENT) == set(AgentState)
    with pytest.raises(ev.DialerError) as exc:
        step(CALL, CallState.ENDED, "answered_human", "call x")
    assert exc.value.error_id == "illegal_transition"
    with pytest.raises(ev.DialerError):
        step(AGENT, AgentState.ON_CALL, "available", "agent a")


def test_reports_about_unknown_or_finished_calls_are_ignored() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(lead(1))
    (dial,) = of(d.agents("a1"), ev.Dial)
    d.after(3).send(ev.CallBusy(dial.call_id))
    assert d.after(1).send(ev.CallBusy(dial.call_id)) == []
    assert of(d.send(ev.CallAnswered("nope", ev.AnswerKind.HUMAN)), ev.Connect) == []

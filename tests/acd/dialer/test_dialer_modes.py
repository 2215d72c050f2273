"""Pacing per mode on a fake clock: manual, preview (timeout), progressive ratio,
predictive dialling ahead, and the governor's fallback to progressive."""

from __future__ import annotations

import pytest

from acd.dialer import events as ev
from acd.dialer.model import AnswerKind, Mode
from acd.dialer.pacer import Pacer
from acd.dialer.sim import SimProfile, Simulation
from acd.dialer.states import AgentState

from .dialer_harness import NOON_NY, Driver, campaign, clean_history, lead, of, warm_up


def test_manual_dials_only_when_the_agent_asks_and_connects_him_at_once() -> None:
    d = Driver(Pacer(campaign(mode=Mode.MANUAL)))
    d.leads(lead(1), lead(2))
    assert of(d.agents("a1"), ev.Dial) == []
    assert of(d.after(60).send(ev.Tick()), ev.Dial) == []
    out = d.send(ev.ManualDialRequested("a1", "L2"))
    (dial,) = of(out, ev.Dial)
    assert (dial.lead_id, dial.agent_id, dial.mode) == ("L2", "a1", Mode.MANUAL)
    assert d.pacer.agent_state("a1") is AgentState.DIALING
    out = d.after(8).answer(dial.call_id)
    assert of(out, ev.Connect) == [ev.Connect(dial.call_id, "a1")]
    assert of(out, ev.StartTimer) == []          # no grace timer: the agent is on the line


def test_manual_dial_is_refused_in_other_modes_and_for_busy_agents() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PROGRESSIVE)))
    d.leads(lead(1))
    with pytest.raises(ev.DialerError) as exc:
        d.send(ev.ManualDialRequested("a1", "L1"))
    assert exc.value.error_id == "wrong_mode"
    d2 = Driver(Pacer(campaign(mode=Mode.MANUAL)))
    d2.leads(lead(1))
    with pytest.raises(ev.DialerError) as exc:
        d2.send(ev.ManualDialRequested("nobody", "L1"))
    assert exc.value.error_id == "agent_not_idle"


def test_manual_call_not_answered_gives_the_agent_back() -> None:
    d = Driver(Pacer(campaign(mode=Mode.MANUAL)))
    d.leads(lead(1))
    d.agents("a1")
    (dial,) = of(d.send(ev.ManualDialRequested("a1", "L1")), ev.Dial)
    d.after(3).send(ev.CallBusy(dial.call_id))
    assert d.pacer.agent_state("a1") is AgentState.IDLE


def test_preview_shows_the_record_and_dials_when_accepted() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW, preview_timeout_s=30)))
    d.leads(lead(1), lead(2))
    out = d.agents("a1")
    assert of(out, ev.ShowPreview) == [ev.ShowPreview("a1", "L1", 30)]
    assert ev.StartTimer(("preview", "a1", "L1"), NOON_NY + 30) in out
    assert of(out, ev.Dial) == []
    out = d.after(5).send(ev.PreviewAccepted("a1", "L1"))
    (dial,) = of(out, ev.Dial)
    assert (dial.lead_id, dial.agent_id, dial.mode) == ("L1", "a1", Mode.PREVIEW)
    assert ev.CancelTimer(("preview", "a1", "L1")) in out


def test_preview_skip_shows_the_next_record_and_defers_the_skipped_one() -> None:
    cfg = campaign(mode=Mode.PREVIEW, preview_skip_delay_s=3600)
    d = Driver(Pacer(cfg))
    d.leads(lead(1), lead(2))
    d.agents("a1")
    out = d.after(4).send(ev.PreviewSkipped("a1", "L1"))
    assert of(out, ev.ShowPreview) == [ev.ShowPreview("a1", "L2", cfg.preview_timeout_s)]
    assert d.pacer.lead_attempts("L1") == 0      # a skip is not an attempt


def test_preview_timeout_dials_when_configured_to() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW, preview_timeout_s=20,
                              preview_timeout_action="dial")))
    d.leads(lead(1))
    d.agents("a1")
    assert of(d.after(19).send(ev.Tick()), ev.Dial) == []
    out = d.after(1).send(ev.TimerFired(("preview", "a1", "L1")))
    (dial,) = of(out, ev.Dial)
    assert dial.agent_id == "a1"


def test_preview_timeout_skips_when_configured_to() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW, preview_timeout_s=20,
                              preview_timeout_action="skip")))
    d.leads(lead(1), lead(2))
    d.agents("a1")
    out = d.after(20).send(ev.TimerFired(("preview", "a1", "L1")))
    assert of(out, ev.Dial) == []
    assert of(out, ev.WithdrawPreview) == [ev.WithdrawPreview("a1", "L1", "timeout")]
    assert [s.lead_id for s in of(out, ev.ShowPreview)] == ["L2"]


def test_stale_preview_timer_is_ignored() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW)))
    d.leads(lead(1))
    d.agents("a1")
    d.after(2).send(ev.PreviewAccepted("a1", "L1"))
    assert of(d.after(30).send(ev.TimerFired(("preview", "a1", "L1"))), ev.Dial) == []


@pytest.mark.parametrize("ratio, agents, expected", [(1.0, 3, 3), (1.5, 3, 4), (2.0, 3, 6),
                                                     (3.0, 2, 6)])
def test_progressive_dials_ratio_lines_per_free_agent(ratio: float, agents: int,
                                                       expected: int) -> None:
    d = Driver(Pacer(campaign(progressive_ratio=ratio), governor_history=clean_history()))
    d.leads(*[lead(i) for i in range(20)])
    out = d.agents(*[f"a{i}" for i in range(agents)])
    assert len(of(out, ev.Dial)) == expected
    # Ringing lines are counted: a tick dials nothing more...
    assert of(d.after(1).send(ev.Tick()), ev.Dial) == []
    # ...and a line that ends is replaced.
    first = of(out, ev.Dial)[0]
    assert len(of(d.after(2).send(ev.CallBusy(first.call_id)), ev.Dial)) == 1


def test_new_campaign_over_dials_only_once_the_governor_has_headroom() -> None:
    # No live answers yet: a single abandon would already be 100 %, so a ratio of 2 is
    # held to one line per free agent.
    d = Driver(Pacer(campaign(progressive_ratio=2.0)))
    d.leads(*[lead(i) for i in range(20)])
    assert len(of(d.agents("a1", "a2"), ev.Dial)) == 2
    assert d.pacer.pacing_reason == "governor"


def test_progressive_does_not_dial_for_agents_on_calls() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(*[lead(i) for i in range(5)])
    (dial,) = of(d.agents("a1"), ev.Dial)
    out = d.after(7).answer(dial.call_id)
    assert of(out, ev.Connect) == [ev.Connect(dial.call_id, "a1")]
    assert of(out, ev.Dial) == []
    assert of(d.after(60).send(ev.Tick()), ev.Dial) == []


def test_max_lines_caps_dialling() -> None:
    d = Driver(Pacer(campaign(progressive_ratio=3.0, max_lines=4),
                     governor_history=clean_history()))
    d.leads(*[lead(i) for i in range(20)])
    assert len(of(d.agents("a1", "a2"), ev.Dial)) == 4


def test_predictive_warms_up_progressively_then_dials_ahead() -> None:
    profile = SimProfile(agents=20, hours=0.5)
    pacer = Pacer(campaign(mode=Mode.PREDICTIVE))
    changes: list[ev.PacingChanged] = []
    ahead = []

    def observe(now: float, decisions: list[ev.Decision]) -> None:
        changes.extend(of(decisions, ev.PacingChanged))
        if of(decisions, ev.Dial) and pacer.effective_mode is Mode.PREDICTIVE:
            ringing = sum(1 for _ in pacer.ringing_since())
            ahead.append(ringing - pacer.idle_agents)

    result = Simulation(pacer, profile, seed=3, observer=observe).run()
    assert changes[0].mode is Mode.PROGRESSIVE and changes[0].reason == "warming_up"
    assert any(c.mode is Mode.PREDICTIVE for c in changes)
    # Dialling ahead: more lines ringing than free agents, which progressive never does.
    assert max(ahead) > 0
    assert result.connected > 0


def test_predictive_dials_more_than_progressive_for_the_same_free_agents() -> None:
    lines = {}
    for mode in (Mode.PROGRESSIVE, Mode.PREDICTIVE):
        pacer = Pacer(campaign(mode=mode))
        warm_up(pacer)
        d = Driver(pacer)
        d.leads(*[lead(i) for i in range(100)])
        # Many answers already behind us, all connected: the governor has headroom.
        for _ in range(1000):
            pacer.governor.record(NOON_NY - 600, False)
        lines[mode] = len(of(d.agents(*[f"a{i}" for i in range(5)]), ev.Dial))
    assert lines[Mode.PROGRESSIVE] == 5
    assert lines[Mode.PREDICTIVE] > 5


def test_governor_at_the_limit_falls_back_to_progressive() -> None:
    history = [(NOON_NY - 3600 + i, i < 30) for i in range(1000)]   # exactly 3.0 %
    pacer = Pacer(campaign(mode=Mode.PREDICTIVE), governor_history=history)
    warm_up(pacer)
    d = Driver(pacer)
    d.leads(*[lead(i) for i in range(100)])
    out = d.agents(*[f"a{i}" for i in range(5)])
    assert ev.PacingChanged(Mode.PROGRESSIVE, Mode.PREDICTIVE, "governor", NOON_NY) in d.log
    assert len(of(out, ev.Dial)) == 5            # one line per free agent, no over-dial
    assert all(dial.mode is Mode.PROGRESSIVE for dial in of(out, ev.Dial))


def test_governor_30_day_window_alone_can_force_the_fallback() -> None:
    # Twenty days ago: 3 % abandoned. The 24 h window is clean, the 30 day one is not.
    old = [(NOON_NY - 20 * 86400 + i, i < 30) for i in range(1000)]
    recent = [(NOON_NY - 600 + i * 0.1, False) for i in range(10)]
    pacer = Pacer(campaign(mode=Mode.PREDICTIVE), governor_history=old + recent)
    assert pacer.governor.rate_pct("24h", NOON_NY) == 0.0
    assert pacer.governor.rate_pct("30d", NOON_NY) > 2.9
    warm_up(pacer)
    d = Driver(pacer)
    d.leads(*[lead(i) for i in range(100)])
    out = d.agents("a1", "a2")
    assert pacer.effective_mode is Mode.PROGRESSIVE and pacer.pacing_reason == "governor"
    assert len(of(out, ev.Dial)) == 2


def test_mode_change_withdraws_previews() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW)))
    d.leads(lead(1), lead(2))
    d.agents("a1")
    out = d.send(ev.ModeRequested(Mode.PROGRESSIVE))
    assert of(out, ev.WithdrawPreview) == [ev.WithdrawPreview("a1", "L1", "mode_changed")]
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L1"]


def test_agent_busy_while_previewing_returns_the_lead() -> None:
    d = Driver(Pacer(campaign(mode=Mode.PREVIEW)))
    d.leads(lead(1))
    d.agents("a1", "a2")
    out = d.send(ev.AgentBusy("a1", "break"))
    assert ev.WithdrawPreview("a1", "L1", "agent_busy") in out
    assert of(out, ev.ShowPreview) == [ev.ShowPreview("a2", "L1", 30.0)]
    assert d.pacer.agent_state("a1") is AgentState.AWAY


def test_machine_is_hung_up_and_never_connected() -> None:
    d = Driver(Pacer(campaign()))
    d.leads(lead(1), lead(2))
    (dial,) = of(d.agents("a1"), ev.Dial)
    out = d.after(11).answer(dial.call_id, AnswerKind.MACHINE)
    assert of(out, ev.HangUp) == [ev.HangUp(dial.call_id, "machine")]
    assert of(out, ev.Connect) == []
    (audit,) = of(out, ev.Audit)
    assert audit.outcome.value == "machine" and not audit.abandoned
    assert d.pacer.governor.counts("24h", d.now) == (0, 0)    # not a live answer
    assert [x.lead_id for x in of(out, ev.Dial)] == ["L2"]

"""Properties over random simulated campaigns: never a dial outside the lead's calling
window, never a dial to a do-not-call number, and the abandonment rate never above the
limit in any window at any moment. Checked independently of the pacer's own helpers
(local time via zoneinfo directly, the DNC list from the simulator, abandonment tallied
from the decisions)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.dialer import events as ev
from acd.dialer.model import CallingWindow, Mode
from acd.dialer.pacer import Pacer
from acd.dialer.sim import SimProfile, Simulation
from acd.dialer.windows import utc

from .dialer_harness import campaign

ZONES = ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/London",
         "Asia/Kolkata", "Asia/Tokyo", "Australia/Lord_Howe")
STARTS = (
    utc(2024, 3, 10, 11),   # New York's spring-forward morning
    utc(2024, 3, 31, 6),    # London's
    utc(2024, 11, 3, 11),   # New York's fall-back morning
    utc(2024, 6, 4, 11),    # an ordinary Tuesday, New York opening soon
    utc(2024, 6, 4, 20),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    p_human = draw(st.sampled_from([0.2, 0.3, 0.5]))
    rest = 1.0 - p_human
    start = draw(st.sampled_from(STARTS))
    zones = tuple(draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=4, unique=True)))
    # A window around the first zone's local time at the start, so that runs open, close
    # and stay shut for different leads at different moments.
    local_h = datetime.fromtimestamp(start, ZoneInfo(zones[0])).hour
    start_h = max(0, min(20, local_h + draw(st.integers(-3, 1))))
    end_h = min(24, start_h + draw(st.integers(2, 8)))
    return {
        "profile": SimProfile(
            agents=draw(st.integers(2, 12)),
            hours=draw(st.sampled_from([0.5, 1.0, 1.5])),
            start=start,
            p_human=p_human, p_busy=rest * 0.15, p_no_answer=rest * 0.7,
            p_machine=rest * 0.15,
            talk_mean_s=draw(st.sampled_from([30.0, 60.0, 120.0])),
            wrap_s=draw(st.sampled_from([0.0, 5.0, 20.0])),
            zones=zones,
            dnc_fraction=draw(st.sampled_from([0.0, 0.1, 0.3])),
            leads=400,
        ),
        "mode": draw(st.sampled_from([Mode.PROGRESSIVE, Mode.PREDICTIVE])),
        "ratio": draw(st.sampled_from([1.0, 1.5, 2.5])),
        "window": CallingWindow(time(start_h), time(end_h) if end_h < 24 else time.max),
        "limit": draw(st.sampled_from([3.0, 3.0, 5.0])),
        "seed": draw(st.integers(0, 10_000)),
    }


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_campaigns_respect_windows_dnc_and_the_abandon_limit(sc: dict) -> None:
    profile: SimProfile = sc["profile"]
    window: CallingWindow = sc["window"]
    config = campaign(mode=sc["mode"], progressive_ratio=sc["ratio"], windows=(window,),
                      abandon_limit_pct=sc["limit"])
    pacer = Pacer(config)
    # The simulator's lead list: lead i lives in zones[i % len(zones)].
    tz_of = {f"L{i}": profile.zones[i % len(profile.zones)] for i in range(profile.leads or 0)}
    violations: list[str] = []
    tally = {"answers": 0, "abandons": 0}
    limit = sc["limit"] / 100.0

    def observe(now: float, decisions: list[ev.Decision]) -> None:
        for d in decisions:
            if isinstance(d, ev.Dial):
                local = datetime.fromtimestamp(now, ZoneInfo(tz_of[d.lead_id])).time()
                if not window.start <= local < window.end:
                    violations.append(f"{d.lead_id} dialled at local {local}")
                if d.phone in sim._dnc_numbers:
                    violations.append(f"{d.lead_id} on the DNC list dialled")
            elif isinstance(d, ev.Connect):
                tally["answers"] += 1
            elif isinstance(d, ev.Audit) and d.abandoned:
                tally["answers"] += 1
                tally["abandons"] += 1
                if tally["abandons"] > limit * tally["answers"] + 1e-9:
                    violations.append(f"abandon rate {tally} above {limit:.0%} at {now}")

    sim = Simulation(pacer, profile, sc["seed"], observer=observe)
    result = sim.run()
    assert violations == []
    assert result.dnc_dials == 0 and result.outside_window_dials == 0
    for window_name in ("24h", "30d"):
        assert result.max_rate_pct[window_name] <= sc["limit"] + 1e-9
        assert result.rate_pct[window_name] <= sc["limit"] + 1e-9


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(0, 40 * 86400), st.booleans()), max_size=300),
       st.floats(0, 40 * 86400))
def test_governor_counts_match_a_brute_force_count(history: list, probe: float) -> None:
    from acd.dialer.governor import WINDOWS, AbandonGovernor

    gov = AbandonGovernor(3.0, 2.0, history=history)
    last = max((at for at, _ in history), default=0.0)
    now = max(probe, last)
    for name, span in WINDOWS.items():
        inside = [ab for at, ab in history if now - span < at]
        assert gov.counts(name, now) == (len(inside), sum(inside))


def test_busy_predictive_and_overdialled_progressive_days_stay_under_the_limit() -> None:
    """Longer runs where abandons really happen: the rate stays within 3 % at every
    moment, in both windows."""
    profile = SimProfile(agents=20, hours=2.0, start=utc(2024, 6, 4, 16))
    for mode, ratio in ((Mode.PREDICTIVE, 1.0), (Mode.PROGRESSIVE, 2.5)):
        pacer = Pacer(campaign(mode=mode, progressive_ratio=ratio))
        result = Simulation(pacer, profile, seed=11).run()
        assert result.abandoned > 0, mode          # the limit was actually exercised
        for window_name in ("24h", "30d"):
            assert result.max_rate_pct[window_name] <= 3.0
        # Nobody hangs up while waiting in the simulator: every abandon heard the message.
        assert result.abandon_messages == result.abandoned

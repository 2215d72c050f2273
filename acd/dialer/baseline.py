"""A VICIdial-style adaptive dialer, written for comparison with the predictive pacer.

VICIdial's "ADAPT_TAPERED" method does not forecast: it keeps a *dial level* (lines per
agent) and every few seconds nudges it up or down from the campaign's drop percentage
so far today, allowing more drops early in the shift and tapering to the target by its
end. The auto-dialer then keeps ``ceil(level * agents) - calls in progress`` new lines
going, where *agents* are those ready or on a call (agents in wrap-up / disposition are
paused and not counted) and *calls in progress* are all the campaign's live calls,
ringing, waiting or talking.

Parameters used here (documented, not tuned against the predictive pacer):

* ``target_drop_pct`` 3.0 - the campaign's limit, as a VICIdial campaign would set
  ``adaptive_dropped_percentage``;
* ``interval_s`` 15 - how often the level is adjusted;
* ``step`` 0.05 - the level change per adjustment (scaled by up to 3x by how far the
  drop rate is above target when decreasing);
* ``min_level`` 1.0, ``max_level`` 3.0 - VICIdial's default ``adaptive_maximum_level``;
* ``taper``: the allowed drop rate is ``target * (1 + taper_boost * (1 - 2 * elapsed /
  shift))`` during the first half of the shift (``taper_boost`` 1.0: twice the target at
  the start) and exactly the target in the second half;
* the level rises only while an agent is waiting for a call (VICIdial's
  ``adaptive_dl_diff_target`` of 0: agents waiting minus calls waiting above zero).

The drop percentage is the campaign's own running figure for the day, read from the
governor's 24-hour window (identical to "today" in an 8-hour run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import Mode
from .predictive import PacingView, Plan


@dataclass(frozen=True)
class AdaptiveParams:
    target_drop_pct: float = 3.0
    shift_s: float = 8 * 3600.0
    interval_s: float = 15.0
    step: float = 0.05
    min_level: float = 1.0
    max_level: float = 3.0
    taper_boost: float = 1.0


class AdaptiveTaperedBaseline:
    """Pacing strategy with VICIdial-like adaptive dial level (see module docstring)."""

    def __init__(self, params: AdaptiveParams | None = None, shift_start: float = 0.0) -> None:
        self.params = params or AdaptiveParams()
        self.shift_start = shift_start
        self.level = self.params.min_level
        self._last: float | None = None

    def allowed_drop_pct(self, now: float) -> float:
        p = self.params
        frac = min(1.0, max(0.0, (now - self.shift_start) / p.shift_s))
        boost = p.taper_boost * max(0.0, 1.0 - 2.0 * frac)
        return p.target_drop_pct * (1.0 + boost)

    def _adjust(self, view: PacingView, now: float) -> None:
        p = self.params
        answered, dropped = view.governor.counts("24h", now)
        drop_pct = 100.0 * dropped / answered if answered else 0.0
        allowed = self.allowed_drop_pct(now)
        if drop_pct > allowed:
            self.level -= p.step * min(3.0, drop_pct / allowed)
        elif view.idle_agents - view.waiting_calls > 0:
            self.level += p.step
        self.level = min(p.max_level, max(p.min_level, self.level))

    def plan(self, view: PacingView, now: float) -> Plan:
        if self._last is None:
            self._last = now
        while now - self._last >= self.params.interval_s:
            self._last += self.params.interval_s
            self._adjust(view, now)
        agents = view.idle_agents + view.agents_on_call
        lines = math.ceil(self.level * agents - 1e-9) - view.active_calls
        return Plan(max(0, lines), Mode.PREDICTIVE, "adaptive_baseline")

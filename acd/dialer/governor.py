"""The abandonment governor: rolling 24-hour and 30-day abandonment rates and the risk
target the predictive pacer works to.

What is counted (FCC 47 CFR 64.1200(a)(7), Ofcom's persistent-misuse policy): every call
answered by a live person is one "live answer"; it is *abandoned* when it was not put
through to an agent within the grace (2 s) - including a person who hung up while
waiting. Machine answers are not live answers. The rate of a window is
``abandoned / live answers`` over the calls answered in the last 24 hours or 30 days.

The governor does three things with those counts:

* ``headroom(now)``: how many more abandons each window could absorb *right now* without
  its rate exceeding the limit, even if every one of them were the only further answers:
  ``(L*A - B) / (1 - L)`` for limit ``L``, ``A`` answers and ``B`` abandons, the smaller of
  the two windows. Below 1 the next abandon would breach a window: the pacer then falls
  back to progressive (no over-dial). This also keeps a new campaign progressive until it
  has enough live answers for a single abandon to be within the limit.
* ``risk_target(now)``: the highest probability that a newly dialled call, if answered by a
  person, finds no agent - the predictive pacer's knob. It starts at ``initial_risk`` times
  the goal rate and is moved by integral feedback every ``adjust_interval_s``: the measured
  rate of the worse window (smoothed by ``prior_answers`` pseudo-answers at the goal, so a
  handful of early calls does not swing it) above the goal tightens it, below loosens it,
  by up to ``adjust_gain`` in log scale per period.
* ``rate_pct(window, now)``: the figures for reports, the audit trail and the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .model import DAY, PredictiveParams

WINDOWS: dict[str, float] = {"24h": DAY, "30d": 30 * DAY}


@dataclass
class _Window:
    span: float
    head: int = 0        # index of the oldest entry still inside the window
    answered: int = 0
    abandoned: int = 0


class AbandonGovernor:
    def __init__(self, limit_pct: float, goal_pct: float,
                 params: PredictiveParams | None = None,
                 history: Iterable[tuple[float, bool]] = ()) -> None:
        if not 0.0 < goal_pct <= limit_pct < 100.0:
            raise ValueError("need 0 < goal <= limit < 100")
        self.limit = limit_pct / 100.0
        self.goal = goal_pct / 100.0
        self.params = params or PredictiveParams()
        self._at: list[float] = []
        self._abandoned: list[bool] = []
        self._windows = {name: _Window(span) for name, span in WINDOWS.items()}
        self._risk = self.goal * self.params.initial_risk
        self._last_adjust: float | None = None
        for at, abandoned in sorted(history):
            self.record(at, abandoned)

    # ------------------------------------------------------------------ counting

    def record(self, at: float, abandoned: bool) -> None:
        """One live answer at ``at``; ``abandoned`` if no agent took it in time."""
        if self._at and at < self._at[-1]:
            at = self._at[-1]          # answers are reported in time order; clamp jitter
        self._at.append(at)
        self._abandoned.append(abandoned)
        for w in self._windows.values():
            w.answered += 1
            w.abandoned += abandoned

    def _advance(self, now: float) -> None:
        at, ab = self._at, self._abandoned
        for w in self._windows.values():
            cutoff = now - w.span
            while w.head < len(at) and at[w.head] <= cutoff:
                w.answered -= 1
                w.abandoned -= ab[w.head]
                w.head += 1
        oldest = min(w.head for w in self._windows.values())
        if oldest > 4096 and oldest * 2 > len(at):
            del at[:oldest], ab[:oldest]
            for w in self._windows.values():
                w.head -= oldest

    def counts(self, window: str, now: float) -> tuple[int, int]:
        """(live answers, abandoned) in the window ending at ``now``."""
        self._advance(now)
        w = self._windows[window]
        return w.answered, w.abandoned

    def rate_pct(self, window: str, now: float) -> float:
        answered, abandoned = self.counts(window, now)
        return 100.0 * abandoned / answered if answered else 0.0

    # ------------------------------------------------------------------ control

    def headroom(self, now: float) -> float:
        """Abandons every window can still absorb now (may be negative)."""
        self._advance(now)
        return min((self.limit * w.answered - w.abandoned) / (1.0 - self.limit)
                   for w in self._windows.values())

    def at_limit(self, now: float) -> bool:
        """True when one more abandon would take a window over the limit."""
        return self.headroom(now) < 1.0

    def smoothed_rate(self, now: float) -> float:
        """The worse window's rate, shrunk toward the goal by the prior pseudo-answers."""
        self._advance(now)
        n0 = self.params.prior_answers
        return max((w.abandoned + self.goal * n0) / (w.answered + n0)
                   for w in self._windows.values())

    def risk_target(self, now: float, may_loosen: bool = True) -> float:
        """Per-call abandon-risk target, after any feedback step that is due.

        ``may_loosen`` False (the pacer's dialling was limited by something else, e.g.
        the headroom) stops the target from creeping up while it is not the binding
        constraint - integral wind-up that would release a burst of abandons later."""
        p = self.params
        if self._last_adjust is None:
            self._last_adjust = now
        if now - self._last_adjust > 10 * p.adjust_interval_s:
            # Idle for a long time (overnight): one step on today's figures, not hundreds.
            self._last_adjust = now - p.adjust_interval_s
        while now - self._last_adjust >= p.adjust_interval_s:
            self._last_adjust += p.adjust_interval_s
            err = (self.goal - self.smoothed_rate(now)) / self.goal
            err = max(-1.0, min(1.0 if may_loosen else 0.0, err))
            self._risk *= math.exp(p.adjust_gain * err)
            self._risk = max(self.goal / 20.0, min(0.5, self._risk))
        return self._risk

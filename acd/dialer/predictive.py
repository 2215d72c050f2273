"""How many lines to dial now: the progressive and predictive pacing strategies.

A strategy looks at the campaign through :class:`PacingView` (the pacer) and answers
``plan(view, now) -> Plan``: how many new lines to dial now and which mode that amounts to
(the predictive strategy falls back to progressive and says why).

Progressive
-----------
Dial ``floor(ratio * free agents) - lines already ringing``. With ratio 1 every line that
can be answered has a free agent waiting for it, so nothing is abandoned unless an agent
leaves. Lines beyond one per free agent are subject to the same hard headroom as the
predictive dialer's (below), so a ratio above 1 cannot breach the limit either.

Predictive
----------
The predictive strategy dials ahead of agents becoming free. At every decision (each
event and each tick) it projects, on a one-second grid ``tau = 0..H`` from now:

* **supply** ``S(t)``: agents free by ``now + t`` - the free agents, plus for each agent in
  wrap-up the probability his wrap-up (elapsed ``w``) ends within ``t``
  (``P(W <= w+t | W > w)`` from the observed wrap-ups), plus for each agent talking the
  probability talk (elapsed ``a``) and then a wrap-up both end within ``t`` (observed talk
  durations, conditioned the same way, convolved with a few wrap-up quantiles). Agents are
  independent Bernoulli terms: mean and variance add up.
* **demand** ``C(t)``: live answers by ``now + t`` that will need an agent - the answered
  calls already waiting, plus for each line in flight (rung ``e`` seconds) the probability
  a person answers it within ``t`` (``G[e][t]`` in :class:`~acd.dialer.forecast.RingStats`,
  from the recent attempts: answer probability and ring-time distribution in one table).
* a **new line** is answered by a person at ``t`` with density ``f(t) = G[0][t] - G[0][t-1]``.

The ``d+1``-th line dialled now is abandoned if, when it is answered at ``t``, the other
answers by then already use every agent free by ``t + grace`` (2 s)::

    risk(d) = sum_t f(t)/P_answer * P( C(t) + d*G[0][t] - S(t + grace) >= 0 )

with the difference treated as normal (mean and variance from the sums above, continuity
corrected). ``risk`` grows with ``d``; the strategy dials the largest ``d`` with
``risk(d) <= target``, the governor's current per-call abandon-risk target. This is the
marginal-risk rule: a line is worth dialling while the chance that *its* answer is
dropped stays under the target, which is what maximises agent talk time for a given
abandonment rate.

Two guards from the governor (:mod:`acd.dialer.governor`) sit on top:

* **feedback** - the governor compares the measured rate of the worse rolling window
  (24 h, 30 days) with the goal and tightens or loosens the target, so forecast errors
  (the normal approximation, drift in the list) are corrected by what actually happened;
* **headroom** - a hard bound: the calls that could still be answered by a person (the
  ones waiting, the lines in flight not yet rung longer than any person has been seen to
  answer, and the new ones) minus the agents free now may not exceed the abandons every
  window can absorb now. An abandon uses one unit of headroom and removes one such call,
  so no window's rate can go over the limit however the answers fall - unless agents
  leave or old answers age out of a window. When even one more abandon would breach the
  limit, or the
  campaign has not yet seen ``min_samples`` attempts and enough talk and wrap-ups to
  forecast from, or an inbound queue it blends with is below its service level, the
  strategy dials progressively (ratio 1, no over-dial) and reports why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .forecast import DurationStats, RingStats
from .governor import AbandonGovernor
from .model import Mode, PredictiveParams


class PacingView(Protocol):
    """What a strategy may read of the campaign (implemented by the pacer)."""

    @property
    def idle_agents(self) -> int: ...
    @property
    def logged_in_agents(self) -> int: ...
    @property
    def agents_on_call(self) -> int: ...
    @property
    def waiting_calls(self) -> int: ...
    @property
    def active_calls(self) -> int: ...
    def ringing_since(self) -> Iterable[float]: ...
    @property
    def wrap_since(self) -> Mapping[str, float]: ...
    @property
    def talk_since(self) -> Mapping[str, float]: ...
    @property
    def ring_stats(self) -> RingStats: ...
    @property
    def talk_stats(self) -> DurationStats: ...
    @property
    def wrap_stats(self) -> DurationStats: ...
    @property
    def governor(self) -> AbandonGovernor: ...
    @property
    def grace_s(self) -> float: ...
    @property
    def blend_slowdown(self) -> bool: ...


@dataclass(frozen=True)
class Plan:
    lines: int
    mode: Mode
    reason: str


class PacingStrategy(Protocol):
    def plan(self, view: PacingView, now: float) -> Plan: ...


def _ringing_count(view: PacingView) -> int:
    return sum(1 for _ in view.ringing_since())


def answerable_ringing(view: PacingView, now: float, min_samples: int) -> int:
    """Lines in flight a person may still answer: those not yet rung longer than any
    person has been seen to answer (plus a second), or every line before there are
    ``min_samples`` observations to say so."""
    ring = view.ring_stats
    if len(ring) < min_samples or ring.last_human_bin < 0:
        return _ringing_count(view)
    last = ring.last_human_bin + 2
    return sum(1 for since in view.ringing_since() if now - since < last + 1)


def headroom_cap(view: PacingView, now: float, answerable: int) -> int:
    """The most new lines such that, even if every call a person may still answer were
    answered with no agent but the free ones, no governor window would go over its
    limit (see :meth:`AbandonGovernor.headroom`). An abandon uses exactly one unit of
    headroom and removes one such call, so the bound holds until the next check."""
    headroom = view.governor.headroom(now)
    return math.floor(headroom + 1e-9) + view.idle_agents - view.waiting_calls - answerable


class ProgressiveStrategy:
    """``ratio`` lines per free agent, counting lines already ringing.

    With ratio 1 no call can be abandoned while agents stay. Above 1 the extra lines are
    held to the governor's headroom, like the predictive dialer's."""

    def __init__(self, ratio: float = 1.0, min_samples: int = 40) -> None:
        if ratio < 1.0:
            raise ValueError("progressive ratio must be at least 1")
        self.ratio = ratio
        self.min_samples = min_samples

    def plan(self, view: PacingView, now: float) -> Plan:
        ratio = 1.0 if view.blend_slowdown else self.ratio
        reason = "blending" if view.blend_slowdown and self.ratio > 1.0 else "configured"
        free = max(0, view.idle_agents - view.waiting_calls)
        ringing = _ringing_count(view)
        safe = max(0, free - ringing)
        lines = max(0, math.floor(ratio * free + 1e-9) - ringing)
        if lines > safe:
            cap = headroom_cap(view, now, answerable_ringing(view, now, self.min_samples))
            if cap < lines:
                lines = max(safe, cap)
                reason = "governor"
        return Plan(lines, Mode.PROGRESSIVE, reason)


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _phi_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def _p_nonneg(mu: float, var: float) -> float:
    """P(D >= 0) for an integer-valued D ~ approximately N(mu, var)."""
    if var <= 1e-12:
        return 1.0 if mu > -0.5 else 0.0
    return _phi_cdf((mu + 0.5) / math.sqrt(var))


def _excess_moments(mu: float, var: float) -> tuple[float, float]:
    """Mean and standard deviation of max(0, D) for D ~ N(mu, var)."""
    if var <= 1e-12:
        m = max(0.0, mu)
        return m, 0.0
    s = math.sqrt(var)
    z = mu / s
    pdf = _INV_SQRT_2PI * math.exp(-0.5 * z * z)
    cdf = _phi_cdf(z)
    m1 = mu * cdf + s * pdf
    m2 = (mu * mu + var) * cdf + mu * s * pdf
    return m1, math.sqrt(max(0.0, m2 - m1 * m1))


class PredictiveStrategy:
    """Dial ahead from forecasts of agent supply and live answers (see module docstring)."""

    def __init__(self, params: PredictiveParams | None = None, max_lines: int | None = None,
                 wrap_quantiles: int = 5) -> None:
        self.params = params or PredictiveParams()
        self.max_lines = max_lines
        self.wrap_quantiles = wrap_quantiles
        self._fallback = ProgressiveStrategy(1.0)
        self.last_risk_target = 0.0
        self._capped = False       # the last forecast was cut by the hard headroom
        self._shape: tuple[list[list[float]], float, list[int], list[float], list[float],
                           list[list[float]]] | None = None

    def plan(self, view: PacingView, now: float) -> Plan:
        p = self.params
        gov = view.governor
        if view.blend_slowdown:
            return self._progressive(view, now, "blending")
        if (len(view.ring_stats) < p.min_samples or len(view.talk_stats) < p.min_samples // 4
                or len(view.wrap_stats) < p.min_samples // 4):
            return self._progressive(view, now, "warming_up")
        headroom = gov.headroom(now)
        if headroom < 1.0:
            return self._progressive(view, now, "governor")
        target = gov.risk_target(now, may_loosen=not self._capped)
        self.last_risk_target = target
        lines = self._lines(view, now, target)
        if lines is None:
            return self._progressive(view, now, "no_answers_observed")
        return Plan(lines, Mode.PREDICTIVE, "forecast")

    def _progressive(self, view: PacingView, now: float, reason: str) -> Plan:
        plan = self._fallback.plan(view, now)
        return Plan(plan.lines, Mode.PROGRESSIVE, reason)

    # ---------------------------------------------------------------- forecast

    @staticmethod
    def _answer_shape(G: list[list[float]], H: int) -> tuple[
            list[list[float]], float, list[int], list[float], list[float], list[list[float]]]:
        """What the forecast needs of a freshly built answer table, computed once per
        build: the answer seconds with any mass, their density and cumulative share for a
        new line, and each in-flight row restricted to those seconds."""
        F = G[0]
        p_answer = F[H]
        taus = [t for t in range(1, H + 1) if F[t] > F[t - 1]]
        dens = [(F[t] - F[t - 1]) / p_answer for t in taus] if p_answer > 0 else []
        f_t = [F[t] for t in taus]
        rows = [[row[t] for t in taus] for row in G]
        return G, p_answer, taus, dens, f_t, rows

    def _lines(self, view: PacingView, now: float, target: float) -> int | None:
        ring = view.ring_stats
        G = ring.table
        E = ring.max_elapsed
        if self._shape is None or self._shape[0] is not G:
            self._shape = self._answer_shape(G, ring.horizon)
        _, p_answer, taus, dens, f_t, rows = self._shape
        if p_answer <= 0.0:
            return None
        n_t = len(taus)

        # Demand from lines in flight, binned by seconds rung.
        by_elapsed = [0] * (E + 1)
        ringing = 0
        for since in view.ringing_since():
            e = int(now - since)
            by_elapsed[min(E, e)] += 1
            ringing += 1
        waiting = view.waiting_calls
        c_mu = [float(waiting)] * n_t
        c_var = [0.0] * n_t
        for e, n in enumerate(by_elapsed):
            if n:
                for i, g in enumerate(rows[e]):
                    c_mu[i] += n * g
                    c_var[i] += n * g * (1.0 - g)

        # Supply: free agents plus those likely to be free by tau + grace.
        grace = view.grace_s
        offsets = [t + grace for t in taus]
        s_mu = [float(view.idle_agents)] * n_t
        s_var = [0.0] * n_t
        wrap = view.wrap_stats
        done_within = wrap.p_done_within
        for since in view.wrap_since.values():
            w = now - since
            for i, h in enumerate(offsets):
                q = done_within(w, h)
                s_mu[i] += q
                s_var[i] += q * (1.0 - q)
        talk = view.talk_stats
        max_h = offsets[-1] if offsets else 0.0
        if view.talk_since and wrap.minimum() < max_h:
            wq = wrap.quantiles(self.wrap_quantiles)
            for since in view.talk_since.values():
                a = now - since
                for i, h in enumerate(offsets):
                    q = sum(talk.p_done_within(a, h - x) for x in wq if x < h) / len(wq)
                    s_mu[i] += q
                    s_var[i] += q * (1.0 - q)

        base_mu = [c_mu[i] - s_mu[i] for i in range(n_t)]
        base_var = [c_var[i] + s_var[i] for i in range(n_t)]

        def risk(d: int) -> float:
            total = 0.0
            for i in range(n_t):
                fi = f_t[i]
                total += dens[i] * _p_nonneg(base_mu[i] + d * fi,
                                             base_var[i] + d * fi * (1.0 - fi))
            return total

        cap = 4 * (view.logged_in_agents + 1) + math.ceil((view.logged_in_agents + 1) / p_answer)
        if self.max_lines is not None:
            cap = min(cap, self.max_lines - view.active_calls)
        if cap <= 0:
            return 0
        # Largest d in [0, cap] with risk(d) <= target: the d-th line (0-based) is the one
        # whose answer competes with d others, so d lines are fine iff risk(d-1) <= target.
        if risk(0) > target:
            lines = 0
        else:
            lo, hi = 0, 1          # risk(lo - 1 + 1) ok: lines >= lo + 1
            while hi <= cap and risk(hi) <= target:
                lo, hi = hi, hi * 2
            hi = min(hi, cap + 1)
            # invariant: risk(lo) <= target, and hi > cap or risk(hi) > target
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if risk(mid) <= target:
                    lo = mid
                else:
                    hi = mid
            lines = min(cap, lo + 1)
        # A dial with a free agent per expected answer is never worse than progressive.
        floor_lines = max(0, view.idle_agents - waiting - ringing)
        lines = max(lines, floor_lines)
        # Hard headroom (see headroom_cap): the forecast never outruns what the governor
        # windows can absorb if every call a person may still answer were dropped.
        allowed = headroom_cap(view, now, answerable_ringing(view, now, self.params.min_samples))
        self._capped = allowed < lines
        return max(floor_lines, min(lines, allowed))

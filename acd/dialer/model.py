"""Configuration and value types of the outbound dialer.

Plain data only: frozen dataclasses built by the config loader or the campaign manager's
REST API and handed to the :class:`~acd.dialer.pacer.Pacer`. No I/O, no clock.

The regulatory numbers live here as validated defaults so that a campaign cannot be
configured out of compliance by accident:

* a live answer must reach an agent within ``abandon_grace_s`` (at most 2 s, the FCC /
  Ofcom figure) or it is abandoned and hears ``abandon_message``;
* an abandoned number is not dialled again by the predictive dialer for 72 hours;
* a line rings at least 15 s before the dialer calls it "no answer";
* the abandonment rate stays at or below ``abandon_limit_pct`` (default 3 %) over the
  last 24 hours and the last 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from enum import Enum
from typing import Any

HOUR = 3600.0
DAY = 24 * HOUR

MIN_RING_S = 15.0                 # ring at least this long before "no answer"
MAX_ABANDON_GRACE_S = 2.0         # a live answer not with an agent by then is abandoned
ABANDON_REDIAL_BLOCK_S = 72 * HOUR  # no predictive redial of an abandoned number


class Mode(str, Enum):
    """How the campaign decides when to dial."""

    MANUAL = "manual"            # the agent dials from the record
    PREVIEW = "preview"          # the record is shown first; the agent calls or skips
    PROGRESSIVE = "progressive"  # dial only for agents free now (ratio lines per agent)
    PREDICTIVE = "predictive"    # dial ahead from forecasts of agents and answers


class AnswerKind(str, Enum):
    HUMAN = "human"
    MACHINE = "machine"


class Outcome(str, Enum):
    """How one dial attempt ended (the audit's ``outcome``)."""

    CONNECTED = "connected"                    # a person talked to an agent
    ABANDONED = "abandoned"                    # live answer with no agent within the grace
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"                        # answering machine detected
    CALLBACK_REQUESTED = "callback_requested"  # agent disposition: call back at a time
    FAILED = "failed"                          # network failure, invalid number...
    DNC = "dnc"                                # blocked at dial time by the do-not-call list


# Outcomes that end an attempt without a conversation and may be retried.
RETRYABLE = frozenset({
    Outcome.BUSY, Outcome.NO_ANSWER, Outcome.MACHINE, Outcome.ABANDONED,
    Outcome.CALLBACK_REQUESTED, Outcome.FAILED,
})


@dataclass(frozen=True)
class Lead:
    """A record to call. ``tz`` is an IANA zone name: calling windows use its local time."""

    id: str
    phone: str
    tz: str
    attempts: int = 0                  # attempts already made (e.g. loaded from the store)
    not_before: float = 0.0            # earliest dial time (epoch seconds)
    last_abandoned_at: float | None = None
    priority: int = 0                  # lower dials first among leads due at the same time
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("lead id must not be empty")
        if not self.phone:
            raise ValueError(f"lead {self.id}: phone must not be empty")


@dataclass(frozen=True)
class CallingWindow:
    """Local-time interval ``[start, end)`` on the given weekdays (Monday = 0)."""

    start: time
    end: time
    weekdays: frozenset[int] = frozenset(range(7))

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"calling window {self.start}-{self.end}: start must be before end")
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise ValueError("calling window weekdays must be a non-empty subset of 0..6")


# US TCPA: 8 am to 9 pm at the called party's location.
DEFAULT_WINDOWS = (CallingWindow(time(8, 0), time(21, 0)),)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a lead again after each outcome, and how often at most.

    ``delays_s`` maps an outcome to the delay before the next attempt. An abandoned call
    is never retried before :data:`ABANDON_REDIAL_BLOCK_S` whatever the table says. A
    callback requested by the customer is honoured at the requested time even when
    ``max_attempts`` is used up (the customer asked for it), up to ``max_callbacks``.
    """

    max_attempts: int = 3
    delays_s: Mapping[Outcome, float] = field(default_factory=lambda: {
        Outcome.BUSY: 15 * 60.0,
        Outcome.NO_ANSWER: 2 * HOUR,
        Outcome.MACHINE: 4 * HOUR,
        Outcome.ABANDONED: ABANDON_REDIAL_BLOCK_S,
        Outcome.FAILED: HOUR,
        Outcome.CALLBACK_REQUESTED: HOUR,
    })
    max_callbacks: int = 2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for outcome, delay in self.delays_s.items():
            if Outcome(outcome) not in RETRYABLE:
                raise ValueError(f"outcome {outcome} is not retryable")
            if delay < 0:
                raise ValueError(f"retry delay for {outcome} is negative")

    def delay_for(self, outcome: Outcome) -> float | None:
        """Seconds until the next attempt, or None when this outcome is not retried."""
        delay = self.delays_s.get(outcome)
        if delay is None:
            return None
        if outcome is Outcome.ABANDONED:
            return max(delay, ABANDON_REDIAL_BLOCK_S)
        return delay


@dataclass(frozen=True)
class BlendPolicy:
    """Inbound/outbound blending: the campaign's agents also serve ``queues``.

    While any of those queues reports a service level below its target the pacer stops
    dialling ahead (predictive behaves progressively, no over-dial) and releases idle
    agents to inbound, one every ``release_interval_s``, up to ``max_release_fraction``
    of the logged-in agents. When every queue is back at target plus
    ``recover_margin_pct`` it reclaims them, one per interval.
    """

    queues: frozenset[str]
    release_interval_s: float = 30.0
    max_release_fraction: float = 0.5
    recover_margin_pct: float = 2.0

    def __post_init__(self) -> None:
        if not self.queues:
            raise ValueError("blend policy needs at least one inbound queue")
        if not 0.0 <= self.max_release_fraction <= 1.0:
            raise ValueError("max_release_fraction must be within 0..1")


@dataclass(frozen=True)
class PredictiveParams:
    """Tuning of the predictive forecast (see :mod:`acd.dialer.predictive`).

    ``min_samples``: attempts and talk/wrap durations observed before the forecast is
    trusted; until then the campaign dials progressively. ``initial_risk`` is the
    governor's first per-call abandon-risk target, as a multiple of the goal rate.
    """

    min_samples: int = 40
    sample_window: int = 600         # recent attempts / durations kept for the forecast
    horizon_s: float = 20.0          # how far ahead agent supply and answers are projected
    initial_risk: float = 3.0
    adjust_interval_s: float = 30.0  # governor feedback period
    adjust_gain: float = 0.15        # log-step of the risk target per period at full error
    prior_answers: float = 150.0     # pseudo-answers at the goal rate smoothing early feedback


@dataclass(frozen=True)
class CampaignConfig:
    id: str
    company: str                       # named in the abandon message
    callback_number: str               # given in the abandon message
    mode: Mode = Mode.PROGRESSIVE
    abandon_limit_pct: float = 3.0
    abandon_goal_pct: float | None = None   # None: two thirds of the limit
    abandon_grace_s: float = MAX_ABANDON_GRACE_S
    ring_timeout_s: float = 20.0
    progressive_ratio: float = 1.0     # lines per free agent in progressive mode
    preview_timeout_s: float = 30.0
    preview_timeout_action: str = "dial"    # "dial" or "skip" when the agent does neither
    preview_skip_delay_s: float = HOUR      # a skipped lead comes back after this
    max_lines: int | None = None       # trunk lines this campaign may hold ringing/active
    machine_action: str = "hangup"     # "hangup" or "message" (leave a recorded message)
    machine_message: str | None = None
    windows: tuple[CallingWindow, ...] = DEFAULT_WINDOWS
    holidays: frozenset[date] = frozenset()   # local dates with no calling at all
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    blend: BlendPolicy | None = None
    predictive: PredictiveParams = field(default_factory=PredictiveParams)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("campaign id must not be empty")
        if not self.company or not self.callback_number:
            raise ValueError("the abandon message must name the company and a call-back number")
        if not 0.0 < self.abandon_limit_pct <= 100.0:
            raise ValueError("abandon_limit_pct must be within (0, 100]")
        goal = self.goal_pct
        if not 0.0 < goal <= self.abandon_limit_pct:
            raise ValueError("abandon_goal_pct must be within (0, abandon_limit_pct]")
        if not 0.0 < self.abandon_grace_s <= MAX_ABANDON_GRACE_S:
            raise ValueError(f"abandon_grace_s must be within (0, {MAX_ABANDON_GRACE_S}]")
        if self.ring_timeout_s < MIN_RING_S:
            raise ValueError(f"ring_timeout_s must be at least {MIN_RING_S} s")
        if self.progressive_ratio < 1.0:
            raise ValueError("progressive_ratio must be at least 1")
        if self.preview_timeout_action not in ("dial", "skip"):
            raise ValueError("preview_timeout_action must be 'dial' or 'skip'")
        if self.machine_action not in ("hangup", "message"):
            raise ValueError("machine_action must be 'hangup' or 'message'")
        if self.preview_timeout_s <= 0:
            raise ValueError("preview_timeout_s must be positive")
        if self.max_lines is not None and self.max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        if not self.windows:
            raise ValueError("a campaign needs at least one calling window")

    @property
    def goal_pct(self) -> float:
        if self.abandon_goal_pct is not None:
            return self.abandon_goal_pct
        return self.abandon_limit_pct * 2.0 / 3.0

    @property
    def abandon_message(self) -> str:
        """What an abandoned call hears: who called and how to call back."""
        return (f"This is {self.company}. We tried to reach you but no one was free to take "
                f"your call. Please call us back on {self.callback_number}.")

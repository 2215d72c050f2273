"""What a campaign is: its definition, its life cycle table, its script and survey.

A campaign manager writes a :class:`CampaignSpec` (through the REST API or the manager
page); the runner turns it into the pacer's :class:`~acd.dialer.model.CampaignConfig` with
:meth:`CampaignSpec.pacer_config`. Validation happens here, once, so that a stored
campaign can always be started: a spec the pacer would refuse is refused at save time.

Life cycle (one table, :data:`TRANSITIONS`; anything missing is illegal)::

    draft --start--> running --pause--> paused --resume--> running
                       |                  |
                       +------stop--------+--stop--> stopped

A stopped campaign stays stopped (its history is kept); copy it to run the list again.
The definition may be edited in any state but ``running``: edits to a running campaign
would change the pacing under calls in flight.

No I/O and no clock here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import time
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from acd.dialer.model import (
    RETRYABLE,
    CallingWindow,
    CampaignConfig,
    Mode,
    Outcome,
    RetryPolicy,
)


class CampaignState(str, Enum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


_S = CampaignState
#: state -> action -> next state. The only place campaign states change.
TRANSITIONS: dict[CampaignState, dict[str, CampaignState]] = {
    _S.DRAFT: {"start": _S.RUNNING, "stop": _S.STOPPED},
    _S.RUNNING: {"pause": _S.PAUSED, "stop": _S.STOPPED},
    _S.PAUSED: {"resume": _S.RUNNING, "stop": _S.STOPPED},
    _S.STOPPED: {},
}

ACTIONS = ("start", "pause", "resume", "stop")


class CampaignError(Exception):
    """A campaign request that cannot be honoured; ``error_id`` is stable for the API."""

    def __init__(self, status: int, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message
        self.details = details


def next_state(state: CampaignState, action: str) -> CampaignState:
    """The state after ``action``, or CampaignError("illegal_transition")."""
    try:
        return TRANSITIONS[state][action]
    except KeyError:
        raise CampaignError(409, "illegal_transition",
                            f"cannot {action} a campaign that is {state.value}",
                            state=state.value, action=action) from None


def editable(state: CampaignState) -> bool:
    return state is not CampaignState.RUNNING


# ------------------------------------------------------------------ definition parts

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_hhmm(value: str) -> time:
    m = _HHMM.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    return time(int(m.group(1)), int(m.group(2)))


class WindowSpec(BaseModel):
    """Local-time calling window of the called party: ``[start, end)`` on ``weekdays``."""

    model_config = ConfigDict(extra="forbid")
    start: str = "08:00"
    end: str = "21:00"
    weekdays: list[int] = Field(default_factory=lambda: list(range(7)))

    @model_validator(mode="after")
    def _check(self) -> WindowSpec:
        self.calling_window()
        return self

    def calling_window(self) -> CallingWindow:
        return CallingWindow(_parse_hhmm(self.start), _parse_hhmm(self.end),
                             frozenset(self.weekdays))


AnswerType = Literal["choice", "yes_no", "number", "text"]


class Question(BaseModel):
    """One survey question. ``choice`` needs ``options``; ``yes_no`` answers yes/no."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    text: str = Field(min_length=1, max_length=1000)
    type: AnswerType = "text"
    options: list[str] = Field(default_factory=list)
    required: bool = False

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.type == "choice" and not self.options:
            raise ValueError(f"question {self.id}: a choice question needs options")
        return self

    def check_answer(self, value: Any) -> Any:
        """The answer normalized, or ValueError saying what is wrong with it."""
        if self.type == "choice":
            if value not in self.options:
                raise ValueError(f"{self.id}: {value!r} is not one of {self.options}")
            return value
        if self.type == "yes_no":
            if isinstance(value, bool):
                return "yes" if value else "no"
            if str(value).lower() in ("yes", "no"):
                return str(value).lower()
            raise ValueError(f"{self.id}: answer yes or no")
        if self.type == "number":
            if isinstance(value, bool):
                raise ValueError(f"{self.id}: a number is expected")
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.id}: a number is expected") from None
        text = str(value)
        if len(text) > 2000:
            raise ValueError(f"{self.id}: the answer is too long")
        return text


class ScriptStep(BaseModel):
    """One step of the agent's script.

    ``text`` is a template over the lead's fields (``Hello {first_name}``; an unknown
    field stays as written). A step may ask a survey ``question``; ``branches`` maps an
    answer to the next step's id, ``next`` is taken otherwise (None: end of script)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=4000)
    question: str | None = None
    branches: dict[str, str] = Field(default_factory=dict)
    next: str | None = None


class _Fields(string.Formatter):
    """str.format that leaves unknown fields as written and never reaches attributes."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if field_name in self.data and self.data[field_name] is not None:
            return str(self.data[field_name]), field_name
        return "{" + field_name + "}", field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        return str(value)


def fill(template: str, data: Mapping[str, Any]) -> str:
    try:
        return _Fields(data).vformat(template, (), {})
    except (ValueError, IndexError):   # unbalanced braces: show the text as written
        return template


DEFAULT_DISPOSITIONS = ["sale", "not_interested", "callback", "wrong_number", "do_not_call"]


class CampaignSpec(BaseModel):
    """The campaign manager's definition of a campaign (stored as JSON)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    queue: str = Field(min_length=1, max_length=64)
    skills: list[str] = Field(default_factory=list)
    mode: Mode = Mode.PROGRESSIVE
    caller_id: str = Field(min_length=1, max_length=40)
    company: str = Field(min_length=1, max_length=200)
    callback_number: str = Field(min_length=1, max_length=40)
    default_region: str = Field("US", min_length=2, max_length=2)
    default_tz: str = "UTC"
    windows: list[WindowSpec] = Field(default_factory=lambda: [WindowSpec()])
    max_attempts: int = Field(3, ge=1, le=50)
    retry_delays_s: dict[Outcome, float] = Field(default_factory=dict)
    max_callbacks: int = Field(2, ge=0, le=20)
    abandon_limit_pct: float = Field(3.0, gt=0, le=100)
    ring_timeout_s: float = Field(20.0, ge=15, le=120)
    progressive_ratio: float = Field(1.0, ge=1, le=5)
    max_lines: int | None = Field(None, ge=1)
    priority: int = 0
    dispositions: list[str] = Field(default_factory=lambda: list(DEFAULT_DISPOSITIONS))
    script: list[ScriptStep] = Field(default_factory=list)
    survey: list[Question] = Field(default_factory=list)

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str) -> str:
        return v.upper()

    @field_validator("default_tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _check(self) -> CampaignSpec:
        for outcome in self.retry_delays_s:
            if outcome not in RETRYABLE:
                raise ValueError(f"outcome {outcome.value} is not retried")
        qids = [q.id for q in self.survey]
        if len(set(qids)) != len(qids):
            raise ValueError("survey question ids must be unique")
        sids = [s.id for s in self.script]
        if len(set(sids)) != len(sids):
            raise ValueError("script step ids must be unique")
        for s in self.script:
            if s.question is not None and s.question not in qids:
                raise ValueError(f"script step {s.id}: no survey question {s.question}")
            for target in [*s.branches.values(), s.next]:
                if target is not None and target not in sids:
                    raise ValueError(f"script step {s.id}: no step {target}")
        if not self.dispositions or len(set(self.dispositions)) != len(self.dispositions):
            raise ValueError("dispositions must be a non-empty list without repeats")
        self.pacer_config("check")   # the pacer's own rules (abandon grace, windows...)
        return self

    def retry_policy(self) -> RetryPolicy:
        delays = dict(RetryPolicy().delays_s)
        delays.update(self.retry_delays_s)
        return RetryPolicy(max_attempts=self.max_attempts, delays_s=delays,
                           max_callbacks=self.max_callbacks)

    def pacer_config(self, campaign_id: str) -> CampaignConfig:
        return CampaignConfig(
            id=campaign_id, company=self.company, callback_number=self.callback_number,
            mode=self.mode, abandon_limit_pct=self.abandon_limit_pct,
            ring_timeout_s=self.ring_timeout_s, progressive_ratio=self.progressive_ratio,
            max_lines=self.max_lines,
            windows=tuple(w.calling_window() for w in self.windows),
            retry=self.retry_policy())

    # ------------------------------------------------------------- script & survey

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.survey if q.id == qid), None)

    def check_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Survey answers normalized; ValueError naming the first bad one."""
        out: dict[str, Any] = {}
        for qid, value in answers.items():
            q = self.question(qid)
            if q is None:
                raise ValueError(f"no survey question {qid}")
            out[qid] = q.check_answer(value)
        missing = [q.id for q in self.survey if q.required and q.id not in out]
        if missing:
            raise ValueError(f"required questions not answered: {', '.join(missing)}")
        return out

    def run_script(self, lead: Mapping[str, Any],
                   answers: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The script as the agent sees it for this lead, following the answers given.

        Steps are filled with the lead's fields. The walk stops at a question not yet
        answered (that step is the last shown), at the end, or at a loop."""
        answers = answers or {}
        by_id = {s.id: s for s in self.script}
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        step = self.script[0] if self.script else None
        while step is not None and step.id not in seen:
            seen.add(step.id)
            q = self.question(step.question) if step.question else None
            entry: dict[str, Any] = {"id": step.id, "text": fill(step.text, lead)}
            if q is not None:
                entry["question"] = q.model_dump()
                entry["answer"] = answers.get(q.id)
            out.append(entry)
            if q is not None:
                if q.id not in answers:
                    break
                target = step.branches.get(str(answers[q.id]), step.next)
            else:
                target = step.next
            step = by_id.get(target) if target else None
        return out

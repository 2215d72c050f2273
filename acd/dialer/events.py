"""What goes into the dialer pacer and what comes out.

Inputs are facts in the past tense (``CallAnswered``); the pacer answers each with a list
of decisions: commands for the I/O layer in the imperative (``Dial``, ``Connect``,
``PlayAbandonMessage``) and notices to journal and publish (``Audit``, ``ScheduleRetry``,
``PacingChanged``)::

    decisions = pacer.handle(CallAnswered(call_id, AnswerKind.HUMAN), now=clock())

Contract with the I/O layer:

* send ``Tick`` about once a second: pacing re-evaluates as agents' wrap-up progresses and
  leads come due (their retry times are kept inside the pacer);
* carry out ``StartTimer`` / ``CancelTimer`` and hand the key back in ``TimerFired``;
* after ``HangUp`` the call is over for the pacer; a later report about it is ignored;
* after ``PlayAbandonMessage`` the following ``HangUp`` (``after_prompt=True``) is executed
  once the message has finished playing;
* after ``ReclaimAgent`` report ``AgentAvailable`` when the agent is free for the campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# The timer primitives are the routing engine's: one I/O layer can serve both cores.
from acd.events import CancelTimer, StartTimer, TimerFired  # noqa: F401  (re-exported)

from .model import AnswerKind, Lead, Mode, Outcome

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class LeadsAdded:
    leads: tuple[Lead, ...]


@dataclass(frozen=True)
class LeadRemoved:
    lead_id: str


@dataclass(frozen=True)
class DncUpdated:
    """Numbers added to / removed from the do-not-call list (checked at dial time)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentAvailable:
    """The agent is logged in and free for campaign work (after wrap-up, back from break)."""

    agent_id: str


@dataclass(frozen=True)
class AgentBusy:
    """The agent is not available to the campaign (not ready, other work)."""

    agent_id: str
    reason: str | None = None


@dataclass(frozen=True)
class AgentLoggedOut:
    agent_id: str


@dataclass(frozen=True)
class ManualDialRequested:
    """Manual mode: the agent pressed "call" on a record."""

    agent_id: str
    lead_id: str


@dataclass(frozen=True)
class PreviewAccepted:
    agent_id: str
    lead_id: str


@dataclass(frozen=True)
class PreviewSkipped:
    agent_id: str
    lead_id: str


@dataclass(frozen=True)
class CallAnswered:
    call_id: str
    kind: AnswerKind


@dataclass(frozen=True)
class CallBusy:
    call_id: str


@dataclass(frozen=True)
class CallNoAnswer:
    """The network gave up ringing (the pacer's own ring timer usually comes first)."""

    call_id: str


@dataclass(frozen=True)
class CallFailed:
    call_id: str
    reason: str | None = None


@dataclass(frozen=True)
class CallConnectedToAgent:
    call_id: str
    agent_id: str


@dataclass(frozen=True)
class CallEnded:
    """The call is over (either side hung up).

    For a conversation, ``disposition`` is the agent's: ``"callback"`` (with
    ``callback_at``, else the retry policy's callback delay) asks for a call back;
    anything else closes the lead as reached. The agent goes to wrap-up. While the call
    still rings it counts as no answer; while a person waits for an agent, as abandoned.
    """

    call_id: str
    disposition: str | None = None
    callback_at: float | None = None


@dataclass(frozen=True)
class InboundServiceLevel:
    """The service level of an inbound queue the campaign's agents also serve."""

    queue_id: str
    sl_pct: float
    target_pct: float


@dataclass(frozen=True)
class ModeRequested:
    """The campaign manager switched the campaign's dialing mode."""

    mode: Mode


@dataclass(frozen=True)
class Tick:
    pass


Event = Union[
    LeadsAdded, LeadRemoved, DncUpdated, AgentAvailable, AgentBusy, AgentLoggedOut,
    ManualDialRequested, PreviewAccepted, PreviewSkipped, CallAnswered, CallBusy,
    CallNoAnswer, CallFailed, CallConnectedToAgent, CallEnded, InboundServiceLevel,
    ModeRequested, Tick, TimerFired,
]

# ------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Dial:
    """Place an outbound call. ``agent_id`` is set when an agent is already on the line
    (manual, preview): such a call cannot be abandoned."""

    call_id: str
    lead_id: str
    phone: str
    ring_timeout_s: float
    mode: Mode
    agent_id: str | None = None


@dataclass(frozen=True)
class Connect:
    """Bridge the answered call to the agent."""

    call_id: str
    agent_id: str


@dataclass(frozen=True)
class PlayAbandonMessage:
    """Play the recorded message naming the company and a call-back number."""

    call_id: str
    text: str


@dataclass(frozen=True)
class PlayMachineMessage:
    call_id: str
    text: str


@dataclass(frozen=True)
class HangUp:
    call_id: str
    reason: str
    after_prompt: bool = False   # wait for the message just requested to finish


@dataclass(frozen=True)
class ShowPreview:
    agent_id: str
    lead_id: str
    timeout_s: float


@dataclass(frozen=True)
class WithdrawPreview:
    agent_id: str
    lead_id: str
    reason: str


@dataclass(frozen=True)
class ReleaseAgent:
    """Blending: lend the agent to an inbound queue."""

    agent_id: str
    queue_id: str


@dataclass(frozen=True)
class ReclaimAgent:
    agent_id: str
    queue_id: str


# ------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class ScheduleRetry:
    lead_id: str
    at: float
    outcome: Outcome
    attempts: int


@dataclass(frozen=True)
class LeadClosed:
    lead_id: str
    reason: str          # "done", "max_attempts", "dnc", "removed", "no_window"
    attempts: int


@dataclass(frozen=True)
class PacingChanged:
    """The mode actually used changed (governor fallback, blending, warm-up)."""

    mode: Mode           # effective mode now
    configured: Mode
    reason: str
    at: float


@dataclass(frozen=True)
class Audit:
    """One record per dial attempt (and per attempt blocked at dial time).

    Written when the attempt is over, so that it holds everything: when it was dialled,
    the lead's local time then, the do-not-call check, the mode, the outcome, whether it
    was abandoned and what the called party heard from us.
    """

    at: float                    # dial time (or block time)
    call_id: str | None
    lead_id: str
    phone: str
    lead_local_time: str         # ISO 8601 with UTC offset, in the lead's zone
    tz: str
    dnc_checked: bool
    dnc_listed: bool
    mode: Mode                   # effective mode used for this dial
    outcome: Outcome
    abandoned: bool
    played: str | None           # the message played to the called party, if any
    agent_id: str | None
    ended_at: float
    answered_at: float | None = None
    connected_at: float | None = None


Decision = Union[
    Dial, Connect, PlayAbandonMessage, PlayMachineMessage, HangUp, ShowPreview,
    WithdrawPreview, ReleaseAgent, ReclaimAgent, StartTimer, CancelTimer, ScheduleRetry,
    LeadClosed, PacingChanged, Audit,
]


class DialerError(Exception):
    """Misuse of the pacer API by the I/O layer (unknown agent, illegal transition).

    Carries a stable ``error_id`` the REST layer can map to an HTTP status.
    """

    def __init__(self, error_id: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details

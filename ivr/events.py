"""What goes into an IVR session and what comes out.

The interpreter (:class:`ivr.session.IvrSession`) is sans-I/O, like the ACD engine:

    actions = session.handle(DtmfReceived("3"), now=clock())
    # -> [StopPlayback(play_id), Trace(...), Play(play_id, files, barge_in), ...]

Inputs are facts from the media plane or the I/O layer, named in the past tense
(``DtmfReceived``, ``PromptFinished``). Outputs are *actions*, named in the imperative
(``Play``, ``Enqueue``) that the I/O layer carries out, plus ``Trace`` notices it may log.

Timer keys are tuples that the I/O layer treats as opaque: it schedules ``StartTimer``
at the absolute time ``at`` (same clock as ``now``), forgets ``CancelTimer`` keys and
hands an expired key back in ``TimerExpired``. A stale key is ignored by the session, so
an I/O layer that misses a cancel is still correct.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CallStarted:
    """The call was answered and the IVR may speak (same as ``session.start``)."""


@dataclass(frozen=True)
class DtmfReceived:
    digit: str  # one of 0-9 * # (A-D are ignored)


@dataclass(frozen=True)
class PromptFinished:
    """A ``Play`` ended by itself (not stopped). Stale ids are ignored."""

    play_id: str


@dataclass(frozen=True)
class TimerExpired:
    key: tuple[Hashable, ...]


@dataclass(frozen=True)
class LookupResult:
    """Answer to a ``Lookup``: exactly one of ``data`` / ``error`` is meaningful.

    ``data=None`` with no error means "nothing found" and takes the error path with
    error ``"not_found"``.
    """

    request_id: str
    data: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class MessageRecorded:
    """The recording asked for by ``RecordMessage`` is complete on disk.

    Delivered even when the caller hung up while speaking (that is how most
    callers end a voice message).
    """

    path: str
    duration: float  # seconds


@dataclass(frozen=True)
class CallerHungUp:
    pass


Event = (
    CallStarted | DtmfReceived | PromptFinished | TimerExpired | LookupResult | MessageRecorded
    | CallerHungUp
)

# ------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Play:
    """Play ``files`` back to back; report ``PromptFinished(play_id)`` at the end.

    ``text``/``lang`` are set instead of files for a text-to-speech segment (a
    ``say: {text: ...}`` item); a media plane without TTS reports it finished at once.
    With ``barge_in`` a DTMF digit interrupts the prompt (the session then sends
    ``StopPlayback``).
    """

    play_id: str
    files: tuple[str, ...]
    barge_in: bool
    text: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class StopPlayback:
    play_id: str


@dataclass(frozen=True)
class CollectDigits:
    """The session now accepts digits for a ``collect`` node.

    Informational for the media plane (flush stale DTMF, make sure detection is on);
    the session itself counts digits from ``DtmfReceived`` and runs the timers.
    """

    collect_id: str
    min_digits: int
    max_digits: int
    terminator: str | None
    first_digit_timeout: float
    inter_digit_timeout: float


@dataclass(frozen=True)
class StartTimer:
    key: tuple[Hashable, ...]
    at: float


@dataclass(frozen=True)
class CancelTimer:
    key: tuple[Hashable, ...]


@dataclass(frozen=True)
class Lookup:
    """Query the CRM / billing side; answer with ``LookupResult(request_id, ...)``."""

    request_id: str
    kind: str                     # e.g. "crm.customer_by_ani", "billing.account"
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Enqueue:
    """Hand the caller (or, with channel "message", a recorded message) to the ACD.

    ``data`` carries what the agent needs: collected values, verified flag, language,
    menu path, lookup results (see docs/ivr.md).
    """

    queue: str
    skills: Mapping[str, int]
    priority: int
    data: Mapping[str, Any]
    channel: str = "voice"        # acd.model.Channel value: "voice" or "message"


@dataclass(frozen=True)
class OfferCallback:
    """Create a callback request that keeps the caller's place.

    ``arrival`` is when the call reached the IVR: the ACD queues the callback as if it
    had been waiting since then.
    """

    queue: str
    number: str
    arrival: float
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordMessage:
    """Record the caller (after a beep when ``beep``) until ``terminator`` or max time."""

    record_id: str
    max_seconds: float
    beep: bool = True
    terminator: str | None = "#"


@dataclass(frozen=True)
class Transfer:
    number: str


@dataclass(frozen=True)
class HangUp:
    pass


@dataclass(frozen=True)
class Trace:
    """A notice for logs and live views; never needs an answer.

    ``detail`` never holds an unmasked collected value.
    """

    event: str        # node, input, invalid, timeout, lookup, outcome, ignored, warning
    node: str | None
    at: float
    detail: Mapping[str, Any] = field(default_factory=dict)


Action = (
    Play | StopPlayback | CollectDigits | StartTimer | CancelTimer | Lookup | Enqueue
    | OfferCallback | RecordMessage | Transfer | HangUp | Trace
)


class Outcome:
    """How an IVR session ended (string constants, used in traces and stats)."""

    SELF_SERVED = "self_served"
    QUEUED = "queued"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"
    MESSAGE = "message"
    CALLBACK = "callback"
    HUNG_UP = "hung_up"

    ALL = (SELF_SERVED, QUEUED, ABANDONED, TRANSFERRED, MESSAGE, CALLBACK, HUNG_UP)

"""What goes into the routing engine and what comes out.

Inputs are facts, named in the past tense (``ContactArrived``); the engine answers each
with a list of decisions. Decisions are either *commands* for the I/O layer, named in the
imperative (``Offer``, ``StartTimer``), or *notices*: state changes the I/O layer journals
and publishes (``ContactUpdated``, ``AgentUpdated``).

    decisions = engine.handle(ContactArrived(contact), now=clock())

Timer keys are tuples whose first element names the timer kind; the I/O layer treats
them as opaque and hands them back in ``TimerFired``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping, Union

from .model import Contact, Outcome, Presence

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class AgentLoggedIn:
    agent_id: str
    device: str                 # "sip:...", "webrtc", "tel:+..."
    site: str | None = None     # where the agent sits for this session (free seating)
    seat: str | None = None


@dataclass(frozen=True)
class AgentLoggedOut:
    agent_id: str
    reason: str | None = None


@dataclass(frozen=True)
class AgentWentReady:
    agent_id: str


@dataclass(frozen=True)
class AgentWentNotReady:
    agent_id: str
    reason: str | None = None


@dataclass(frozen=True)
class ContactArrived:
    contact: Contact
    # When the contact entered its queue, for a restore after restart; the queue's
    # wait-based rules (relaxation, overflow, max wait, SL) count from it. None: now.
    queued_at: float | None = None


@dataclass(frozen=True)
class ContactAbandoned:
    """The customer left (hung up, closed the chat) before or while being offered."""

    contact_id: str


@dataclass(frozen=True)
class ContactCancelled:
    """Withdrawn by an administrator or integration."""

    contact_id: str
    reason: str | None = None


@dataclass(frozen=True)
class OfferAccepted:
    contact_id: str
    agent_id: str


@dataclass(frozen=True)
class OfferRejected:
    contact_id: str
    agent_id: str


@dataclass(frozen=True)
class ContactCompleted:
    """The conversation with the customer ended; the agent goes into wrap-up."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True)
class WrapUpCompleted:
    """The agent finished wrap-up before its timer."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True)
class WrapUpExtended:
    """The agent asked for more wrap-up time: the wrap-up ends ``seconds`` later."""

    contact_id: str
    agent_id: str
    seconds: float


@dataclass(frozen=True)
class TimerFired:
    key: tuple[Hashable, ...]


Event = Union[
    AgentLoggedIn, AgentLoggedOut, AgentWentReady, AgentWentNotReady, ContactArrived,
    ContactAbandoned, ContactCancelled, OfferAccepted, OfferRejected, ContactCompleted,
    WrapUpCompleted, WrapUpExtended, TimerFired,
]

# ------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Offer:
    """Present the contact to the agent (ring the device, pop the chat)."""

    contact_id: str
    agent_id: str
    channel: str
    device: str | None
    timeout_s: float


@dataclass(frozen=True)
class RetractOffer:
    """Stop presenting an offer (ring timeout, customer left, contact cancelled)."""

    contact_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True)
class StartTimer:
    key: tuple[Hashable, ...]
    at: float


@dataclass(frozen=True)
class CancelTimer:
    key: tuple[Hashable, ...]


@dataclass(frozen=True)
class OverflowContact:
    """The contact leaves this ACD's queues: offer a callback, take a voicemail...

    The engine has already ended the contact (``ContactUpdated`` with the outcome);
    the I/O layer carries out the action (e.g. creates the callback contact).
    """

    contact_id: str
    action: str         # OverflowAction value
    target: str | None


# ------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class ContactUpdated:
    contact_id: str
    tenant: str
    queue: str
    state: str                       # ContactState value
    agent_id: str | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    at: float = 0.0
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentUpdated:
    agent_id: str
    tenant: str
    presence: Presence
    reason: str | None = None
    activity: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # contact -> {channel, state}
    at: float = 0.0


Decision = Union[
    Offer, RetractOffer, StartTimer, CancelTimer, OverflowContact, ContactUpdated, AgentUpdated,
]


class EngineError(Exception):
    """Misuse of the engine API by the I/O layer (unknown ids, illegal transition).

    Carries a stable ``error_id`` the REST layer maps to an HTTP status.
    """

    def __init__(self, error_id: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details

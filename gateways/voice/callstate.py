"""The state of one voice call as the control process sees it (sans-I/O).

A *call* is what a caller experiences from INVITE to hang-up. It owns *legs* (SIP dialogs
in one media worker: the caller, the agent, a consult or transfer target) and, while it is
in the ACD, one *contact* (a blind transfer to a queue makes a new contact: a call may
have several, in order).

Phases (one table, :data:`TRANSITIONS`; a missing entry is an error at once)::

    arriving --greet--> greeting --enqueue--> queued --offer--> ringing --answer--> connected
        |--ivr--> ivr --enqueue--> queued        ^ <--requeue-- ringing / connected
        |--enqueue--> queued                     connected --transfer--> transferring
    any live phase --end--> ending --finish--> ended

``outbound`` is the click-to-dial flow (agent leg first, then the number).
Time stamps are plain floats from the caller's clock; nothing here reads a clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

log = logging.getLogger("ipcc.voice")


class Phase(str, Enum):
    ARRIVING = "arriving"          # INVITE in, being answered
    GREETING = "greeting"          # greeting prompt before queueing
    IVR = "ivr"                    # an IVR tree drives the call
    QUEUED = "queued"              # contact waiting in the ACD; music on hold
    RINGING = "ringing"            # agent leg being placed (caller still on hold music)
    CONNECTED = "connected"        # caller and agent (or a transfer target) bridged
    TRANSFERRING = "transferring"  # blind transfer to a number/agent leg, not answered yet
    OUTBOUND = "outbound"          # click-to-dial: agent leg, then the number
    ENDING = "ending"              # hanging up what is left
    ENDED = "ended"                # CDR written


class CallStateError(Exception):
    """An event the call's phase does not allow (a gateway bug, never peer input)."""


_LIVE = (Phase.ARRIVING, Phase.GREETING, Phase.IVR, Phase.QUEUED, Phase.RINGING,
         Phase.CONNECTED, Phase.TRANSFERRING, Phase.OUTBOUND)

TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (Phase.ARRIVING, "greet"): Phase.GREETING,
    (Phase.ARRIVING, "ivr"): Phase.IVR,
    (Phase.ARRIVING, "enqueue"): Phase.QUEUED,
    (Phase.GREETING, "enqueue"): Phase.QUEUED,
    (Phase.IVR, "enqueue"): Phase.QUEUED,
    (Phase.IVR, "transfer"): Phase.TRANSFERRING,
    (Phase.QUEUED, "offer"): Phase.RINGING,
    (Phase.QUEUED, "enqueue"): Phase.QUEUED,       # overflow / re-entry
    (Phase.RINGING, "answer"): Phase.CONNECTED,
    (Phase.RINGING, "requeue"): Phase.QUEUED,      # no answer, reject, retract
    (Phase.CONNECTED, "requeue"): Phase.QUEUED,    # blind transfer to a queue / an agent
    (Phase.CONNECTED, "transfer"): Phase.TRANSFERRING,
    (Phase.CONNECTED, "answer"): Phase.CONNECTED,  # consult completed: new party
    (Phase.TRANSFERRING, "answer"): Phase.CONNECTED,
    (Phase.TRANSFERRING, "requeue"): Phase.QUEUED,  # target did not answer
    (Phase.OUTBOUND, "answer"): Phase.CONNECTED,
    **{(p, "end"): Phase.ENDING for p in _LIVE},
    (Phase.ENDING, "end"): Phase.ENDING,
    (Phase.ENDING, "finish"): Phase.ENDED,
}


def advance(phase: Phase, event: str, call_id: str = "") -> Phase:
    nxt = TRANSITIONS.get((phase, event))
    if nxt is None:
        raise CallStateError(f"call {call_id}: {event!r} not allowed in phase {phase.value}")
    return nxt


def allowed(phase: Phase, event: str) -> bool:
    return (phase, event) in TRANSITIONS


@dataclass
class Leg:
    """One SIP dialog of a call."""

    id: str
    role: str                      # caller | agent | consult | transfer | outbound
    direction: str                 # in | out
    uri: str = ""
    agent_id: str | None = None
    created_at: float = 0.0
    ringing_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    end_code: int | None = None
    end_reason: str | None = None
    ended_by: str | None = None    # local | remote | crash
    stats: dict[str, Any] | None = None
    retracted: bool = False        # we hung it up on purpose (retract, transfer, cancel)
    held: bool = False
    muted: bool = False

    @property
    def live(self) -> bool:
        return self.ended_at is None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "direction": self.direction, "uri": self.uri,
                "agent_id": self.agent_id, "created_at": self.created_at,
                "ringing_at": self.ringing_at, "answered_at": self.answered_at,
                "ended_at": self.ended_at, "end_code": self.end_code,
                "end_reason": self.end_reason, "ended_by": self.ended_by,
                "held": self.held, "muted": self.muted, "stats": self.stats}


@dataclass
class VoiceCall:
    """Everything the gateway knows about one call; the CDR is built from it."""

    id: str
    tenant: str
    worker_id: str
    arrival: float
    ani: str = ""
    dnis: str = ""
    sip_call_id: str = ""
    reservation: str | None = None
    direction: str = "inbound"
    phase: Phase = Phase.ARRIVING
    legs: dict[str, Leg] = field(default_factory=dict)
    caller_leg: str | None = None
    agent_leg: str | None = None        # the agent currently talking to / being rung for
    consult_leg: str | None = None
    transfer_leg: str | None = None
    contact_id: str | None = None       # the live contact in the ACD
    contacts: list[str] = field(default_factory=list)
    queue: str | None = None
    queues: list[str] = field(default_factory=list)
    agent_id: str | None = None
    agents: list[str] = field(default_factory=list)
    bridge: str | None = None
    conference: bool = False
    # time stamps (the CDR's "timestamps")
    answered_at: float | None = None    # caller leg answered by us
    ivr_at: float | None = None
    ivr_ended_at: float | None = None
    queued_at: float | None = None
    offered_at: float | None = None
    agent_answered_at: float | None = None
    ended_at: float | None = None
    # outcome
    outcome: str | None = None
    hangup_side: str | None = None      # caller | agent | system | target
    hangup_cause: str | None = None
    ivr_outcome: str | None = None
    ivr_trace: dict[str, Any] | None = None
    transfers: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ phase

    def move(self, event: str) -> Phase:
        """The one place the phase changes (logged here, with the call id)."""
        old = self.phase
        self.phase = advance(old, event, self.id)
        if self.phase is not old:
            log.debug("call %s: %s --%s--> %s", self.id, old.value, event, self.phase.value)
        return self.phase

    @property
    def live(self) -> bool:
        return self.phase in _LIVE

    # ------------------------------------------------------------------ legs

    def add_leg(self, leg: Leg) -> Leg:
        self.legs[leg.id] = leg
        return leg

    def leg(self, leg_id: str | None) -> Leg | None:
        return self.legs.get(leg_id) if leg_id else None

    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.live]

    def end_leg(self, leg_id: str, at: float, *, code: int | None = None,
                reason: str | None = None, by: str | None = None,
                stats: dict[str, Any] | None = None) -> Leg | None:
        leg = self.legs.get(leg_id)
        if leg is None or not leg.live:
            return None
        leg.ended_at = at
        leg.end_code, leg.end_reason, leg.ended_by = code, reason, by
        if stats:
            leg.stats = stats
        return leg

    def set_outcome(self, outcome: str, side: str | None = None,
                    cause: str | None = None) -> None:
        """First decision wins: later hang-ups of the other legs do not overwrite it."""
        if self.outcome is None:
            self.outcome = outcome
        if self.hangup_side is None and side is not None:
            self.hangup_side = side
        if self.hangup_cause is None and cause is not None:
            self.hangup_cause = cause

    def add_contact(self, contact_id: str, queue: str) -> None:
        self.contact_id = contact_id
        self.contacts.append(contact_id)
        self.queue = queue
        if queue not in self.queues:
            self.queues.append(queue)

    def add_agent(self, agent_id: str) -> None:
        self.agent_id = agent_id
        if agent_id not in self.agents:
            self.agents.append(agent_id)

    def view(self) -> dict[str, Any]:
        """What GET /api/v1/calls/{id} shows."""
        return {"call_id": self.id, "tenant": self.tenant, "direction": self.direction,
                "phase": self.phase.value, "ani": self.ani, "dnis": self.dnis,
                "contact_id": self.contact_id, "contacts": list(self.contacts),
                "queue": self.queue, "agent_id": self.agent_id, "worker": self.worker_id,
                "bridge": self.bridge, "conference": self.conference,
                "caller_leg": self.caller_leg, "agent_leg": self.agent_leg,
                "consult_leg": self.consult_leg, "transfer_leg": self.transfer_leg,
                "legs": [leg.to_json() for leg in self.legs.values()],
                "arrival": self.arrival, "answered_at": self.answered_at,
                "queued_at": self.queued_at, "offered_at": self.offered_at,
                "agent_answered_at": self.agent_answered_at, "ended_at": self.ended_at,
                "outcome": self.outcome}

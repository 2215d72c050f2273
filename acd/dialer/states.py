"""The dialer's state machines, as data: one table per machine.

``CALL[state][event] -> next state`` for an outbound call and ``AGENT[state][event]`` for
an agent as the campaign sees him. A missing entry is an illegal transition, raised at
once by :func:`step`; the pacer changes states only through it, so a diagram drawn from
these tables is the whole truth.

Call states::

    DIALING --answered_human--> WAITING --agent_assigned--> CONNECTING --connected--> CONNECTED
       |                          |                            |                        |
       |                          +--grace_expired--> ABANDONING --ended--> ENDED        |
       +--answered_machine/busy/no_answer/failed/ring_timeout/ended--> ENDED <--ended---+

A call dialled for an agent already on the line (manual, preview) goes from DIALING to
CONNECTING on ``answered_human`` through ``agent_assigned`` in the same step.
"""

from __future__ import annotations

from enum import Enum

from .events import DialerError


class CallState(str, Enum):
    DIALING = "dialing"          # ringing, not yet resolved
    WAITING = "waiting"          # a person answered; no agent yet (grace timer running)
    CONNECTING = "connecting"    # Connect sent, bridge not yet confirmed
    CONNECTED = "connected"      # talking to an agent
    ABANDONING = "abandoning"    # playing the abandon message
    ENDED = "ended"


class AgentState(str, Enum):
    LOGGED_OUT = "logged_out"
    IDLE = "idle"                # free for the campaign
    PREVIEWING = "previewing"    # looking at a record (preview mode)
    DIALING = "dialing"          # on the line of his own dial (manual, preview)
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    AWAY = "away"                # logged in, not available to the campaign
    RELEASED = "released"        # lent to an inbound queue (blending)


_C = CallState
CALL: dict[CallState, dict[str, CallState]] = {
    _C.DIALING: {
        "answered_human": _C.WAITING,
        "answered_machine": _C.ENDED,
        "busy": _C.ENDED,
        "no_answer": _C.ENDED,
        "ring_timeout": _C.ENDED,
        "failed": _C.ENDED,
        "ended": _C.ENDED,
    },
    _C.WAITING: {
        "agent_assigned": _C.CONNECTING,
        "grace_expired": _C.ABANDONING,
        "ended": _C.ENDED,               # the person hung up while waiting
    },
    _C.CONNECTING: {
        "connected": _C.CONNECTED,
        "ended": _C.ENDED,
    },
    _C.CONNECTED: {
        "connected": _C.CONNECTED,       # duplicate confirmation
        "ended": _C.ENDED,
    },
    _C.ABANDONING: {
        "ended": _C.ENDED,
    },
    _C.ENDED: {},
}

_A = AgentState
_ANY_PRESENT = {"busy": _A.AWAY, "logged_out": _A.LOGGED_OUT}
AGENT: dict[AgentState, dict[str, AgentState]] = {
    _A.LOGGED_OUT: {"available": _A.IDLE, "busy": _A.AWAY, "logged_out": _A.LOGGED_OUT},
    _A.IDLE: {
        "available": _A.IDLE, "preview": _A.PREVIEWING, "own_dial": _A.DIALING,
        "assigned": _A.ON_CALL, "release": _A.RELEASED, **_ANY_PRESENT,
    },
    _A.PREVIEWING: {
        "skip": _A.IDLE, "own_dial": _A.DIALING, "withdraw": _A.IDLE, **_ANY_PRESENT,
    },
    _A.DIALING: {"assigned": _A.ON_CALL, "call_lost": _A.IDLE, **_ANY_PRESENT},
    _A.ON_CALL: {"call_ended": _A.WRAP_UP, **_ANY_PRESENT},
    _A.WRAP_UP: {"available": _A.IDLE, **_ANY_PRESENT},
    _A.AWAY: {"available": _A.IDLE, **_ANY_PRESENT},
    _A.RELEASED: {
        # While lent to inbound the agent's inbound comings and goings are not ours.
        "available": _A.RELEASED, "busy": _A.RELEASED, "reclaim": _A.AWAY,
        "logged_out": _A.LOGGED_OUT,
    },
}


def step(table: dict[CallState, dict[str, CallState]] | dict[AgentState, dict[str, AgentState]],
         state: CallState | AgentState, event: str, entity: str) -> CallState | AgentState:
    """The next state, or DialerError("illegal_transition") when the table has none."""
    try:
        return table[state][event]  # type: ignore[index]
    except KeyError:
        raise DialerError("illegal_transition", f"{entity}: no '{event}' from {state.value}",
                          entity=entity, state=state.value, event=event) from None

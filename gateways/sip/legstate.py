"""The life of one call leg inside a media worker, as one transition table.

Why a table: the worker obeys primitives from the control process (answer, hangup, hold)
and reports what SIP did (ringing, confirmed, disconnected). Both kinds of input move the
same small machine; keeping every legal move in one dict makes an illegal primitive
(``answer`` on a leg that is already up, ``hold`` on a ringing leg) an error by
construction, and lets the docs draw the diagram from the data.

Inputs are named for what happened: ``ring``/``answer``/``hangup``/``hold``/``resume`` are
primitives the worker carried out; ``progress``/``confirmed``/``disconnected`` come from
the SIP stack.
"""

from __future__ import annotations

from enum import Enum


class LegState(str, Enum):
    INCOMING = "incoming"     # inbound INVITE seen, not answered (maybe 180/183 sent)
    CALLING = "calling"       # outbound INVITE sent, no provisional response yet
    EARLY = "early"           # outbound: 18x received
    ANSWERING = "answering"   # inbound: 200 sent, waiting for ACK
    ANSWERED = "answered"     # dialog confirmed, media flowing
    HELD = "held"             # we put the leg on hold (re-INVITE sendonly)
    ENDING = "ending"         # we sent BYE / CANCEL / final error response
    ENDED = "ended"


class IllegalTransition(Exception):
    def __init__(self, state: LegState, event: str) -> None:
        super().__init__(f"cannot {event} a leg that is {state.value}")
        self.state = state
        self.event = event


S = LegState
_END = {"hangup": S.ENDING, "disconnected": S.ENDED}

TRANSITIONS: dict[LegState, dict[str, LegState]] = {
    S.INCOMING: {"ring": S.INCOMING, "answer": S.ANSWERING, "confirmed": S.ANSWERED, **_END},
    S.CALLING: {"progress": S.EARLY, "confirmed": S.ANSWERED, **_END},
    S.EARLY: {"progress": S.EARLY, "confirmed": S.ANSWERED, **_END},
    S.ANSWERING: {"confirmed": S.ANSWERED, **_END},
    S.ANSWERED: {"hold": S.HELD, "confirmed": S.ANSWERED, **_END},
    S.HELD: {"resume": S.ANSWERED, "confirmed": S.HELD, **_END},
    S.ENDING: {"disconnected": S.ENDED, "confirmed": S.ENDING, "progress": S.ENDING},
    S.ENDED: {},
}


def next_state(state: LegState, event: str) -> LegState:
    """The state after ``event``; raises :class:`IllegalTransition` if not allowed."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise IllegalTransition(state, event) from None


def can(state: LegState, event: str) -> bool:
    return event in TRANSITIONS[state]


#: States in which the leg has (or may have) a media stream worth mixing.
LIVE = frozenset({S.INCOMING, S.CALLING, S.EARLY, S.ANSWERING, S.ANSWERED, S.HELD})

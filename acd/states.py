"""Transition tables of the routing core's state machines, as data.

Three machines, one table each (``state -> event name -> next state``):

* agent **presence**, set by the agent or a supervisor (logged out / ready / not ready);
* agent **activity**, set by the system, one instance per contact the agent holds
  (``None`` means "not holding this contact");
* **contact** state, from queued to ended.

The engine changes a state only through :func:`advance`, so a missing entry is an
``EngineError("illegal_transition")`` at once instead of a silently inconsistent
engine. :func:`to_mermaid` draws a table for the docs, so the diagram cannot drift from
the code.

Design choices the tables encode:

* ``login`` leads to NOT_READY: an agent logs in and then says it is ready
  (the server replays ``AgentLoggedIn`` then ``AgentWentReady`` on restore).
* ``ready`` while already READY and ``not_ready`` while NOT_READY are allowed
  (idempotent / a new reason); ``ready`` while LOGGED_OUT is illegal.
* ``no_answer`` (ring timeout past the queue's threshold) moves READY to NOT_READY; it is
  also accepted in NOT_READY (the agent went not-ready while the offer was ringing).
* A contact ``abandon`` while CONNECTED means the customer hung up during the
  conversation: it goes to wrap-up like ``complete``. In WRAP_UP / ENDED it is illegal.
* ``cancel`` only applies before the contact is connected.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from .events import EngineError
from .model import Activity, ContactState, Presence

S = TypeVar("S", bound=Hashable)

PRESENCE: Mapping[Presence, Mapping[str, Presence]] = {
    Presence.LOGGED_OUT: {
        "login": Presence.NOT_READY,
    },
    Presence.NOT_READY: {
        "ready": Presence.READY,
        "not_ready": Presence.NOT_READY,
        "no_answer": Presence.NOT_READY,
        "logout": Presence.LOGGED_OUT,
    },
    Presence.READY: {
        "ready": Presence.READY,
        "not_ready": Presence.NOT_READY,
        "no_answer": Presence.NOT_READY,
        "logout": Presence.LOGGED_OUT,
    },
}

# ``None``: the agent does not hold the contact (before the offer / after release).
ACTIVITY: Mapping[Activity | None, Mapping[str, Activity | None]] = {
    None: {
        "offer": Activity.OFFERED,
    },
    Activity.OFFERED: {
        "accept": Activity.BUSY,
        "reject": None,
        "no_answer": None,
        "retract": None,
    },
    Activity.BUSY: {
        "complete": Activity.WRAP_UP,
    },
    Activity.WRAP_UP: {
        "wrapup_done": None,
    },
}

CONTACT: Mapping[ContactState, Mapping[str, ContactState]] = {
    ContactState.QUEUED: {
        "offer": ContactState.OFFERED,
        "move": ContactState.QUEUED,        # overflow to another queue
        "abandon": ContactState.ENDED,
        "cancel": ContactState.ENDED,
        "time_out": ContactState.ENDED,
        "overflow": ContactState.ENDED,     # callback / voicemail: leaves the ACD
    },
    ContactState.OFFERED: {
        "accept": ContactState.CONNECTED,
        "reject": ContactState.QUEUED,
        "no_answer": ContactState.QUEUED,
        "requeue": ContactState.QUEUED,     # agent logged out / removed while ringing
        "abandon": ContactState.ENDED,
        "cancel": ContactState.ENDED,
    },
    ContactState.CONNECTED: {
        "complete": ContactState.WRAP_UP,
        "abandon": ContactState.WRAP_UP,
    },
    ContactState.WRAP_UP: {
        "wrapup_done": ContactState.ENDED,
    },
    ContactState.ENDED: {},
}

TABLES: Mapping[str, Mapping[Any, Mapping[str, Any]]] = {"presence": PRESENCE, "activity": ACTIVITY, "contact": CONTACT}


def advance(table: Mapping[S, Mapping[str, S]], state: S, event: str, entity_id: str) -> S:
    """The next state, or ``EngineError("illegal_transition")`` if the table has no entry."""
    try:
        return table[state][event]
    except KeyError:
        machine = next((n for n, t in TABLES.items() if t is table), "state")
        shown = getattr(state, "value", state)
        raise EngineError(
            "illegal_transition",
            f"{machine} of {entity_id}: '{event}' is not allowed in state {shown!r}",
            machine=machine, entity_id=entity_id, state=shown, event=event,
        ) from None


def allowed(table: Mapping[S, Mapping[str, S]], state: S, event: str) -> bool:
    """Whether ``event`` is legal in ``state`` (for callers that branch instead of raising)."""
    return event in table.get(state, {})


def to_mermaid(name: str) -> str:
    """A Mermaid ``stateDiagram-v2`` of one table, for docs/ (drawn from the data)."""
    table = TABLES[name]
    lines = ["stateDiagram-v2"]
    for state, edges in table.items():
        src = "[*]" if state is None else getattr(state, "value", state)
        for event, nxt in edges.items():
            dst = "[*]" if nxt is None else getattr(nxt, "value", nxt)
            lines.append(f"    {src} --> {dst}: {event}")
    return "\n".join(lines)

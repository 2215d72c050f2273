"""One web chat conversation as plain data: state, messages, receipts (sans-I/O).

The gateway feeds this object facts (a message arrived, the ACD connected an agent, the
visitor left) with the time passed in; it never reads the clock or does I/O. Message ids
are made by the caller, so the same inputs always give the same state.

Idempotence: a sender's ``client_id`` names its message. A message sent twice (a retry
after a lost acknowledgement, a second tab) maps to the first one, so the other side sees
it once. The map is per sender, so a visitor cannot shadow an agent's message.

Conversation states (one table, :data:`TRANSITIONS`)::

    new --queued--> waiting --connected--> active --ended--> ended
     |                 ^  |                  |  ^
     |                 |  +--no_agents--+    |  |connected (re-offer after a transfer)
     |                 +---transferred--|----+  |
     +--no_agents--> offline <----------+       |
                       |--left_message--> ended |
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SENDERS = ("visitor", "agent", "system")

# state -> event -> next state; a missing entry is an illegal transition.
TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "new": {"queued": "waiting", "no_agents": "offline", "ended": "ended"},
    "waiting": {"connected": "active", "no_agents": "offline", "ended": "ended",
                "queued": "waiting"},
    "active": {"connected": "active", "transferred": "waiting", "ended": "ended"},
    "offline": {"left_message": "ended", "ended": "ended", "queued": "waiting"},
    "ended": {},
}


class ChatError(Exception):
    """A request the conversation cannot take; ``error_id`` is stable for clients."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class Attachment:
    name: str
    mime: str
    size: int


@dataclass(frozen=True)
class Message:
    id: str
    conversation: str
    seq: int
    sender: str          # visitor | agent | system
    text: str
    at: float
    client_id: str | None = None
    agent_id: str | None = None
    attachment: Attachment | None = None

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "conversation": self.conversation,
                               "seq": self.seq, "sender": self.sender, "text": self.text,
                               "at": self.at, "client_id": self.client_id,
                               "agent_id": self.agent_id}
        if self.attachment is not None:
            out["attachment"] = {"name": self.attachment.name, "mime": self.attachment.mime,
                                 "size": self.attachment.size}
        return out


@dataclass
class Conversation:
    id: str
    tenant: str
    queue: str
    created_at: float
    visitor: dict[str, Any] = field(default_factory=dict)  # name, email, topic
    state: str = "new"
    contact_id: str | None = None
    agent_id: str | None = None
    ended_at: float | None = None
    messages: list[Message] = field(default_factory=list)
    read_up_to: dict[str, int] = field(default_factory=lambda: {"visitor": 0, "agent": 0})
    _by_client: dict[tuple[str, str], Message] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ state

    def transition(self, event: str, now: float) -> str:
        """Apply ``event``; raise :class:`ChatError` when the table has no such entry."""
        nxt = TRANSITIONS[self.state].get(event)
        if nxt is None:
            raise ChatError("bad_state", f"conversation {self.id} is {self.state}; "
                                         f"cannot take {event!r}")
        self.state = nxt
        if nxt == "ended" and self.ended_at is None:
            self.ended_at = now
        return nxt

    def can(self, event: str) -> bool:
        return event in TRANSITIONS[self.state]

    @property
    def open(self) -> bool:
        return self.state != "ended"

    # --------------------------------------------------------------- messages

    def find_client(self, sender: str, client_id: str | None) -> Message | None:
        if not client_id:
            return None
        return self._by_client.get((sender, client_id))

    def add_message(self, *, msg_id: str, sender: str, text: str, now: float,
                    client_id: str | None = None, agent_id: str | None = None,
                    attachment: Attachment | None = None) -> tuple[Message, bool]:
        """Append a message; ``(message, True)`` when new, ``(first copy, False)`` when the
        sender already sent this ``client_id``."""
        if sender not in SENDERS:
            raise ChatError("bad_sender", f"unknown sender {sender!r}")
        old = self.find_client(sender, client_id)
        if old is not None:
            return old, False
        if self.state == "ended" and sender != "system":
            raise ChatError("conversation_ended", "the conversation has ended")
        m = Message(id=msg_id, conversation=self.id, seq=self.last_seq + 1, sender=sender,
                    text=text, at=now, client_id=client_id or None, agent_id=agent_id,
                    attachment=attachment)
        self.messages.append(m)
        if m.client_id:
            self._by_client[(sender, m.client_id)] = m
        return m, True

    def restore_message(self, m: Message) -> None:
        """Put back a stored message (load after a restart); keeps seq order."""
        self.messages.append(m)
        self.messages.sort(key=lambda x: x.seq)
        if m.client_id:
            self._by_client[(m.sender, m.client_id)] = m

    def discard(self, msg_id: str) -> None:
        """Forget a message whose store write failed (the sender retries with its id)."""
        for i, m in enumerate(self.messages):
            if m.id == msg_id:
                del self.messages[i]
                if m.client_id:
                    self._by_client.pop((m.sender, m.client_id), None)
                return

    @property
    def last_seq(self) -> int:
        return self.messages[-1].seq if self.messages else 0

    def since(self, seq: int) -> list[Message]:
        """Messages after ``seq`` (what a resuming client has not seen)."""
        return [m for m in self.messages if m.seq > seq]

    def mark_read(self, reader: str, seq: int) -> bool:
        """Record that ``reader`` saw everything up to ``seq``; True when that moved."""
        if reader not in self.read_up_to:
            raise ChatError("bad_sender", f"unknown reader {reader!r}")
        seq = min(int(seq), self.last_seq)
        if seq <= self.read_up_to[reader]:
            return False
        self.read_up_to[reader] = seq
        return True

    def view(self, with_messages: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "tenant": self.tenant, "queue": self.queue,
                               "state": self.state, "contact_id": self.contact_id,
                               "agent_id": self.agent_id, "visitor": dict(self.visitor),
                               "created_at": self.created_at, "ended_at": self.ended_at,
                               "last_seq": self.last_seq, "read": dict(self.read_up_to)}
        if with_messages:
            out["messages"] = [m.view() for m in self.messages]
        return out

    def transcript(self) -> str:
        """Plain text, one line per message (what the visitor receives by e-mail)."""
        who = {"visitor": self.visitor.get("name") or "You", "agent": "Agent",
               "system": "--"}
        lines = []
        for m in self.messages:
            text = m.text
            if m.attachment is not None:
                text = f"{text} [file: {m.attachment.name}, {m.attachment.size} bytes]".strip()
            lines.append(f"[{_hhmm(m.at)}] {who.get(m.sender, m.sender)}: {text}")
        return "\n".join(lines) + "\n"


def _hhmm(at: float) -> str:
    s = int(at) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ---------------------------------------------------------------- resume tokens

def resume_token(key: bytes, conversation_id: str, issued_at: float) -> str:
    """A bearer token that lets a visitor (after a reload) reattach to a conversation."""
    body = f"{conversation_id}.{int(issued_at)}"
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:18]
    return body + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_resume(key: bytes, token: str, now: float, ttl_s: float) -> str | None:
    """The conversation id a token names, or None when forged, malformed or expired."""
    try:
        conv, issued, mac = token.rsplit(".", 2)
        issued_at = int(issued)
    except (ValueError, AttributeError):
        return None
    want = resume_token(key, conv, issued_at).rsplit(".", 1)[1]
    if not hmac.compare_digest(want, mac):
        return None
    if now - issued_at > ttl_s:
        return None
    return conv


# ------------------------------------------------------------------ estimates

def estimate_wait(position: int, staffed: int, asa_s: float | None,
                  per_contact_s: float = 90.0) -> float | None:
    """Estimated wait in seconds for the ``position``-th waiting visitor.

    With no staffed agent there is no estimate. Otherwise the queue's average speed of
    answer when known, scaled by position, else a fixed handling time per agent."""
    if position <= 0:
        return 0.0
    if staffed <= 0:
        return None
    if asa_s is not None and asa_s > 0:
        return round(asa_s * position / max(1.0, staffed / 2), 1)
    return round(per_contact_s * position / staffed, 1)

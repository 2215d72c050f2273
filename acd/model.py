"""Configuration and value types of the routing core.

Everything here is plain data: frozen dataclasses built by the config loader or the
REST API and handed to the engine. No I/O, no clock.

Channels and media
------------------
A contact has a *channel* (how the customer reached us). Capacity is counted per
*media*: a callback and a WebRTC call both occupy the agent's voice capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping


class Channel(str, Enum):
    VOICE = "voice"
    WEBRTC = "webrtc"
    CALLBACK = "callback"
    CHAT = "chat"
    COBROWSE = "cobrowse"
    EMAIL = "email"
    SMS = "sms"
    FAX = "fax"
    MESSAGE = "message"  # voicemail / left message

    @property
    def media(self) -> str:
        """The capacity bucket this channel consumes."""
        return _MEDIA[self]


_MEDIA = {
    Channel.VOICE: "voice",
    Channel.WEBRTC: "voice",
    Channel.CALLBACK: "voice",
    Channel.CHAT: "chat",
    Channel.COBROWSE: "chat",
    Channel.EMAIL: "email",
    Channel.SMS: "sms",
    Channel.FAX: "email",
    Channel.MESSAGE: "email",
}

MEDIA = ("voice", "chat", "email", "sms")

DEFAULT_CAPACITY: Mapping[str, int] = {"voice": 1, "chat": 3, "email": 2, "sms": 3}
DEFAULT_WRAPUP_S: Mapping[str, float] = {"voice": 30.0, "chat": 15.0, "email": 30.0, "sms": 10.0}


class Presence(str, Enum):
    """Set by the agent (or a supervisor)."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"


class Activity(str, Enum):
    """Set by the system, per contact the agent holds."""

    OFFERED = "offered"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class ContactState(str, Enum):
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


class Outcome(str, Enum):
    ANSWERED = "answered"          # handled by an agent
    ABANDONED = "abandoned"        # customer left while queued or ringing
    TIMED_OUT = "timed_out"        # max wait reached with no overflow target
    OVERFLOWED = "overflowed"      # moved out of this ACD (voicemail, message)
    CALLBACK = "callback"          # turned into a callback request
    CANCELLED = "cancelled"        # withdrawn by an administrator / integration
    LOST_ON_CRASH = "lost_on_crash"


class Strategy(str, Enum):
    LONGEST_IDLE = "longest-idle"
    MOST_SKILLED = "most-skilled"
    LEAST_OCCUPIED = "least-occupied"
    ROUND_ROBIN = "round-robin"


class OverflowAction(str, Enum):
    QUEUE = "queue"          # move to another queue, keeping arrival time
    CALLBACK = "callback"    # offer / convert to a callback (keeps place)
    VOICEMAIL = "voicemail"  # take a message; the contact leaves the ACD


@dataclass(frozen=True)
class Relaxation:
    """After `after_s` seconds of waiting: lower every required level by
    `lower_levels` (never below 1) and/or also accept agents of `add_queues`."""

    after_s: float
    lower_levels: int = 0
    add_queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overflow:
    after_s: float
    action: OverflowAction
    target: str | None = None  # queue id for QUEUE


@dataclass(frozen=True)
class QueueConfig:
    id: str
    tenant: str
    name: str = ""
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    priority: int = 0                  # added to every contact's own priority
    aging_per_min: float = 1.0         # effective priority gained per minute waited
    sl_target_pct: float = 80.0
    sl_threshold_s: float = 20.0
    ring_timeout_s: float = 20.0
    max_wait_s: float | None = None
    site_widen_after_s: float | None = 30.0  # same site first, any site after
    relaxations: tuple[Relaxation, ...] = ()
    overflows: tuple[Overflow, ...] = ()
    no_answer_threshold: int = 1       # consecutive ring-no-answers before not-ready
    wrapup_s: Mapping[str, float] | None = None  # overrides the agent's per-media wrap-up

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("queue id must not be empty")
        for skill, level in self.skills.items():
            if not 1 <= int(level) <= 10:
                raise ValueError(f"queue {self.id}: skill {skill} level {level} not in 1..10")


@dataclass(frozen=True)
class AgentConfig:
    id: str
    tenant: str
    name: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> level 1..10
    home_site: str | None = None
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    wrapup_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WRAPUP_S))
    voice_exclusive: bool = True       # a voice contact excludes concurrent digital work
    value_tiers: tuple[str, ...] = ()  # empty: serves every tier

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("agent id must not be empty")
        for skill, level in self.skills.items():
            if not 1 <= int(level) <= 10:
                raise ValueError(f"agent {self.id}: skill {skill} level {level} not in 1..10")
        for media, n in self.capacity.items():
            if int(n) < 0:
                raise ValueError(f"agent {self.id}: capacity for {media} is negative")


@dataclass(frozen=True)
class Customer:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Contact:
    """A customer's request for service as the engine sees it."""

    id: str
    tenant: str
    channel: Channel
    queue: str
    arrival: float                      # seconds (any epoch, same as `now`)
    priority: int = 0
    skills: Mapping[str, int] | None = None  # None: the queue's requirement
    value_tier: str | None = None
    site: str | None = None             # origin location, for site preference
    customer: Customer = field(default_factory=Customer)
    data: Mapping[str, Any] = field(default_factory=dict)  # IVR-collected etc.
    preferred_agent: str | None = None  # e.g. a callback for a given agent

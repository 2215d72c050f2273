"""The configuration file, as a schema.

A config file (YAML) has two parts: ``server`` (where ipcc listens and which external
services it uses) and ``tenants`` (the companies this center answers for, with their
skills, queues, agents, users and dialled numbers). The tenants part *seeds* the store:
a tenant found in the config but not in the store is created on start; once a tenant
exists, the store (edited through the REST API) is the source of truth.

Every model forbids unknown keys so that a typo is an error naming the key, not a
silently ignored setting.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from acd.model import DEFAULT_CAPACITY, DEFAULT_WRAPUP_S, OverflowAction, Strategy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class TrunkSettings(_Strict):
    """Where calls to phone numbers go: a SIP gateway/provider reached by URI template."""

    uri_template: str = Field(min_length=5)  # e.g. "sip:{number}@192.0.2.10:5060"
    from_uri: str | None = None  # From of calls placed through the trunk

    @field_validator("uri_template")
    @classmethod
    def _template(cls, v: str) -> str:
        if not v.startswith(("sip:", "sips:")) or "{number}" not in v:
            raise ValueError("uri_template must be a sip: URI containing {number}")
        return v


class SipSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(5060, ge=0, le=65535)
    # Voice service (gateways/voice): media worker pool + inbound call flow.
    enabled: bool = True
    workers: int = Field(1, ge=0)          # media workers started with the server
    max_workers: int = Field(8, ge=1)      # the pool grows up to this many (4 legs each)
    moh: str | None = None                 # music-on-hold WAV; None: the shipped one
    announce_every_s: float = Field(30.0, ge=0)  # position / wait announcements; 0: off
    stats_interval_s: float = Field(5.0, ge=0)   # RTP statistics per leg (for CDRs)
    worker_poll_ms: int = Field(10, ge=1, le=50)  # pjsua2 event polling period per worker
    ivr_dir: str = "config/ivr"            # IVR trees (relative: to the working directory)
    trunk: TrunkSettings | None = None     # tel: devices, transfers to numbers, click-to-dial


class StoreSettings(_Strict):
    url: str | None = None  # None: SQLite file in the data directory


class BusSettings(_Strict):
    # "embedded": start the built-in broker on a free loopback port;
    # "none": publish nothing; else mqtt://[user:pass@]host:port
    url: str = "embedded"
    outbox_size: int = Field(10_000, ge=10)
    topic_prefix: str = "ipcc"


class AuthSettings(_Strict):
    secret: str | None = None  # None: generated once and kept in the data directory
    token_ttl_s: int = Field(8 * 3600, ge=60)


class ChatTopicDef(_Strict):
    """A pre-chat form choice: the topic the visitor picks decides queue and skills."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = ""
    queue: str = Field(min_length=1)
    skills: dict[str, int] | None = None


class ChatSmtpSettings(_Strict):
    """The relay transcripts are e-mailed through."""

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    sender: str = "chat@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = Field(10.0, gt=0)


class ChatSettings(_Strict):
    """Web chat (gateways/chat): the visitor WebSocket endpoint and its limits.

    ``allowed_origins`` maps a tenant id (or ``"*"`` for every tenant) to the page origins
    allowed to open the widget's WebSocket; a tenant with no entry accepts only this
    server's own web origin."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)  # 0: a free port
    allowed_origins: dict[str, list[str]] = {}
    topics: dict[str, list[ChatTopicDef]] = {}  # tenant -> pre-chat topics
    canned: dict[str, list[str]] = {}           # tenant -> canned agent responses
    max_message_chars: int = Field(4000, ge=1)
    max_attachment_bytes: int = Field(2_000_000, ge=1)
    attachment_types: list[str] = ["image/png", "image/jpeg", "image/gif",
                                   "application/pdf", "text/plain"]
    connections_per_ip_per_min: float = Field(60.0, gt=0)
    connection_burst: int = Field(20, ge=1)
    messages_per_s: float = Field(5.0, gt=0)  # per conversation
    message_burst: int = Field(20, ge=1)
    resume_ttl_s: float = Field(24 * 3600.0, gt=0)
    smtp: ChatSmtpSettings | None = None      # None: no transcripts by e-mail


class ServerSettings(_Strict):
    http: HttpSettings = HttpSettings()
    sip: SipSettings = SipSettings()
    store: StoreSettings = StoreSettings()
    bus: BusSettings = BusSettings()
    auth: AuthSettings = AuthSettings()
    chat: ChatSettings = ChatSettings()
    default_tenant: str | None = None  # for log-ins that name no tenant; default: the first


class SkillDef(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = ""


class RelaxationDef(_Strict):
    after_s: float = Field(ge=0)
    lower_levels: int = Field(0, ge=0, le=9)
    add_queues: list[str] = []


class OverflowDef(_Strict):
    after_s: float = Field(ge=0)
    action: OverflowAction
    target: str | None = None

    @model_validator(mode="after")
    def _target_for_queue(self) -> "OverflowDef":
        if self.action is OverflowAction.QUEUE and not self.target:
            raise ValueError("overflow to a queue needs a target queue")
        return self


class QueueDef(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = ""
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: dict[str, int] = {}
    priority: int = 0
    aging_per_min: float = Field(1.0, ge=0)
    sl_target_pct: float = Field(80.0, ge=0, le=100)
    sl_threshold_s: float = Field(20.0, gt=0)
    ring_timeout_s: float = Field(20.0, gt=0)
    max_wait_s: float | None = Field(None, gt=0)
    site_widen_after_s: float | None = Field(30.0, ge=0)
    relaxations: list[RelaxationDef] = []
    overflows: list[OverflowDef] = []
    no_answer_threshold: int = Field(1, ge=1)
    wrapup_s: dict[str, float] | None = None
    dispositions: list[str] = []

    @field_validator("skills")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        for skill, level in v.items():
            if not 1 <= level <= 10:
                raise ValueError(f"skill {skill!r}: level {level} is not in 1..10")
        return v


class AgentDef(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str = ""
    password: str | None = None  # creates/updates the agent's user (role agent)
    skills: dict[str, int] = {}
    site: str | None = None
    capacity: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    wrapup_s: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WRAPUP_S))
    voice_exclusive: bool = True
    value_tiers: list[str] = []

    @field_validator("skills")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        for skill, level in v.items():
            if not 1 <= level <= 10:
                raise ValueError(f"skill {skill!r}: level {level} is not in 1..10")
        return v

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, v: dict[str, int]) -> dict[str, int]:
        for media, n in v.items():
            if media not in DEFAULT_CAPACITY:
                raise ValueError(f"unknown media {media!r} (one of {', '.join(DEFAULT_CAPACITY)})")
            if n < 0:
                raise ValueError(f"capacity for {media} must not be negative")
        return v


class UserDef(_Strict):
    username: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1)
    role: Literal["admin", "supervisor", "agent"]
    agent_id: str | None = None


class DnisDef(_Strict):
    """Where a dialled number leads: straight to a queue, or into an IVR tree."""

    queue: str | None = None
    ivr: str | None = None
    greeting: str | None = None  # prompt played before queueing (no IVR)

    @model_validator(mode="after")
    def _one_target(self) -> "DnisDef":
        if not (self.queue or self.ivr):
            raise ValueError("a DNIS entry needs a queue or an ivr")
        return self


class TenantDef(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = ""
    operator: bool = False  # may administer other tenants (the hosting center)
    language: str = "en"
    sites: list[str] = []
    not_ready_reasons: list[str] = ["break", "lunch", "meeting", "training", "no answer"]
    skills: list[SkillDef] = []
    queues: list[QueueDef] = []
    agents: list[AgentDef] = []
    users: list[UserDef] = []
    dnis: dict[str, DnisDef] = {}

    @model_validator(mode="after")
    def _references(self) -> "TenantDef":
        skills = {s.id for s in self.skills}
        queues = {q.id for q in self.queues}
        problems: list[str] = []
        for q in self.queues:
            problems += [f"queue {q.id}: unknown skill {s!r}" for s in q.skills if s not in skills]
            for o in q.overflows:
                if o.target and o.action is OverflowAction.QUEUE and o.target not in queues:
                    problems.append(f"queue {q.id}: overflow to unknown queue {o.target!r}")
            for r in q.relaxations:
                problems += [f"queue {q.id}: relaxation adds unknown queue {x!r}"
                             for x in r.add_queues if x not in queues]
        for a in self.agents:
            problems += [f"agent {a.id}: unknown skill {s!r}" for s in a.skills if s not in skills]
            if self.sites and a.site and a.site not in self.sites:
                problems.append(f"agent {a.id}: unknown site {a.site!r}")
        for number, d in self.dnis.items():
            if d.queue and d.queue not in queues:
                problems.append(f"dnis {number}: unknown queue {d.queue!r}")
        for kind, ids in (("queue", [q.id for q in self.queues]),
                          ("agent", [a.id for a in self.agents]),
                          ("skill", [s.id for s in self.skills])):
            dup = {i for i in ids if ids.count(i) > 1}
            problems += [f"duplicate {kind} id {i!r}" for i in sorted(dup)]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Settings(_Strict):
    server: ServerSettings = ServerSettings()
    tenants: list[TenantDef] = []

    @model_validator(mode="after")
    def _unique_tenants(self) -> "Settings":
        ids = [t.id for t in self.tenants]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate tenant ids: {', '.join(dup)}")
        return self

    @property
    def default_tenant(self) -> str | None:
        if self.server.default_tenant:
            return self.server.default_tenant
        return self.tenants[0].id if self.tenants else None

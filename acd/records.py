"""The engine's mutable state records: one per agent, contact and queue.

These are private to the engine (``acd.engine``); they are plain slotted classes, not
frozen dataclasses, because the hot path mutates them on every event. Views for the
outside world are built by the engine as dicts.
"""

from __future__ import annotations

import math
from typing import Any

from .indexes import AgentPool, Requirement, WaitEntry, requirement
from .model import (
    MEDIA,
    Activity,
    AgentConfig,
    Contact,
    ContactState,
    Outcome,
    OverflowAction,
    Presence,
    QueueConfig,
)
from .stats import QueueCounters


class AgentRec:
    """An agent: config, presence (set by the agent) and the contacts it holds."""

    __slots__ = (
        "cap",
        "cap_total",
        "cfg",
        "contacts",
        "device",
        "held",
        "held_total",
        "id",
        "idle_since",
        "missed",
        "pools",
        "presence",
        "reason",
        "seat",
        "session_site",
        "since",
        "skills",
        "tenant",
        "tiers",
        "voice_exclusive",
    )

    def __init__(self, cfg: AgentConfig) -> None:
        self.presence = Presence.LOGGED_OUT
        self.reason: str | None = None
        self.device: str | None = None
        self.session_site: str | None = None
        self.seat: str | None = None
        self.since = 0.0
        # contact id -> [channel value, Activity]
        self.contacts: dict[str, list[Any]] = {}
        self.held: dict[str, int] = {m: 0 for m in MEDIA}
        self.held_total = 0
        self.idle_since = 0.0
        self.missed = 0                        # consecutive ring-no-answers
        self.pools: dict[AgentPool, None] = {}
        self.configure(cfg)

    def configure(self, cfg: AgentConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.tenant = cfg.tenant
        self.skills = dict(cfg.skills)
        self.cap = {m: int(cfg.capacity.get(m, 0)) for m in MEDIA}
        self.cap_total = sum(self.cap.values())
        self.voice_exclusive = cfg.voice_exclusive
        self.tiers = frozenset(cfg.value_tiers)

    @property
    def site(self) -> str | None:
        """Session site (free seating) if logged in with one, else the home site."""
        return self.session_site if self.session_site is not None else self.cfg.home_site

    def available(self, media: str) -> bool:
        """Ready, a free slot in ``media``, and the voice-exclusive rule allows it."""
        if self.presence is not Presence.READY:
            return False
        held = self.held
        if held[media] >= self.cap.get(media, 0):
            return False
        if self.voice_exclusive:
            if media == "voice":
                return self.held_total == held["voice"]
            return held["voice"] == 0
        return True

    def serves_tier(self, tier: str | None) -> bool:
        return not self.tiers or (tier is not None and tier in self.tiers)

    def activity_snapshot(self) -> dict[str, dict[str, str]]:
        return {cid: {"channel": ch, "state": act.value} for cid, (ch, act) in self.contacts.items()}

    def status(self) -> str:
        """One word for supervisor counts: logged_out, busy, wrap_up, offered, ready, not_ready."""
        if self.presence is Presence.LOGGED_OUT and not self.contacts:
            return "logged_out"
        acts = [a for _ch, a in self.contacts.values()]
        if Activity.BUSY in acts:
            return "busy"
        if Activity.WRAP_UP in acts:
            return "wrap_up"
        if Activity.OFFERED in acts:
            return "offered"
        if self.presence is Presence.READY:
            return "ready"
        if self.presence is Presence.LOGGED_OUT:
            return "logged_out"
        return "not_ready"


class Step:
    """One relaxation step of a queue: in force from ``after_s`` seconds of waiting."""

    __slots__ = ("add_queues", "after_s", "index", "lower", "pools")

    def __init__(self, index: int, after_s: float, lower: int, add_queues: tuple[str, ...]):
        self.index = index
        self.after_s = after_s
        self.lower = lower
        self.add_queues = add_queues
        self.pools: list[AgentPool] = []   # pinned by the queue (for default-skill contacts)


class QueueRec:
    __slots__ = (
        "aging",
        "base_pool",
        "base_priority",
        "cfg",
        "custom_waiting",
        "id",
        "overflows",
        "pinned",
        "req",
        "rr_last",
        "score_skills",
        "stats",
        "steps",
        "tenant",
    )

    def __init__(self, cfg: QueueConfig) -> None:
        self.stats = QueueCounters()
        self.rr_last: str | None = None
        self.custom_waiting = 0        # waiting contacts with their own skill requirement
        self.pinned: list[AgentPool] = []
        self.base_pool: AgentPool | None = None
        self.configure(cfg)

    def configure(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.tenant = cfg.tenant
        self.req: Requirement = requirement(cfg.skills)
        self.score_skills = tuple(s for s, _ in self.req)
        self.aging = float(cfg.aging_per_min)
        self.base_priority = int(cfg.priority)
        # Relaxation steps are cumulative: levels lowered by the largest lower_levels in
        # force, added queues are the union of all steps in force.
        steps = [Step(0, 0.0, 0, ())]
        lower = 0
        adds: tuple[str, ...] = ()
        for i, r in enumerate(sorted(cfg.relaxations, key=lambda r: r.after_s), start=1):
            lower = max(lower, int(r.lower_levels))
            adds = tuple(dict.fromkeys(adds + tuple(r.add_queues)))
            steps.append(Step(i, float(r.after_s), lower, adds))
        self.steps = steps
        self.overflows = tuple(sorted(cfg.overflows, key=lambda o: o.after_s))

    def step_at(self, waited_from: float, now: float) -> tuple[Step, float]:
        """The step in force at ``now`` and when the next one starts (``inf`` if none)."""
        current = self.steps[0]
        for step in self.steps[1:]:
            if waited_from + step.after_s <= now:
                current = step
            else:
                return current, waited_from + step.after_s
        return current, math.inf


class ContactRec:
    """A live contact: where it waits, who it is offered to, its timers and history."""

    __slots__ = (
        "agent_id",
        "answered_at",
        "arrival",
        "base",
        "c",
        "channel",
        "custom",
        "custom_pools",
        "ended_at",
        "entry",
        "excluded",
        "id",
        "media",
        "moves",
        "offers",
        "outcome",
        "ovf_done",
        "pools",
        "preferred",
        "queue",
        "queued_at",
        "reason",
        "req",
        "ring_gen",
        "seq",
        "site_restricted",
        "state",
        "step",
        "step_from",
        "step_until",
        "tenant",
        "tier",
        "wait_at",
        "wait_gen",
        "wrapup_until",
    )

    def __init__(self, c: Contact, seq: int, queued_at: float) -> None:
        self.c = c
        self.id = c.id
        self.tenant = c.tenant
        self.channel = c.channel.value
        self.media = c.channel.media
        self.queue = c.queue
        self.state = ContactState.QUEUED
        self.outcome: Outcome | None = None
        self.wrapup_until: float | None = None
        self.agent_id: str | None = None
        self.seq = seq
        self.arrival = float(c.arrival)
        self.queued_at = queued_at
        self.base = 0.0
        self.entry: WaitEntry | None = None
        self.excluded: dict[str, float] = {}   # agent id -> not re-offered before
        self.step: Step | None = None
        self.step_from = math.inf
        self.step_until = -math.inf
        self.site_restricted = False
        self.pools: list[AgentPool] = []
        self.custom = c.skills is not None
        self.custom_pools: list[AgentPool] = []
        self.req: Requirement = ()
        self.wait_gen = 0
        self.wait_at: float | None = None      # armed wait timer's time
        self.ring_gen = 0
        self.offers: list[dict[str, Any]] = []  # explanations, newest last
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.ovf_done = 0                       # overflows of this queue already applied
        self.moves = 0
        self.reason: str | None = None
        self.tier = c.value_tier
        self.preferred = c.preferred_agent

    def invalidate_step(self) -> None:
        self.step_until = -math.inf

    def effective_priority(self, q: QueueRec, now: float) -> float:
        return self.base + q.aging * (now - self.arrival) / 60.0


OVERFLOW_OUTCOME = {
    OverflowAction.CALLBACK: Outcome.CALLBACK,
    OverflowAction.VOICEMAIL: Outcome.OVERFLOWED,
}

"""Between the config/API shapes (plain dicts) and the engine's frozen configs."""

from __future__ import annotations

from typing import Any, Mapping

from acd.model import (AgentConfig, Overflow, OverflowAction, QueueConfig, Relaxation,
                       Strategy)

from .schema import AgentDef, QueueDef


def queue_config(tenant: str, d: QueueDef | Mapping[str, Any]) -> QueueConfig:
    q = d if isinstance(d, QueueDef) else QueueDef.model_validate(dict(d))
    return QueueConfig(
        id=q.id, tenant=tenant, name=q.name or q.id, strategy=Strategy(q.strategy),
        skills=dict(q.skills), priority=q.priority, aging_per_min=q.aging_per_min,
        sl_target_pct=q.sl_target_pct, sl_threshold_s=q.sl_threshold_s,
        ring_timeout_s=q.ring_timeout_s, max_wait_s=q.max_wait_s,
        site_widen_after_s=q.site_widen_after_s,
        relaxations=tuple(Relaxation(r.after_s, r.lower_levels, tuple(r.add_queues))
                          for r in q.relaxations),
        overflows=tuple(Overflow(o.after_s, OverflowAction(o.action), o.target)
                        for o in q.overflows),
        no_answer_threshold=q.no_answer_threshold,
        wrapup_s=dict(q.wrapup_s) if q.wrapup_s is not None else None,
    )


def agent_config(tenant: str, d: AgentDef | Mapping[str, Any]) -> AgentConfig:
    a = d if isinstance(d, AgentDef) else AgentDef.model_validate(dict(d))
    return AgentConfig(
        id=a.id, tenant=tenant, name=a.name or a.id, skills=dict(a.skills), home_site=a.site,
        capacity=dict(a.capacity), wrapup_s=dict(a.wrapup_s),
        voice_exclusive=a.voice_exclusive, value_tiers=tuple(a.value_tiers),
    )


def stored_agent(d: AgentDef) -> dict[str, Any]:
    """What the store keeps for an agent: everything but the password."""
    return d.model_dump(mode="json", exclude={"password"})

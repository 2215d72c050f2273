"""The MQTT payloads of docs/events.md, built in one place.

Every bus message is flat JSON with ``event``, ``at``, ``tenant`` and
``correlation_id`` (the bus adds a unique ``id`` per message for de-duplication); the
field lists here are the reference's. The browser WebSocket carries the engine's notices
in its own envelope (see docs/api.md) and does not go through this module.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import events as ev

VERSION = "0.1.0"


def _enum(v: Any) -> Any:
    return getattr(v, "value", v)


def contact_state(d: ev.ContactUpdated, channel: str | None,
                  correlation_id: str | None) -> dict[str, Any]:
    return {"event": "contact.state", "at": d.at, "tenant": d.tenant,
            "correlation_id": correlation_id or d.contact_id, "contact_id": d.contact_id,
            "channel": channel, "state": d.state, "queue": d.queue, "agent": d.agent_id,
            "outcome": _enum(d.outcome), "reason": d.reason, "details": dict(d.details)}


def offer(d: ev.Offer, tenant: str, at: float, queue: str | None,
          customer: Mapping[str, Any] | None, data: Mapping[str, Any] | None,
          correlation_id: str | None) -> dict[str, Any]:
    cust = dict(customer or {})
    return {"event": "contact.offer", "at": at, "tenant": tenant,
            "correlation_id": correlation_id or d.contact_id, "contact_id": d.contact_id,
            "agent": d.agent_id, "channel": d.channel, "queue": queue, "device": d.device,
            "timeout_s": d.timeout_s,
            "customer": {k: cust.get(k) for k in ("id", "name", "phone", "email")},
            "data": dict(data or {})}


def offer_retracted(d: ev.RetractOffer, tenant: str, at: float,
                    correlation_id: str | None) -> dict[str, Any]:
    return {"event": "contact.offer_retracted", "at": at, "tenant": tenant,
            "correlation_id": correlation_id or d.contact_id, "contact_id": d.contact_id,
            "agent": d.agent_id, "reason": d.reason}


def agent_state(d: ev.AgentUpdated, view: Mapping[str, Any]) -> dict[str, Any]:
    logged_out = _enum(d.presence) == "logged_out"
    return {"event": "agent.state", "at": d.at, "tenant": d.tenant, "correlation_id": None,
            "agent_id": d.agent_id, "presence": _enum(d.presence), "reason": d.reason,
            "device": None if logged_out else view.get("device"),
            "site": None if logged_out else view.get("site"),
            "activity": {k: dict(v) for k, v in d.activity.items()}}


def queue_stats(tenant: str, at: float, stats: Mapping[str, Any],
                period_start: float) -> dict[str, Any]:
    keys = ("waiting", "longest_wait_s", "service_level_pct", "sl_threshold_s",
            "sl_target_pct", "asa_s", "offered", "answered", "abandoned")
    agents = dict(stats.get("agents") or {})
    agents["logged_in"] = sum(n for k, n in agents.items() if k != "logged_out")
    return {"event": "queue.stats", "at": at, "tenant": tenant, "correlation_id": None,
            "queue_id": stats.get("queue_id")} | {k: stats.get(k) for k in keys} | {
            "agents": agents, "period_start": period_start}


def health(node: str, at: float, started_at: float,
           components: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    statuses = [c.get("status", "ok") for c in components.values()]
    status = "ok" if all(s == "ok" for s in statuses) else "degraded"
    return {"event": "system.health", "at": at, "correlation_id": None, "node": node,
            "status": status, "components": {k: dict(v) for k, v in components.items()},
            "version": VERSION, "started_at": started_at}

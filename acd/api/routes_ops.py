"""Operations: log-in, agent presence, contacts, queue views, backups."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from acd import events as ev
from acd.auth import Principal, verify_password
from acd.model import Channel

from .deps import Admin, Caller, ServerDep, Supervisor
from .errors import ApiError

router = APIRouter()


# --------------------------------------------------------------------- auth

class TokenIn(BaseModel):
    username: str = Field(min_length=1)
    password: str
    tenant: str | None = None  # or "user@tenant"; default: the configured default tenant


@router.post("/auth/token")
async def token(body: TokenIn, server: ServerDep) -> dict[str, Any]:
    username, tenant = body.username, body.tenant
    if tenant is None and "@" in username:
        username, tenant = username.rsplit("@", 1)
    tenant = tenant or server.settings.default_tenant
    user = await server.store.get_user(tenant, username) if tenant in server.tenants else None
    if user is None or not verify_password(body.password, user["password_hash"]):
        raise ApiError(401, "invalid_credentials", "unknown user or wrong password")
    assert server.tokens is not None
    p = Principal(username, tenant, user["role"], user.get("agent_id"),
                  server.tenants[tenant].operator)
    return {"access_token": server.tokens.issue(p), "token_type": "bearer",
            "expires_in": server.tokens.ttl_s, "tenant": tenant, "role": p.role,
            "agent_id": p.agent_id}


@router.get("/me")
async def me(p: Caller) -> dict[str, Any]:
    return {"username": p.username, "tenant": p.tenant, "role": p.role, "agent_id": p.agent_id}


# ------------------------------------------------------------------- agents

async def _own_agent(server: Any, p: Principal, agent_id: str) -> None:
    if await server.store.get_agent(p.tenant, agent_id) is None:
        raise ApiError(404, "agent_not_found", f"no agent {agent_id!r}")
    if not p.can_act_for_agent(agent_id):
        raise ApiError(403, "forbidden", "agents act only for themselves")


class LoginIn(BaseModel):
    device: str = Field(min_length=1, description="sip:user@host, webrtc, or tel:+number")
    site: str | None = None
    seat: str | None = None


def _check_device(device: str) -> None:
    if device == "webrtc" or device.startswith(("sip:", "sips:", "tel:")):
        return
    raise ApiError(422, "invalid_device", "device must be a sip: URI, 'webrtc' or a tel: number",
                   device=device)


@router.post("/agents/{agent_id}/login")
async def agent_login(agent_id: str, body: LoginIn, p: Caller,
                      server: ServerDep) -> dict[str, Any]:
    await _own_agent(server, p, agent_id)
    _check_device(body.device)
    sites = server.tenants[p.tenant].sites
    if body.site and sites and body.site not in sites:
        raise ApiError(422, "unknown_site", f"unknown site {body.site!r}", sites=sites)
    server.handle(ev.AgentLoggedIn(agent_id, body.device, body.site, body.seat))
    return server.engine.agent_view(agent_id)


@router.post("/agents/{agent_id}/logout")
async def agent_logout(agent_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    await _own_agent(server, p, agent_id)
    reason = None if p.agent_id == agent_id else f"by {p.username}"
    server.handle(ev.AgentLoggedOut(agent_id, reason))
    return server.engine.agent_view(agent_id)


class StateIn(BaseModel):
    state: Literal["ready", "not_ready"]
    reason: str | None = None


@router.put("/agents/{agent_id}/state")
async def agent_state(agent_id: str, body: StateIn, p: Caller,
                      server: ServerDep) -> dict[str, Any]:
    await _own_agent(server, p, agent_id)
    if body.state == "ready":
        server.handle(ev.AgentWentReady(agent_id))
    else:
        reasons = server.tenants[p.tenant].not_ready_reasons
        if body.reason and reasons and body.reason not in reasons:
            raise ApiError(422, "unknown_reason", f"unknown not-ready reason {body.reason!r}",
                           reasons=reasons)
        server.handle(ev.AgentWentNotReady(agent_id, body.reason))
    return server.engine.agent_view(agent_id)


@router.get("/agents/{agent_id}/state")
async def agent_state_get(agent_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    await _own_agent(server, p, agent_id)
    return server.engine.agent_view(agent_id)


# ----------------------------------------------------------------- contacts

class CustomerIn(BaseModel):
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    id: str | None = Field(None, max_length=100)


class ContactIn(BaseModel):
    channel: Channel
    queue: str
    priority: int = Field(0, ge=-1000, le=1000)
    customer: CustomerIn = CustomerIn()
    skills: dict[str, int] | None = None
    value_tier: str | None = None
    site: str | None = None
    data: dict[str, Any] = {}
    callback_of: str | None = Field(None, description="keep the place of this earlier contact")
    preferred_agent: str | None = None


@router.post("/contacts", status_code=201)
async def create_contact(body: ContactIn, p: Caller, server: ServerDep) -> dict[str, Any]:
    if await server.store.get_queue(p.tenant, body.queue) is None:
        raise ApiError(422, "unknown_queue", f"no queue {body.queue!r}", queue=body.queue)
    for skill, level in (body.skills or {}).items():
        if not 1 <= level <= 10:
            raise ApiError(422, "validation_error", f"skill {skill!r} level must be 1..10")
    arrival = None
    data = dict(body.data)
    if body.callback_of:
        original = await server.store.get_contact(body.callback_of)
        if original is None or original["tenant"] != p.tenant:
            raise ApiError(422, "unknown_contact", f"no contact {body.callback_of!r}")
        arrival = original["arrival"]
        data["callback_of"] = body.callback_of
    cid = await server.create_contact(
        p.tenant, channel=body.channel.value, queue=body.queue, priority=body.priority,
        customer=body.customer.model_dump(exclude_none=True), data=data, skills=body.skills,
        value_tier=body.value_tier, site=body.site, arrival=arrival,
        preferred_agent=body.preferred_agent)
    return {"id": cid}


async def _contact(server: Any, p: Principal, contact_id: str) -> dict[str, Any]:
    row = await server.store.get_contact(contact_id)
    if row is None or row["tenant"] != p.tenant:
        raise ApiError(404, "contact_not_found", f"no contact {contact_id!r}")
    return row  # type: ignore[no-any-return]


@router.get("/contacts/{contact_id}")
async def get_contact(contact_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    row = await _contact(server, p, contact_id)
    out = {k: row.get(k) for k in ("id", "tenant", "channel", "queue", "priority", "arrival",
                                   "state", "outcome", "agent_id", "customer", "seq")}
    out["routing"] = {k: row.get(k) for k in ("skills", "value_tier", "site", "preferred_agent")}
    out["data"] = row.get("data") or {}
    try:
        view = server.engine.contact_view(contact_id)
        out |= {k: v for k, v in view.items() if k in ("state", "outcome", "agent_id", "queue",
                                                       "effective_priority", "position")}
        out["explanation"] = server.engine.explain(contact_id)
    except ev.EngineError:
        out["explanation"] = row.get("explanation")
    from acd.server import jsonable

    return jsonable(out)  # type: ignore[no-any-return]


class AgentAction(BaseModel):
    agent_id: str | None = None  # default: the calling agent


async def _acting_agent(server: Any, p: Principal, body: AgentAction | None) -> str:
    agent_id = (body.agent_id if body else None) or p.agent_id
    if not agent_id:
        raise ApiError(422, "validation_error", "agent_id is required")
    await _own_agent(server, p, agent_id)
    return agent_id


@router.post("/contacts/{contact_id}/accept")
async def accept(contact_id: str, p: Caller, server: ServerDep,
                 body: AgentAction | None = None) -> dict[str, Any]:
    await _contact(server, p, contact_id)
    agent = await _acting_agent(server, p, body)
    server.handle(ev.OfferAccepted(contact_id, agent))
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


@router.post("/contacts/{contact_id}/reject")
async def reject(contact_id: str, p: Caller, server: ServerDep,
                 body: AgentAction | None = None) -> dict[str, Any]:
    await _contact(server, p, contact_id)
    agent = await _acting_agent(server, p, body)
    server.handle(ev.OfferRejected(contact_id, agent))
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


@router.post("/contacts/{contact_id}/complete")
async def complete(contact_id: str, p: Caller, server: ServerDep,
                   body: AgentAction | None = None) -> dict[str, Any]:
    """The conversation ended; the agent goes into wrap-up for this contact."""
    await _contact(server, p, contact_id)
    agent = await _acting_agent(server, p, body)
    server.handle(ev.ContactCompleted(contact_id, agent))
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


class WrapUpIn(AgentAction):
    disposition: str | None = None
    notes: str | None = Field(None, max_length=10_000)


@router.post("/contacts/{contact_id}/wrapup")
async def wrapup(contact_id: str, p: Caller, server: ServerDep,
                 body: WrapUpIn | None = None) -> dict[str, Any]:
    """End wrap-up (with a disposition and notes) before the wrap-up timer."""
    row = await _contact(server, p, contact_id)
    agent = await _acting_agent(server, p, body)
    if body and body.disposition:
        allowed = server.queue_meta.get((p.tenant, row["queue"]), {}).get("dispositions") or []
        if allowed and body.disposition not in allowed:
            raise ApiError(422, "unknown_disposition",
                           f"unknown disposition {body.disposition!r}", dispositions=allowed)
    server.handle(ev.WrapUpCompleted(contact_id, agent))
    if body and (body.disposition or body.notes):
        data = dict(row.get("data") or {}) | {"disposition": body.disposition,
                                             "notes": body.notes}
        await server.store.update_contact(contact_id, data=data)
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


@router.post("/contacts/{contact_id}/abandon")
async def abandon(contact_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """The customer left (an integration reports it)."""
    await _contact(server, p, contact_id)
    server.handle(ev.ContactAbandoned(contact_id))
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


@router.delete("/contacts/{contact_id}")
async def cancel(contact_id: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    await _contact(server, p, contact_id)
    server.handle(ev.ContactCancelled(contact_id, f"by {p.username}"))
    return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]


# ------------------------------------------------------------------- queues

async def _queue(server: Any, p: Principal, queue_id: str) -> None:
    if await server.store.get_queue(p.tenant, queue_id) is None:
        raise ApiError(404, "queue_not_found", f"no queue {queue_id!r}")


@router.get("/queues/{queue_id}/contacts")
async def queue_contacts(queue_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    await _queue(server, p, queue_id)
    from acd.server import jsonable

    out = []
    now = server.clock()
    for position, cid in enumerate(server.engine.waiting(queue_id), 1):
        v = server.engine.contact_view(cid)
        out.append(jsonable({"id": cid, "position": position, "channel": v.get("channel"),
                             "priority": v.get("priority"), "arrival": v.get("arrival"),
                             "waited_s": round(now - float(v.get("arrival", now)), 3),
                             "customer": v.get("customer"), "state": v.get("state")}))
    return {"queue": queue_id, "contacts": out}


@router.get("/queues/{queue_id}/stats")
async def queue_stats(queue_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    await _queue(server, p, queue_id)
    from acd.server import jsonable

    return {"queue": queue_id} | jsonable(server.engine.queue_stats(queue_id, server.clock()))


# -------------------------------------------------------------- operations

@router.get("/journal")
async def journal(p: Supervisor, server: ServerDep, since_seq: int = 0,
                  limit: int = 200) -> dict[str, Any]:
    await server.drain_writes()
    rows = await server.store.journal(tenant=p.tenant, since_seq=since_seq,
                                      limit=max(1, min(limit, 1000)))
    return {"events": rows}


@router.post("/admin/backup")
async def backup(p: Admin, server: ServerDep) -> dict[str, Any]:
    if not p.operator:
        raise ApiError(403, "forbidden", "backups are for the operator tenant's admins")
    dest = server.data_dir / "backups" / time.strftime("ipcc-%Y%m%d-%H%M%S.db")
    dest.parent.mkdir(parents=True, exist_ok=True)
    path = await server.store.backup(str(dest))
    return {"path": path}

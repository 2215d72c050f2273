"""Administration: tenants, skills, queues, agents and users (CRUD).

Agent and queue ids are unique across the whole center (the routing engine is shared by
all tenants); reusing another tenant's id is refused with ``id_in_use``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, ValidationError

from acd.auth import hash_password
from config.convert import stored_agent
from config.schema import AgentDef, QueueDef, SkillDef, TenantDef

from .deps import Admin, Caller, ServerDep, Supervisor
from .errors import ApiError

router = APIRouter()


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                    for e in exc.errors()]
        raise ApiError(422, "validation_error", "the request is not valid",
                       errors=problems) from None


# ------------------------------------------------------------------ tenants

class TenantIn(BaseModel):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = ""
    language: str = "en"
    sites: list[str] = []
    not_ready_reasons: list[str] = ["break", "lunch", "meeting", "training", "no answer"]
    dnis: dict[str, dict[str, Any]] = {}


class TenantPatch(BaseModel):
    name: str | None = None
    language: str | None = None
    sites: list[str] | None = None
    not_ready_reasons: list[str] | None = None
    dnis: dict[str, dict[str, Any]] | None = None


def _tenant_out(server: Any, tid: str) -> dict[str, Any]:
    t = server.tenants[tid]
    return {"id": t.id, "name": t.name} | t.settings()


def _visible_tenant(p: Any, tid: str) -> None:
    if tid != p.tenant and not p.operator:
        raise ApiError(404, "tenant_not_found", f"no tenant {tid!r}")


@router.get("/tenants")
async def list_tenants(p: Caller, server: ServerDep) -> dict[str, Any]:
    ids = sorted(server.tenants) if p.operator and p.role == "admin" else [p.tenant]
    return {"tenants": [_tenant_out(server, t) for t in ids]}


@router.post("/tenants", status_code=201)
async def create_tenant(body: TenantIn, p: Admin, server: ServerDep) -> dict[str, Any]:
    if not p.operator:
        raise ApiError(403, "forbidden", "only the operator tenant's admins create tenants")
    if body.id in server.tenants:
        raise ApiError(409, "tenant_exists", f"tenant {body.id!r} exists")
    _validated(TenantDef, {"id": body.id, "name": body.name, "sites": body.sites,
                           "dnis": body.dnis})
    from acd.server import TenantInfo

    info = TenantInfo(id=body.id, name=body.name or body.id, language=body.language,
                      sites=body.sites, not_ready_reasons=body.not_ready_reasons, dnis=body.dnis)
    await server.store.upsert_tenant(info.id, info.name, info.settings())
    server.tenants[info.id] = info
    return _tenant_out(server, info.id)


@router.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    _visible_tenant(p, tenant_id)
    if tenant_id not in server.tenants:
        raise ApiError(404, "tenant_not_found", f"no tenant {tenant_id!r}")
    return _tenant_out(server, tenant_id)


@router.put("/tenants/{tenant_id}")
async def update_tenant(tenant_id: str, body: TenantPatch, p: Admin,
                        server: ServerDep) -> dict[str, Any]:
    _visible_tenant(p, tenant_id)
    if tenant_id not in server.tenants:
        raise ApiError(404, "tenant_not_found", f"no tenant {tenant_id!r}")
    t = server.tenants[tenant_id]
    for k, v in body.model_dump(exclude_none=True).items():
        setattr(t, k, v)
    await server.store.upsert_tenant(t.id, t.name, t.settings())
    return _tenant_out(server, tenant_id)


@router.delete("/tenants/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: str, p: Admin, server: ServerDep) -> Response:
    if not p.operator:
        raise ApiError(403, "forbidden", "only the operator tenant's admins delete tenants")
    if tenant_id not in server.tenants:
        raise ApiError(404, "tenant_not_found", f"no tenant {tenant_id!r}")
    if tenant_id == p.tenant:
        raise ApiError(409, "tenant_in_use", "a tenant cannot delete itself")
    for q in await server.store.list_queues(tenant_id):
        if server.engine.waiting(q["id"]):
            raise ApiError(409, "tenant_in_use", "the tenant still has waiting contacts",
                           queue=q["id"])
    for a in await server.store.list_agents(tenant_id):
        server.remove_agent(a["id"])
    for q in await server.store.list_queues(tenant_id):
        server.remove_queue(tenant_id, q["id"])
    await server.store.delete_tenant(tenant_id)
    del server.tenants[tenant_id]
    return Response(status_code=204)


# ------------------------------------------------------------------- skills

@router.get("/skills")
async def list_skills(p: Caller, server: ServerDep) -> dict[str, Any]:
    return {"skills": await server.store.list_skills(p.tenant)}


@router.post("/skills", status_code=201)
async def create_skill(body: SkillDef, p: Admin, server: ServerDep) -> dict[str, Any]:
    if any(s["id"] == body.id for s in await server.store.list_skills(p.tenant)):
        raise ApiError(409, "skill_exists", f"skill {body.id!r} exists")
    await server.store.upsert_skill(p.tenant, body.id, body.name or body.id)
    return {"id": body.id, "name": body.name or body.id}


@router.get("/skills/{skill_id}")
async def get_skill(skill_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    for s in await server.store.list_skills(p.tenant):
        if s["id"] == skill_id:
            return dict(s)
    raise ApiError(404, "skill_not_found", f"no skill {skill_id!r}")


@router.put("/skills/{skill_id}")
async def update_skill(skill_id: str, body: dict[str, Any], p: Admin,
                       server: ServerDep) -> dict[str, Any]:
    await get_skill(skill_id, p, server)
    s = _validated(SkillDef, {"id": skill_id, "name": body.get("name", "")})
    await server.store.upsert_skill(p.tenant, skill_id, s.name or skill_id)
    return {"id": skill_id, "name": s.name or skill_id}


@router.delete("/skills/{skill_id}", status_code=204)
async def delete_skill(skill_id: str, p: Admin, server: ServerDep) -> Response:
    await get_skill(skill_id, p, server)
    users = [q["id"] for q in await server.store.list_queues(p.tenant)
             if skill_id in (q["config"].get("skills") or {})]
    users += [a["id"] for a in await server.store.list_agents(p.tenant)
              if skill_id in (a["config"].get("skills") or {})]
    if users:
        raise ApiError(409, "skill_in_use", f"skill {skill_id!r} is still used", by=users)
    await server.store.delete_skill(p.tenant, skill_id)
    return Response(status_code=204)


async def _check_skills(server: Any, tenant: str, skills: dict[str, int]) -> None:
    known = {s["id"] for s in await server.store.list_skills(tenant)}
    unknown = sorted(set(skills) - known)
    if unknown:
        raise ApiError(422, "unknown_skill", "unknown skills: " + ", ".join(unknown),
                       skills=unknown)


async def _check_id_free(server: Any, kind: str, tenant: str, obj_id: str) -> None:
    """Queue and agent ids are global in the engine: refuse another tenant's id."""
    for tid in server.tenants:
        if tid == tenant:
            continue
        rows = await (server.store.list_queues(tid) if kind == "queue"
                      else server.store.list_agents(tid))
        if any(r["id"] == obj_id for r in rows):
            raise ApiError(409, "id_in_use", f"{kind} id {obj_id!r} is used by another tenant")


# ------------------------------------------------------------------- queues

def _queue_out(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row["config"]) | {"id": row["id"]}


@router.get("/queues")
async def list_queues(p: Caller, server: ServerDep) -> dict[str, Any]:
    return {"queues": [_queue_out(r) for r in await server.store.list_queues(p.tenant)]}


@router.post("/queues", status_code=201)
async def create_queue(body: dict[str, Any], p: Admin, server: ServerDep) -> dict[str, Any]:
    q: QueueDef = _validated(QueueDef, body)
    if await server.store.get_queue(p.tenant, q.id):
        raise ApiError(409, "queue_exists", f"queue {q.id!r} exists")
    return await _save_queue(server, p.tenant, q)


async def _save_queue(server: Any, tenant: str, q: QueueDef) -> dict[str, Any]:
    await _check_skills(server, tenant, q.skills)
    await _check_id_free(server, "queue", tenant, q.id)
    known = {r["id"] for r in await server.store.list_queues(tenant)} | {q.id}
    targets = [o.target for o in q.overflows if o.target] + \
        [x for r in q.relaxations for x in r.add_queues]
    missing = sorted(set(targets) - known)
    if missing:
        raise ApiError(422, "unknown_queue", "unknown queues: " + ", ".join(missing),
                       queues=missing)
    config = q.model_dump(mode="json")
    await server.store.upsert_queue(tenant, q.id, config)
    server.apply_queue(tenant, q)
    return config


@router.get("/queues/{queue_id}")
async def get_queue(queue_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    row = await server.store.get_queue(p.tenant, queue_id)
    if row is None:
        raise ApiError(404, "queue_not_found", f"no queue {queue_id!r}")
    return _queue_out(row)


@router.put("/queues/{queue_id}")
async def update_queue(queue_id: str, body: dict[str, Any], p: Admin,
                       server: ServerDep) -> dict[str, Any]:
    await get_queue(queue_id, p, server)
    q: QueueDef = _validated(QueueDef, body | {"id": queue_id})
    return await _save_queue(server, p.tenant, q)


@router.delete("/queues/{queue_id}", status_code=204)
async def delete_queue(queue_id: str, p: Admin, server: ServerDep) -> Response:
    await get_queue(queue_id, p, server)
    waiting = server.engine.waiting(queue_id)
    if waiting:
        raise ApiError(409, "queue_in_use", f"queue {queue_id!r} has waiting contacts",
                       waiting=len(waiting))
    server.remove_queue(p.tenant, queue_id)
    await server.store.delete_queue(p.tenant, queue_id)
    return Response(status_code=204)


# ------------------------------------------------------------------- agents

def _agent_out(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row["config"]) | {"id": row["id"]}


@router.get("/agents")
async def list_agents(p: Caller, server: ServerDep) -> dict[str, Any]:
    return {"agents": [_agent_out(r) for r in await server.store.list_agents(p.tenant)]}


@router.post("/agents", status_code=201)
async def create_agent(body: dict[str, Any], p: Admin, server: ServerDep) -> dict[str, Any]:
    a: AgentDef = _validated(AgentDef, body)
    if await server.store.get_agent(p.tenant, a.id):
        raise ApiError(409, "agent_exists", f"agent {a.id!r} exists")
    return await _save_agent(server, p.tenant, a)


async def _save_agent(server: Any, tenant: str, a: AgentDef) -> dict[str, Any]:
    await _check_skills(server, tenant, a.skills)
    await _check_id_free(server, "agent", tenant, a.id)
    sites = server.tenants[tenant].sites
    if sites and a.site and a.site not in sites:
        raise ApiError(422, "unknown_site", f"unknown site {a.site!r}", sites=sites)
    config = stored_agent(a)
    await server.store.upsert_agent(tenant, a.id, config)
    if a.password:
        await server.store.upsert_user(tenant, a.id, hash_password(a.password), "agent", a.id)
    server.apply_agent(tenant, a)
    return config


@router.get("/agents/{agent_id}")
async def get_agent(agent_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    row = await server.store.get_agent(p.tenant, agent_id)
    if row is None:
        raise ApiError(404, "agent_not_found", f"no agent {agent_id!r}")
    return _agent_out(row)


@router.put("/agents/{agent_id}")
async def update_agent(agent_id: str, body: dict[str, Any], p: Admin,
                       server: ServerDep) -> dict[str, Any]:
    await get_agent(agent_id, p, server)
    a: AgentDef = _validated(AgentDef, body | {"id": agent_id})
    return await _save_agent(server, p.tenant, a)


@router.delete("/agents/{agent_id}", status_code=204)
async def delete_agent(agent_id: str, p: Admin, server: ServerDep) -> Response:
    await get_agent(agent_id, p, server)
    view = server.engine.agent_view(agent_id)
    if view.get("contacts"):
        raise ApiError(409, "agent_busy", f"agent {agent_id!r} is handling contacts")
    server.remove_agent(agent_id)
    await server.store.delete_agent(p.tenant, agent_id)
    return Response(status_code=204)


# -------------------------------------------------------------------- users

class UserIn(BaseModel):
    username: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1)
    role: str = Field(pattern=r"^(admin|supervisor|agent)$")
    agent_id: str | None = None


@router.post("/users", status_code=201)
async def create_user(body: UserIn, p: Admin, server: ServerDep) -> dict[str, Any]:
    if body.agent_id and await server.store.get_agent(p.tenant, body.agent_id) is None:
        raise ApiError(422, "unknown_agent", f"no agent {body.agent_id!r}")
    if body.role == "agent" and not body.agent_id:
        raise ApiError(422, "validation_error", "an agent user needs an agent_id")
    await server.store.upsert_user(p.tenant, body.username, hash_password(body.password),
                                   body.role, body.agent_id)
    return {"username": body.username, "role": body.role, "agent_id": body.agent_id}


@router.get("/users/{username}")
async def get_user(username: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    u = await server.store.get_user(p.tenant, username)
    if u is None:
        raise ApiError(404, "user_not_found", f"no user {username!r}")
    return {"username": u["username"], "role": u["role"], "agent_id": u.get("agent_id")}

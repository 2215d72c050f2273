"""Endpoints the web UI needs beyond the core API (``/api/v1/ui/...``).

They answer the questions the agent desktop and the supervisor console ask in one call
(everything a page needs to start; every agent's live state; a screen pop with the
customer's history), plus the few agent actions the core API has no name for: extending
wrap-up, saving a disposition after wrap-up ended, consulting a colleague and
transferring a digital contact with notes. Every query is limited to the caller's
tenant. Consultation messages reach the colleague's open pages through :class:`UiHub`,
which shares the WebSocket queues of ``/api/v1/ws``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from acd import events as ev
from acd.auth import Principal
from acd.model import Channel

from .deps import Admin, Caller, ServerDep, Supervisor
from .errors import ApiError
from .intervals import fold, interval_count

router = APIRouter(prefix="/ui")

VOICE = {Channel.VOICE.value, Channel.WEBRTC.value, Channel.CALLBACK.value}
HISTORY_SCAN = 2000      # most recent contacts of the tenant searched for a customer
HISTORY_KEEP = 10
_TREE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# ------------------------------------------------------------------ the hub

class UiHub:
    """Who has a live page open, so a message can reach one agent's pages.

    The WebSocket endpoint attaches the queue it reads from; :meth:`to_agent` puts a
    message on every queue of that agent (same tenant only)."""

    def __init__(self) -> None:
        self._pages: set[tuple[str, str | None, str, asyncio.Queue[dict[str, Any]]]] = set()

    def attach(self, p: Principal, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._pages.add((p.tenant, p.agent_id, p.username, queue))

    def detach(self, p: Principal, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._pages.discard((p.tenant, p.agent_id, p.username, queue))

    def to_agent(self, tenant: str, agent_id: str, message: dict[str, Any]) -> int:
        delivered = 0
        for t, aid, _user, q in list(self._pages):
            if t == tenant and aid == agent_id:
                try:
                    q.put_nowait(message)
                    delivered += 1
                except asyncio.QueueFull:
                    pass
        return delivered


def hub(request: Request) -> UiHub:
    h = getattr(request.app.state, "ui_hub", None)
    if h is None:
        h = request.app.state.ui_hub = UiHub()
    return h  # type: ignore[no-any-return]


# ---------------------------------------------------------------- helpers

def _jsonable(obj: Any) -> Any:
    from acd.server import jsonable

    return jsonable(obj)


async def _queue_rows(server: Any, tenant: str) -> list[dict[str, Any]]:
    return [dict(r["config"]) | {"id": r["id"]} for r in await server.store.list_queues(tenant)]


async def _contact_row(server: Any, p: Principal, contact_id: str) -> dict[str, Any]:
    row = await server.store.get_contact(contact_id)
    if row is None or row["tenant"] != p.tenant:
        raise ApiError(404, "contact_not_found", f"no contact {contact_id!r}")
    return row  # type: ignore[no-any-return]


def _live_view(server: Any, contact_id: str) -> dict[str, Any] | None:
    try:
        return server.engine.contact_view(contact_id)  # type: ignore[no-any-return]
    except ev.EngineError:
        return None


def _may_see_contact(p: Principal, row: dict[str, Any], view: dict[str, Any] | None) -> bool:
    """Supervisors see every contact of their tenant; an agent the ones it holds or held."""
    if p.role in ("admin", "supervisor"):
        return True
    holder = (view or {}).get("agent_id") or row.get("agent_id")
    return bool(p.agent_id) and holder == p.agent_id


async def _agent_def(server: Any, tenant: str, agent_id: str) -> dict[str, Any]:
    row = await server.store.get_agent(tenant, agent_id)
    return dict(row["config"]) if row else {}


def _acting_agent(p: Principal, agent_id: str | None) -> str:
    aid = agent_id or p.agent_id
    if not aid:
        raise ApiError(422, "validation_error", "agent_id is required")
    if not p.can_act_for_agent(aid):
        raise ApiError(403, "forbidden", "agents act only for themselves")
    return aid


# ---------------------------------------------------------------- bootstrap

@router.get("/bootstrap")
async def bootstrap(p: Caller, server: ServerDep) -> dict[str, Any]:
    """Everything a page needs to start: who, the tenant's codes, queues, own state."""
    t = server.tenants[p.tenant]
    queues = await _queue_rows(server, p.tenant)
    out: dict[str, Any] = {
        "now": server.clock(),
        "me": {"username": p.username, "tenant": p.tenant, "role": p.role,
               "agent_id": p.agent_id},
        "tenant": {"id": t.id, "name": t.name, "language": t.language, "sites": t.sites,
                   "not_ready_reasons": t.not_ready_reasons},
        "queues": [{"id": q["id"], "name": q.get("name") or q["id"],
                    "dispositions": q.get("dispositions") or [],
                    "wrapup_s": q.get("wrapup_s"),
                    "sl_target_pct": q.get("sl_target_pct"),
                    "sl_threshold_s": q.get("sl_threshold_s")} for q in queues],
        "agent": None,
    }
    if p.agent_id:
        try:
            view = server.engine.agent_view(p.agent_id)
        except ev.EngineError:
            view = None
        if view is not None and view.get("tenant") == p.tenant:
            cfg = await _agent_def(server, p.tenant, p.agent_id)
            out["agent"] = _jsonable(view) | {"wrapup_s": cfg.get("wrapup_s") or {}}
            out["contacts"] = [await _contact_brief(server, cid)
                               for cid in (view.get("contacts") or {})]
    return out


async def _contact_brief(server: Any, contact_id: str) -> dict[str, Any]:
    view = _live_view(server, contact_id) or {}
    return _jsonable({k: view.get(k) for k in ("id", "queue", "channel", "media", "state",
                                               "agent_id", "arrival", "answered_at",
                                               "customer")} | {"id": contact_id})


# -------------------------------------------------------------- live views

@router.get("/agents/live")
async def agents_live(p: Supervisor, server: ServerDep) -> dict[str, Any]:
    """Every agent of the tenant with presence, time in state and current contacts."""
    agents = []
    for row in await server.store.list_agents(p.tenant):
        try:
            view = server.engine.agent_view(row["id"])
        except ev.EngineError:
            continue
        agents.append(_jsonable(view))
    return {"now": server.clock(), "agents": agents}


@router.get("/colleagues")
async def colleagues(p: Caller, server: ServerDep) -> dict[str, Any]:
    """Names and availability of the tenant's agents, for consulting and transferring."""
    out = []
    for row in await server.store.list_agents(p.tenant):
        try:
            view = server.engine.agent_view(row["id"])
        except ev.EngineError:
            continue
        out.append({"id": row["id"], "name": view.get("name") or row["id"],
                    "presence": view.get("presence"), "status": view.get("status")})
    return {"agents": out}


@router.get("/queues/live")
async def queues_live(p: Caller, server: ServerDep) -> dict[str, Any]:
    now = server.clock()
    out = []
    for q in await _queue_rows(server, p.tenant):
        try:
            stats = server.engine.queue_stats(q["id"], now)
        except ev.EngineError:
            continue
        out.append({"id": q["id"], "name": q.get("name") or q["id"], "stats": _jsonable(stats)})
    return {"now": now, "queues": out}


# -------------------------------------------------------------- screen pop

@router.get("/contacts/{contact_id}/screenpop")
async def screenpop(contact_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """The customer behind a contact: identity, segment and value tier, what the IVR
    collected, and the recent history across channels."""
    row = await _contact_row(server, p, contact_id)
    view = _live_view(server, contact_id)
    if not _may_see_contact(p, row, view):
        raise ApiError(403, "forbidden", "this contact is not offered to you")
    customer = dict(row.get("customer") or {})
    data = dict(row.get("data") or {})
    ivr = {k: v for k, v in data.items()
           if k not in ("disposition", "notes", "segment", "transfer")}
    return {
        "contact": {"id": contact_id, "channel": row["channel"],
                    "queue": (view or {}).get("queue") or row["queue"],
                    "state": (view or {}).get("state") or row["state"],
                    "arrival": row["arrival"], "priority": row.get("priority")},
        "customer": customer,
        "value_tier": row.get("value_tier"),
        "segment": data.get("segment") or customer.get("segment"),
        "ivr": ivr,
        "transfer": data.get("transfer"),
        "history": await customer_history(server, p.tenant, customer, exclude=contact_id),
    }


def _same_customer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for key in ("id", "phone", "email"):
        if a.get(key) and a.get(key) == b.get(key):
            return True
    return False


async def customer_history(server: Any, tenant: str, customer: dict[str, Any], *,
                           exclude: str | None = None) -> list[dict[str, Any]]:
    """The customer's most recent contacts of this tenant (any channel), newest first.

    A customer is recognised by id, phone or e-mail. Only the tenant's latest
    ``HISTORY_SCAN`` contacts are searched: a screen pop must answer quickly."""
    if not any(customer.get(k) for k in ("id", "phone", "email")):
        return []
    from acd.store.records import row_contact
    from acd.store.tables import contacts

    stmt = (sa.select(contacts).where(contacts.c.tenant == tenant)
            .order_by(contacts.c.seq.desc()).limit(HISTORY_SCAN))
    async with server.store.engine.connect() as conn:
        rows = [row_contact(dict(r)) for r in (await conn.execute(stmt)).mappings()]
    out = []
    for r in rows:
        if r["id"] == exclude or not _same_customer(customer, r.get("customer") or {}):
            continue
        data = r.get("data") or {}
        out.append({"id": r["id"], "channel": r["channel"], "queue": r["queue"],
                    "arrival": r["arrival"], "state": r["state"], "outcome": r.get("outcome"),
                    "agent_id": r.get("agent_id"), "disposition": data.get("disposition"),
                    "notes": data.get("notes")})
        if len(out) >= HISTORY_KEEP:
            break
    return out


# ----------------------------------------------------------------- wrap-up

class ExtendIn(BaseModel):
    seconds: float = Field(30.0, gt=0, le=600)
    agent_id: str | None = None


@router.post("/contacts/{contact_id}/extend-wrapup")
async def extend_wrapup(contact_id: str, body: ExtendIn, p: Caller,
                        server: ServerDep) -> dict[str, Any]:
    """Give the agent more wrap-up time (added to what is left of it)."""
    await _contact_row(server, p, contact_id)
    agent = _acting_agent(p, body.agent_id)
    view = _live_view(server, contact_id)
    if view is None or view.get("state") != "wrap_up" or view.get("agent_id") != agent:
        raise ApiError(409, "not_in_wrap_up", "the contact is not in wrap-up with this agent")
    server.handle(ev.WrapUpExtended(contact_id, agent, body.seconds))
    until = server.engine.contact_view(contact_id)["wrapup_until"]
    return {"contact_id": contact_id, "wrapup_until": until}


class DispositionIn(BaseModel):
    disposition: str | None = None
    notes: str | None = Field(None, max_length=10_000)


@router.post("/contacts/{contact_id}/disposition")
async def save_disposition(contact_id: str, body: DispositionIn, p: Caller,
                           server: ServerDep) -> dict[str, Any]:
    """Save disposition and notes to the contact's history without ending wrap-up (or
    after wrap-up ended on its timer)."""
    row = await _contact_row(server, p, contact_id)
    if not _may_see_contact(p, row, _live_view(server, contact_id)):
        raise ApiError(403, "forbidden", "this contact is not yours")
    if body.disposition:
        allowed = server.queue_meta.get((p.tenant, row["queue"]), {}).get("dispositions") or []
        if allowed and body.disposition not in allowed:
            raise ApiError(422, "unknown_disposition",
                           f"unknown disposition {body.disposition!r}", dispositions=allowed)
    data = dict(row.get("data") or {}) | {"disposition": body.disposition, "notes": body.notes}
    await server.store.update_contact(contact_id, data=data)
    return {"contact_id": contact_id, "disposition": body.disposition, "notes": body.notes}


# ---------------------------------------------------- consult and transfer

class ConsultIn(BaseModel):
    to_agent: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=2000)
    contact_id: str | None = None


@router.post("/consult")
async def consult(body: ConsultIn, request: Request, p: Caller,
                  server: ServerDep) -> dict[str, Any]:
    """Internal chat: a message to a colleague of the same tenant, delivered live."""
    if await server.store.get_agent(p.tenant, body.to_agent) is None:
        raise ApiError(404, "agent_not_found", f"no agent {body.to_agent!r}")
    if body.contact_id:
        await _contact_row(server, p, body.contact_id)
    message = {"event": "consult.message", "id": body.to_agent, "tenant": p.tenant,
               "at": server.clock(),
               "data": {"from": p.agent_id or p.username, "from_user": p.username,
                        "to": body.to_agent, "text": body.text, "contact_id": body.contact_id}}
    delivered = hub(request).to_agent(p.tenant, body.to_agent, message)
    return {"delivered": delivered}


class TransferIn(BaseModel):
    to_queue: str | None = None
    to_agent: str | None = None
    notes: str | None = Field(None, max_length=5000)
    agent_id: str | None = None


@router.post("/contacts/{contact_id}/transfer")
async def transfer(contact_id: str, body: TransferIn, p: Caller,
                   server: ServerDep) -> dict[str, Any]:
    """Hand a digital contact to a queue or a colleague, with notes.

    The customer's conversation continues as a new contact in the target queue (keeping
    its place by arrival, preferring the named colleague) that carries the notes and a
    link to this one; this contact goes to wrap-up. Voice calls are transferred by the
    call itself (``/api/v1/calls/{id}/transfer``)."""
    row = await _contact_row(server, p, contact_id)
    agent = _acting_agent(p, body.agent_id)
    view = _live_view(server, contact_id)
    if view is None or view.get("state") != "connected" or view.get("agent_id") != agent:
        raise ApiError(409, "not_connected", "the contact is not connected to this agent")
    if row["channel"] in VOICE:
        raise ApiError(409, "voice_transfer", "voice calls are transferred by the call")
    queue = body.to_queue or row["queue"]
    if await server.store.get_queue(p.tenant, queue) is None:
        raise ApiError(422, "unknown_queue", f"no queue {queue!r}", queue=queue)
    if body.to_agent and await server.store.get_agent(p.tenant, body.to_agent) is None:
        raise ApiError(422, "unknown_agent", f"no agent {body.to_agent!r}")
    if body.to_agent == agent:
        raise ApiError(422, "validation_error", "cannot transfer to yourself")
    data = dict(row.get("data") or {})
    data.pop("disposition", None)
    data.pop("notes", None)
    data["transfer"] = {"from_contact": contact_id, "from_agent": agent, "notes": body.notes,
                        "to_agent": body.to_agent, "to_queue": queue}
    new_id = await server.create_contact(
        p.tenant, channel=row["channel"], queue=queue, priority=int(row.get("priority") or 0),
        customer=row.get("customer") or {}, data=data, value_tier=row.get("value_tier"),
        arrival=row["arrival"], preferred_agent=body.to_agent)
    server.handle(ev.ContactCompleted(contact_id, agent))
    return {"contact_id": contact_id, "new_contact_id": new_id}


# --------------------------------------------------------------- intervals

@router.get("/intervals")
async def intervals(p: Supervisor, server: ServerDep, since: float | None = None,
                    until: float | None = None, step_s: float = 1800.0) -> dict[str, Any]:
    """Offered / handled / abandoned / SL per interval and queue, from the journal.

    Default: the last 24 hours in 30-minute intervals; the console asks for today from
    the browser's local midnight."""
    now = server.clock()
    until = now if until is None else until
    since = until - 86400.0 if since is None else since
    try:
        interval_count(since, until, step_s)
    except ValueError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    await server.drain_writes()
    from acd.store.tables import journal

    stmt = (sa.select(journal.c.payload)
            .where(journal.c.tenant == p.tenant, journal.c.kind == "contact.updated",
                   journal.c.at >= since, journal.c.at < until)
            .order_by(journal.c.seq))
    async with server.store.engine.connect() as conn:
        payloads = [r[0] for r in (await conn.execute(stmt)).all()]
    thresholds = {q["id"]: float(q.get("sl_threshold_s") or 20.0)
                  for q in await _queue_rows(server, p.tenant)}
    return fold(payloads, since=since, until=until, step_s=step_s, thresholds=thresholds)


# --------------------------------------------------------------------- IVR

def _ivr_names(server: Any, tenant: str) -> list[str]:
    names = {str(d["ivr"]) for d in server.tenants[tenant].dnis.values()
             if isinstance(d, dict) and d.get("ivr")}
    return sorted(n for n in names if _TREE_NAME.match(n))


def _ivr_dir(server: Any) -> Path:
    d = Path(server.settings.server.sip.ivr_dir)
    if not d.is_absolute() and not d.exists():
        d = Path(__file__).resolve().parents[2] / d
    return d


@router.get("/ivr")
async def ivr_list(p: Admin, server: ServerDep) -> dict[str, Any]:
    """The IVR trees this tenant's numbers use."""
    d = _ivr_dir(server)
    return {"trees": [{"name": n, "exists": (d / f"{n}.yaml").exists()}
                      for n in _ivr_names(server, p.tenant)]}


@router.get("/ivr/{name}.svg")
async def ivr_svg(name: str, p: Admin, server: ServerDep) -> Response:
    if name not in _ivr_names(server, p.tenant):
        raise ApiError(404, "ivr_not_found", f"no IVR tree {name!r} for this tenant")
    path = _ivr_dir(server) / f"{name}.yaml"
    if not path.exists():
        raise ApiError(404, "ivr_not_found", f"IVR tree file {path.name} is missing")
    from ivr import cli as ivr_cli

    try:
        svg = await asyncio.to_thread(ivr_cli.show, path)
    except Exception as exc:  # noqa: BLE001 - an invalid tree is reported, not a 500
        raise ApiError(422, "ivr_invalid", str(exc)) from None
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src "
                             "'unsafe-inline'", "Cache-Control": "no-store",
                             "X-Content-Type-Options": "nosniff"})

"""Outbound campaigns: CRUD, life cycle, list imports, do-not-call lists, results.

Everything is scoped to the caller's tenant: another tenant's campaign is "not found".
Supervisors and admins manage campaigns; agents read scripts and post call results.

A list is imported by sending the file itself as the request body (CSV or XLSX)::

    curl -X POST --data-binary @leads.csv -H 'Content-Type: text/csv' \\
      '/api/v1/campaigns/c1/imports?filename=leads.csv&mapping={"phone":"Phone","tz":"Zone"}'

``on_error=reject`` (default) refuses the whole file when any row is bad; ``skip``
imports the good rows. ``priority`` is the list's priority, taken by rows that have none. The answer is the import report (also kept: ``GET .../imports/{id}``).

The life cycle actions are ``POST /campaigns/{id}/start|pause|resume|stop``; the table of
legal moves is :data:`acd.campaigns.model.TRANSITIONS`. Pacing happens in the campaign
runner gateway (``server.campaigns``) when the server has one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from acd.campaigns import importer
from acd.campaigns.model import ACTIONS, CampaignError, CampaignSpec
from acd.campaigns.repository import CampaignRepository
from acd.campaigns.tables import GLOBAL_DNC
from acd.dialer.events import DialerError

from .deps import Caller, ServerDep, Supervisor
from .errors import ApiError

router = APIRouter(tags=["campaigns"])


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CampaignError as exc:
        raise ApiError(exc.status, exc.error_id, exc.message, **exc.details) from None
    except importer.ImportError_ as exc:
        raise ApiError(422, exc.error_id, exc.message) from None


def _repo(server: Any) -> CampaignRepository:
    runner = getattr(server, "campaigns", None)
    if runner is not None and runner.repo is not None:
        return runner.repo  # type: ignore[no-any-return]
    return CampaignRepository(server.store)


def _spec(data: dict[str, Any]) -> CampaignSpec:
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                    for e in exc.errors()]
        raise ApiError(422, "validation_error", "the campaign is not valid",
                       errors=problems) from None


# ------------------------------------------------------------------ campaigns


@router.get("/campaigns")
async def list_campaigns(p: Supervisor, server: ServerDep) -> dict[str, Any]:
    return {"campaigns": await _repo(server).list(p.tenant)}


@router.post("/campaigns", status_code=201)
async def create_campaign(body: dict[str, Any], p: Supervisor,
                          server: ServerDep) -> dict[str, Any]:
    cid = body.pop("id", None)
    if cid is not None and (not isinstance(cid, str) or not cid.replace("-", "").replace(
            "_", "").isalnum() or len(cid) > 64):
        raise ApiError(422, "validation_error", "id: letters, digits, - and _ only")
    spec = _spec(body)
    with _errors():
        return await _repo(server).create(p.tenant, spec, server.clock(), cid)


@router.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    with _errors():
        return await _repo(server).get(p.tenant, campaign_id)


@router.put("/campaigns/{campaign_id}")
async def update_campaign(campaign_id: str, body: dict[str, Any], p: Supervisor,
                          server: ServerDep) -> dict[str, Any]:
    for k in ("id", "tenant", "state", "state_reason", "created_at", "updated_at"):
        body.pop(k, None)
    spec = _spec(body)
    with _errors():
        return await _repo(server).update(p.tenant, campaign_id, spec, server.clock())


@router.delete("/campaigns/{campaign_id}", status_code=204)
async def delete_campaign(campaign_id: str, p: Supervisor, server: ServerDep) -> Response:
    with _errors():
        await _repo(server).delete(p.tenant, campaign_id)
    return Response(status_code=204)


# ------------------------------------------------------------------ imports


@router.post("/campaigns/{campaign_id}/imports", status_code=201)
async def import_list(campaign_id: str, request: Request, p: Supervisor, server: ServerDep,
                      mapping: str = Query(..., description='JSON: {"phone": "Phone", ...}'),
                      filename: str = "", on_error: str = "reject",
                      priority: int = 0) -> dict[str, Any]:
    try:
        cols = json.loads(mapping)
        if not isinstance(cols, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in cols.items()):
            raise ValueError
    except ValueError:
        raise ApiError(422, "bad_mapping", "mapping must be a JSON object of field -> column")
    unknown = set(cols) - set(importer.FIELDS)
    if unknown:
        raise ApiError(422, "bad_mapping", f"unknown lead fields {sorted(unknown)}",
                       fields=list(importer.FIELDS))
    data = await request.body()
    repo = _repo(server)
    with _errors():
        report = await repo.import_list(
            p.tenant, campaign_id, data, mapping=cols, filename=filename,
            content_type=request.headers.get("content-type", ""), on_error=on_error,
            list_priority=priority, now=server.clock())
        runner = getattr(server, "campaigns", None)
        if runner is not None and report["created"] and f"{p.tenant}/{campaign_id}" in \
                runner.live:
            spec = await repo.spec(p.tenant, campaign_id)
            leads = await repo.dialable_leads(p.tenant, campaign_id, spec)
            runner.leads_added(p.tenant, campaign_id, tuple(
                lead for lead in leads if lead.attempts == 0))
    return report


@router.get("/campaigns/{campaign_id}/imports")
async def list_imports(campaign_id: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    with _errors():
        await _repo(server).get(p.tenant, campaign_id)
        return {"imports": await _repo(server).imports(p.tenant, campaign_id)}


@router.get("/campaigns/{campaign_id}/imports/{import_id}")
async def import_report(campaign_id: str, import_id: str, p: Supervisor,
                        server: ServerDep) -> dict[str, Any]:
    with _errors():
        return await _repo(server).import_report(p.tenant, campaign_id, import_id)


# ------------------------------------------------------------------ leads & results


@router.get("/campaigns/{campaign_id}/leads")
async def list_leads(campaign_id: str, p: Supervisor, server: ServerDep,
                     segment: str | None = None, region: str | None = None,
                     status: str | None = None, contacted_before: float | None = None,
                     contacted_after: float | None = None, never_contacted: bool = False,
                     limit: int = Query(200, ge=1, le=5000),
                     offset: int = Query(0, ge=0)) -> dict[str, Any]:
    repo = _repo(server)
    with _errors():
        await repo.get(p.tenant, campaign_id)
        rows = await repo.leads(p.tenant, campaign_id, segment=segment, region=region,
                                status=status, contacted_before=contacted_before,
                                contacted_after=contacted_after,
                                never_contacted=never_contacted, limit=limit, offset=offset)
    return {"leads": rows}


@router.get("/campaigns/{campaign_id}/leads/{lead_id}/script")
async def lead_script(campaign_id: str, lead_id: str, p: Caller, server: ServerDep,
                      answers: str = "{}") -> dict[str, Any]:
    """The script for this lead, following the survey answers given so far (JSON)."""
    repo = _repo(server)
    try:
        given = json.loads(answers)
        assert isinstance(given, dict)
    except (ValueError, AssertionError):
        raise ApiError(422, "bad_answers", "answers must be a JSON object") from None
    with _errors():
        spec = await repo.spec(p.tenant, campaign_id)
        lead = await repo.lead(p.tenant, campaign_id, lead_id)
    fields = {**lead["data"], "phone": lead["phone"], "segment": lead["segment"]}
    return {"lead_id": lead_id, "steps": spec.run_script(fields, given),
            "dispositions": spec.dispositions}


class ResultIn(BaseModel):
    disposition: str = Field(min_length=1, max_length=64)
    answers: dict[str, Any] = {}
    notes: str | None = Field(None, max_length=4000)


@router.post("/campaigns/{campaign_id}/leads/{lead_id}/result", status_code=201)
async def post_result(campaign_id: str, lead_id: str, body: ResultIn, p: Caller,
                      server: ServerDep) -> dict[str, Any]:
    repo = _repo(server)
    with _errors():
        out = await repo.save_result(p.tenant, campaign_id, lead_id,
                                     disposition=body.disposition, answers=body.answers,
                                     agent_id=p.agent_id, notes=body.notes, now=server.clock())
    if body.disposition == "do_not_call":
        lead = await repo.lead(p.tenant, campaign_id, lead_id)
        added = await repo.dnc_add(p.tenant, [lead["phone"]], server.clock(),
                                   source=f"disposition by {p.username}")
        runner = getattr(server, "campaigns", None)
        if runner is not None and added:
            runner.dnc_changed(p.tenant, tuple(added))
    runner = getattr(server, "campaigns", None)
    if runner is not None and p.agent_id:
        runner.agent_done(p.tenant, campaign_id, p.agent_id)
    return out


# ------------------------------------------------------------------ preview & manual


def _agent_runner(p: Any, server: Any) -> Any:
    if not p.agent_id:
        raise ApiError(403, "forbidden", "this is for agents")
    runner = getattr(server, "campaigns", None)
    if runner is None:
        raise ApiError(409, "campaign_not_running", "no campaign runner on this server")
    return runner


@contextlib.contextmanager
def _dialer_errors() -> Iterator[None]:
    try:
        yield
    except DialerError as exc:
        status = 404 if exc.error_id in ("no_such_preview", "lead_not_available") else 409
        raise ApiError(status, exc.error_id, exc.message, **exc.details) from None


@router.get("/campaigns/{campaign_id}/preview")
async def my_preview(campaign_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """Preview mode: the record shown to the calling agent now (``lead`` null if none)."""
    runner = _agent_runner(p, server)
    lead_id = runner.preview_of(p.tenant, campaign_id, p.agent_id)
    if lead_id is None:
        return {"lead": None}
    repo = _repo(server)
    with _errors():
        spec = await repo.spec(p.tenant, campaign_id)
        lead = await repo.lead(p.tenant, campaign_id, lead_id)
    fields = {**lead["data"], "phone": lead["phone"], "segment": lead["segment"]}
    return {"lead": lead, "steps": spec.run_script(fields)}


@router.post("/campaigns/{campaign_id}/preview/{lead_id}/{answer}")
async def answer_preview(campaign_id: str, lead_id: str, answer: str, p: Caller,
                         server: ServerDep) -> dict[str, Any]:
    if answer not in ("accept", "skip"):
        raise ApiError(404, "not_found", "answer a preview with accept or skip")
    runner = _agent_runner(p, server)
    with _dialer_errors():
        runner.answer_preview(p.tenant, campaign_id, p.agent_id, lead_id, answer == "accept")
    return {"lead_id": lead_id, "answer": answer}


@router.post("/campaigns/{campaign_id}/leads/{lead_id}/dial")
async def manual_dial(campaign_id: str, lead_id: str, p: Caller,
                      server: ServerDep) -> dict[str, Any]:
    runner = _agent_runner(p, server)
    with _dialer_errors():
        runner.manual_dial(p.tenant, campaign_id, p.agent_id, lead_id)
    return {"lead_id": lead_id, "dialing": True}


# ------------------------------------------------------------------ progress & export


@router.get("/campaigns/{campaign_id}/progress")
async def progress(campaign_id: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    repo = _repo(server)
    with _errors():
        campaign = await repo.get(p.tenant, campaign_id)
        summary = await repo.summary(p.tenant, campaign_id)
    runner = getattr(server, "campaigns", None)
    live = runner.progress(p.tenant, campaign_id) if runner is not None else {"live": False}
    return {"id": campaign_id, "state": campaign["state"],
            "state_reason": campaign["state_reason"], "live": live, **summary}


@router.get("/campaigns/{campaign_id}/audit")
async def audit(campaign_id: str, p: Supervisor, server: ServerDep,
                since: float | None = None,
                limit: int = Query(500, ge=1, le=10000)) -> dict[str, Any]:
    repo = _repo(server)
    with _errors():
        await repo.get(p.tenant, campaign_id)
        return {"audit": await repo.audit(p.tenant, campaign_id, since=since, limit=limit)}


@router.get("/campaigns/{campaign_id}/export.csv")
async def export_csv(campaign_id: str, p: Supervisor, server: ServerDep) -> Response:
    with _errors():
        text = await _repo(server).results_csv(p.tenant, campaign_id)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'})


# ------------------------------------------------------------------ do-not-call


class DncIn(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10000)
    region: str = "US"
    source: str = Field("", max_length=100)


def _dnc_scope(p: Any, scope: str) -> str:
    if scope == "tenant":
        return str(p.tenant)
    if scope == "global":
        if not (p.operator and p.role == "admin"):
            raise ApiError(403, "forbidden", "the global list is kept by the operator's admins")
        return GLOBAL_DNC
    raise ApiError(404, "not_found", "the list is 'tenant' or 'global'")


def _normalized(body: DncIn) -> list[str]:
    out, bad = [], []
    for raw in body.numbers:
        try:
            out.append(importer.normalize_phone(raw, body.region)[0])
        except ValueError as exc:
            bad.append({"value": raw, "reason": str(exc)})
    if bad:
        raise ApiError(422, "bad_numbers", "some numbers are not valid", numbers=bad)
    return out


@router.get("/dnc/{scope}")
async def dnc_list(scope: str, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    if scope == "global" and not p.operator:
        raise ApiError(403, "forbidden", "the global list is kept by the operator")
    return {"numbers": await _repo(server).dnc_list(_dnc_scope(p, "tenant") if scope ==
                                                    "tenant" else GLOBAL_DNC)}


@router.post("/dnc/{scope}")
async def dnc_add(scope: str, body: DncIn, p: Supervisor, server: ServerDep) -> dict[str, Any]:
    tenant = _dnc_scope(p, scope)
    added = await _repo(server).dnc_add(tenant, _normalized(body), server.clock(),
                                        body.source or f"api by {p.username}")
    runner = getattr(server, "campaigns", None)
    if runner is not None and added:
        runner.dnc_changed(tenant, added=tuple(added))
    return {"added": added}


@router.post("/dnc/{scope}/remove")
async def dnc_remove(scope: str, body: DncIn, p: Supervisor,
                     server: ServerDep) -> dict[str, Any]:
    tenant = _dnc_scope(p, scope)
    removed = await _repo(server).dnc_remove(tenant, _normalized(body))
    runner = getattr(server, "campaigns", None)
    if runner is not None and removed:
        runner.dnc_changed(tenant, removed=tuple(removed))
    return {"removed": removed}


# Last: "/campaigns/{id}/{action}" must not shadow the fixed sub-paths above.
@router.post("/campaigns/{campaign_id}/{action}")
async def campaign_action(campaign_id: str, action: str, p: Supervisor,
                          server: ServerDep) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ApiError(404, "not_found", f"no action {action!r}; use one of {list(ACTIONS)}")
    repo = _repo(server)
    runner = getattr(server, "campaigns", None)
    with _errors():
        out = await repo.transition(p.tenant, campaign_id, action, server.clock(),
                                    reason=f"{action} by {p.username}")
        if runner is not None:
            if action in ("start", "resume"):
                await runner.activate(p.tenant, campaign_id)
            else:
                runner.pause(p.tenant, campaign_id, stopping=action == "stop")
    return out

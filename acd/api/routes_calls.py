"""Voice call control: /api/v1/calls.

``{call_id}`` is either a call id (``v-...``) or the id of one of its contacts (what an
agent sees in an offer). Agents control the calls they are talking on; supervisors and
admins any call of their tenant. Errors carry stable ids: ``call_not_found``,
``voice_unavailable``, ``bad_call_state``, ``no_trunk``, ``agent_unavailable``,
``consult_active``, ``media_error``...
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from acd.auth import Principal

from .deps import Caller, ServerDep
from .errors import ApiError

router = APIRouter()


def _gateway(server: Any) -> Any:
    for g in server.gateways:
        if getattr(g, "name", None) == "voice" and getattr(g, "started", False):
            return g
    raise ApiError(503, "voice_unavailable", "the voice service is not running")


def _may_control(p: Principal, call: Any) -> None:
    if p.role in ("admin", "supervisor"):
        return
    if p.agent_id is None or p.agent_id != call.agent_id:
        raise ApiError(403, "forbidden", "agents control only their own calls")


async def _run(server: Any, p: Principal, call_id: str, op: Any) -> dict[str, Any]:
    from gateways.voice import VoiceError

    gw = _gateway(server)
    live = gw.find(call_id)
    if live is None or live.call.tenant != p.tenant:
        raise ApiError(404, "call_not_found", f"no live call {call_id!r}")
    _may_control(p, live.call)
    try:
        return await gw.submit(live, lambda lv: op(gw, lv))  # type: ignore[no-any-return]
    except VoiceError as exc:
        raise ApiError(exc.status, exc.error_id, exc.message, **exc.details) from None
    except TimeoutError:
        raise ApiError(504, "media_timeout", "the media worker did not answer in time") from None


@router.get("/calls")
async def list_calls(p: Caller, server: ServerDep) -> dict[str, Any]:
    gw = _gateway(server)
    calls = [lv.call.view() for lv in gw.calls.values() if lv.call.tenant == p.tenant]
    if p.role not in ("admin", "supervisor"):
        calls = [c for c in calls if p.agent_id and p.agent_id == c["agent_id"]]
    return {"calls": calls}


@router.get("/calls/{call_id}")
async def get_call(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    gw = _gateway(server)
    live = gw.find(call_id)
    if live is not None and live.call.tenant == p.tenant:
        _may_control(p, live.call)
        return live.call.view()  # type: ignore[no-any-return]
    ended = gw.ended_view(call_id)
    if ended is not None and ended["tenant"] == p.tenant:
        return ended  # type: ignore[no-any-return]
    rows = await server.store.list_cdrs(p.tenant, contact_id=call_id, limit=1)
    if rows:
        cdr = rows[0]["payload"]
        return {"call_id": cdr.get("call_id"), "tenant": p.tenant, "phase": "ended",
                "outcome": cdr.get("outcome"), "cdr": cdr}
    raise ApiError(404, "call_not_found", f"no call {call_id!r}")


@router.post("/calls/{call_id}/hold")
async def hold(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, control.hold)


@router.post("/calls/{call_id}/resume")
async def resume(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, control.resume)


@router.post("/calls/{call_id}/mute")
async def mute(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, lambda gw, lv: control.mute(gw, lv, True))


@router.post("/calls/{call_id}/unmute")
async def unmute(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, lambda gw, lv: control.mute(gw, lv, False))


class DtmfIn(BaseModel):
    digits: str = Field(min_length=1, max_length=32, pattern=r"^[0-9*#A-Da-d]+$")


@router.post("/calls/{call_id}/dtmf")
async def dtmf(call_id: str, body: DtmfIn, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, lambda gw, lv: control.dtmf(gw, lv, body.digits))


@router.post("/calls/{call_id}/hangup")
async def hangup(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, control.hangup)


class TransferIn(BaseModel):
    to: Literal["agent", "queue", "number"]
    target: str = Field(min_length=1, max_length=100)


@router.post("/calls/{call_id}/transfer")
async def transfer(call_id: str, body: TransferIn, p: Caller,
                   server: ServerDep) -> dict[str, Any]:
    """Blind transfer: to a queue (requeued with its data), an agent, or a number."""
    from gateways.voice import control

    return await _run(server, p, call_id,
                      lambda gw, lv: control.blind_transfer(gw, lv, body.to, body.target))


class ConsultIn(BaseModel):
    to: Literal["agent", "number"]
    target: str = Field(min_length=1, max_length=100)


@router.post("/calls/{call_id}/consult")
async def consult(call_id: str, body: ConsultIn, p: Caller,
                  server: ServerDep) -> dict[str, Any]:
    """Consultative transfer, step 1: caller on hold, the target rings."""
    from gateways.voice import control

    return await _run(server, p, call_id,
                      lambda gw, lv: control.consult(gw, lv, body.to, body.target))


@router.post("/calls/{call_id}/consult/complete")
async def consult_complete(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, control.consult_complete)


@router.post("/calls/{call_id}/consult/cancel")
async def consult_cancel(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    from gateways.voice import control

    return await _run(server, p, call_id, control.consult_cancel)


@router.post("/calls/{call_id}/conference")
async def conference(call_id: str, p: Caller, server: ServerDep) -> dict[str, Any]:
    """Join caller, agent and the consulted party."""
    from gateways.voice import control

    return await _run(server, p, call_id, control.conference)


class DialIn(BaseModel):
    agent_id: str | None = None      # default: the calling agent
    number: str = Field(min_length=1, max_length=40)


@router.post("/calls", status_code=201)
async def click_to_dial(body: DialIn, p: Caller, server: ServerDep) -> dict[str, Any]:
    """Outbound click-to-dial through the trunk: the agent's device rings first."""
    from gateways.voice import VoiceError, control

    agent_id = body.agent_id or p.agent_id
    if not agent_id:
        raise ApiError(422, "validation_error", "agent_id is required")
    if not p.can_act_for_agent(agent_id):
        raise ApiError(403, "forbidden", "agents dial only for themselves")
    gw = _gateway(server)
    try:
        return await control.click_to_dial(gw, p.tenant, agent_id, body.number)
    except VoiceError as exc:
        raise ApiError(exc.status, exc.error_id, exc.message, **exc.details) from None

"""Agent call control: hold, mute, DTMF, hang-up, transfers, consultation, conference,
click-to-dial. Used by the REST API (``acd/api/routes_calls.py``) through
``VoiceGateway.submit`` so that each operation runs inside the call's actor.

Transfers
---------
* **blind to a queue**: the agent leg is hung up, the contact is completed for the agent
  (wrap-up), and a *new* contact is created in the target queue with the same data (plus
  ``transferred_from``) and the original arrival time, so the caller keeps their place in
  line; the caller hears music on hold meanwhile.
* **blind to an agent**: the same, into the current queue with ``preferred_agent`` set;
  refused (409 ``agent_unavailable``) unless that agent is ready with free voice
  capacity, so the ACD books the target like any offer.
* **blind to a number**: through the trunk (409 ``no_trunk`` without one); a target that
  does not answer sends the caller back to the queue.
* **consultative**: the caller is held (music), a consult leg rings the target (an agent's
  device or a number); ``complete`` joins caller and target and drops the agent,
  ``cancel`` drops the target and reconnects the agent; ``conference`` joins all three.
  A consulted agent is *not* booked by the ACD (the engine has no consult state): known
  limitation, see docs/voice.md.

Click-to-dial: the agent's device rings first, then the number through the trunk; the
two are bridged. Not an ACD contact (the engine has no outbound voice contact yet).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from acd import events as ev

from .callstate import Leg, Phase, VoiceCall
from .dialplan import DialError, device_uri, number_uri

if TYPE_CHECKING:
    from .gateway import LiveCall, VoiceGateway

from .gateway import VoiceError


def _need(call: VoiceCall, *phases: Phase) -> None:
    if call.phase not in phases:
        raise VoiceError(409, "bad_call_state",
                         f"call {call.id} is {call.phase.value}; needs "
                         f"{' or '.join(p.value for p in phases)}", phase=call.phase.value)


def _leg(call: VoiceCall, leg_id: str | None, what: str) -> Leg:
    leg = call.leg(leg_id)
    if leg is None or not leg.live:
        raise VoiceError(409, "no_such_leg", f"the call has no live {what} leg")
    return leg


#: Ops that send a re-INVITE: pjsua refuses them (PJ_EINVALIDOP) while another INVITE
#: transaction of the dialog is pending (our previous hold, the caller's codec-lock
#: re-INVITE), so they are retried briefly.
_REINVITE_OPS = ("hold", "resume")
_REINVITE_TRIES = 15
_REINVITE_WAIT_S = 0.1


async def _op(gw: VoiceGateway, live: LiveCall, op: str, **args: Any) -> Any:
    """A worker request that must succeed (else 409 media_error)."""
    from gateways.sip.pool import PoolError

    assert gw.pool is not None
    tries = _REINVITE_TRIES if op in _REINVITE_OPS else 1
    for attempt in range(tries):
        try:
            return await gw.pool.request(live.call.worker_id, op, **args)
        except PoolError as exc:
            if exc.code == "sip_error" and attempt + 1 < tries:
                await asyncio.sleep(_REINVITE_WAIT_S)
                continue
            raise VoiceError(409, "media_error", f"{op}: {exc.message}",
                             code=exc.code) from None
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ simple controls


async def hold(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    caller = _leg(call, call.caller_leg, "caller")
    if caller.held:
        raise VoiceError(409, "already_held", "the caller is already on hold")
    await _op(gw, live, "hold", leg=caller.id, moh=True)
    caller.held = True
    return call.view()


async def resume(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    caller = _leg(call, call.caller_leg, "caller")
    if not caller.held:
        raise VoiceError(409, "not_held", "the caller is not on hold")
    if live.consult_bridge is not None:
        raise VoiceError(409, "consult_active", "complete or cancel the consultation first")
    await _op(gw, live, "resume", leg=caller.id)
    caller.held = False
    return call.view()


async def mute(gw: VoiceGateway, live: LiveCall, on: bool) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    agent = _leg(call, call.agent_leg, "agent")
    await _op(gw, live, "mute" if on else "unmute", leg=agent.id)
    agent.muted = on
    return call.view()


async def dtmf(gw: VoiceGateway, live: LiveCall, digits: str) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    far = _leg(call, call.transfer_leg if call.direction == "outbound" else call.caller_leg,
               "far end")
    await _op(gw, live, "send_dtmf", leg=far.id, digits=digits)
    return call.view()


async def hangup(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    if not call.live:
        raise VoiceError(409, "call_ended", "the call has ended")
    if call.contact_id is not None and call.agent_id and call.phase is Phase.CONNECTED:
        gw.engine(ev.ContactCompleted(call.contact_id, call.agent_id))
    elif call.contact_id is not None and call.phase in (Phase.QUEUED, Phase.RINGING):
        gw.engine(ev.ContactCancelled(call.contact_id, "hung up through the API"))
    call.set_outcome(default_for(call), "agent", "hangup requested")
    await gw._end(live)
    return call.view()


def default_for(call: VoiceCall) -> str:
    from .cdr import default_outcome

    return default_outcome(call)


# ------------------------------------------------------------------ transfers


def _trunk(gw: VoiceGateway) -> Any:
    trunk = gw.settings.trunk
    if trunk is None:
        raise VoiceError(409, "no_trunk", "no SIP trunk is configured (server.sip.trunk)")
    return trunk


def _agent_device(gw: VoiceGateway, tenant: str, agent_id: str, *, available: bool
                  ) -> dict[str, Any]:
    try:
        view = gw.server.engine.agent_view(agent_id)
    except ev.EngineError:
        raise VoiceError(404, "agent_not_found", f"no agent {agent_id!r}") from None
    if view.get("tenant") != tenant:
        raise VoiceError(404, "agent_not_found", f"no agent {agent_id!r}")
    if view.get("presence") == "logged_out":
        raise VoiceError(409, "agent_unavailable", f"agent {agent_id} is logged out")
    if available and (view.get("presence") != "ready"
                      or "voice" not in (view.get("available_media") or [])):
        raise VoiceError(409, "agent_unavailable",
                         f"agent {agent_id} is not ready for a call", status=view.get("status"))
    return view


async def _drop_agent(gw: VoiceGateway, live: LiveCall, reason: str) -> dict[str, Any]:
    """Hang up the agent leg and complete the contact for the agent (wrap-up);
    returns the contact's data for what comes next."""
    call = live.call
    data: dict[str, Any] = {}
    arrival = call.arrival
    cid = call.contact_id
    if cid is not None:
        try:
            view = gw.server.engine.contact_view(cid)
            data = dict(view.get("data") or {})
            arrival = float(view.get("arrival") or arrival)
        except ev.EngineError:
            pass
    agent = call.leg(call.agent_leg)
    if agent is not None and agent.live:
        agent.retracted = True
        await gw.request(live, "hangup", leg=agent.id)
    if cid is not None and call.agent_id:
        gw.engine(ev.ContactCompleted(cid, call.agent_id))
        gw._by_contact.pop(cid, None)
    call.contact_id = None
    call.agent_leg = None
    call.bridge = None
    call.transfers.append({"at": gw.now(), "from_agent": call.agent_id, "kind": reason,
                           "from_contact": cid})
    data["transferred_from"] = {"contact_id": cid, "agent_id": call.agent_id}
    data["_arrival"] = arrival
    return data


async def blind_transfer(gw: VoiceGateway, live: LiveCall, to: str, target: str
                         ) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    if live.consult_bridge is not None or call.consult_leg is not None:
        raise VoiceError(409, "consult_active", "complete or cancel the consultation first")
    caller = _leg(call, call.caller_leg, "caller")
    if to == "queue":
        if (call.tenant, target) not in gw.server.queue_meta:
            raise VoiceError(404, "queue_not_found", f"no queue {target!r}")
        data = await _drop_agent(gw, live, "blind_queue")
        arrival = data.pop("_arrival")
        await _unhold(gw, live, caller)
        call.transfers[-1]["to"] = {"queue": target}
        await gw.enqueue(live, target, data=data, arrival=arrival, event="requeue")
        return call.view()
    if to == "agent":
        _agent_device(gw, call.tenant, target, available=True)
        queue = call.queue or ""
        data = await _drop_agent(gw, live, "blind_agent")
        arrival = data.pop("_arrival")
        await _unhold(gw, live, caller)
        call.transfers[-1]["to"] = {"agent": target}
        await gw.enqueue(live, queue, data=data, arrival=arrival, preferred_agent=target,
                         event="requeue")
        return call.view()
    if to == "number":
        try:
            uri = number_uri(target, gw.settings.trunk)
        except DialError as exc:
            raise VoiceError(409 if exc.code == "no_trunk" else 422, exc.code,
                             exc.message) from None
        await _drop_agent(gw, live, "blind_number")
        call.transfers[-1]["to"] = {"number": target}
        await _unhold(gw, live, caller)
        call.move("transfer")
        await gw.start_moh(live)
        leg_id = await gw.originate(live, uri, role="transfer",
                                    from_uri=gw.settings.trunk.from_uri)
        if leg_id is None:
            await _back_to_queue(gw, live)
        else:
            call.transfer_leg = leg_id
        return call.view()
    raise VoiceError(422, "bad_target", "to must be queue, agent or number")


async def _unhold(gw: VoiceGateway, live: LiveCall, caller: Leg) -> None:
    if caller.held:
        try:
            await _op(gw, live, "resume", leg=caller.id)
        except VoiceError as exc:
            gw.log_media_error(live, exc)
        caller.held = False


async def _back_to_queue(gw: VoiceGateway, live: LiveCall) -> None:
    """A transfer target did not answer: the caller goes back to the queue."""
    call = live.call
    queue = call.queue or (call.queues[0] if call.queues else "")
    call.notes.append("transfer target did not answer; back to the queue")
    await gw.enqueue(live, queue, data={"transfer_failed": True}, arrival=call.arrival,
                     event="requeue")


# ------------------------------------------------------------------ consultation


async def consult(gw: VoiceGateway, live: LiveCall, to: str, target: str) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    if call.consult_leg is not None:
        raise VoiceError(409, "consult_active", "a consultation is already in progress")
    caller = _leg(call, call.caller_leg, "caller")
    _leg(call, call.agent_leg, "agent")
    if to == "agent":
        view = _agent_device(gw, call.tenant, target, available=False)
        try:
            uri = device_uri(view.get("device"), gw.settings.trunk)
        except DialError as exc:
            raise VoiceError(409, exc.code, exc.message) from None
    elif to == "number":
        try:
            uri = number_uri(target, gw.settings.trunk)
        except DialError as exc:
            raise VoiceError(409 if exc.code == "no_trunk" else 422, exc.code,
                             exc.message) from None
    else:
        raise VoiceError(422, "bad_target", "to must be agent or number")
    if not caller.held:
        await _op(gw, live, "hold", leg=caller.id, moh=True)
        caller.held = True
    if call.bridge:
        await gw.request(live, "unbridge", bridge=call.bridge)
        call.bridge = None
    leg_id = await gw.originate(live, uri, role="consult", agent_id=target if to == "agent"
                                else None)
    if leg_id is None:
        await _reconnect(gw, live)
        raise VoiceError(409, "consult_failed", "the consult call could not be placed "
                         "(the worker may be full)")
    call.consult_leg = leg_id
    live.consult_target = {"to": to, "target": target}
    return call.view()


async def _reconnect(gw: VoiceGateway, live: LiveCall) -> None:
    """Caller back with the agent (after a consultation ended)."""
    call = live.call
    if live.consult_bridge:
        await gw.request(live, "unbridge", bridge=live.consult_bridge)
        live.consult_bridge = None
    caller = call.leg(call.caller_leg)
    agent = call.leg(call.agent_leg)
    if caller is not None and caller.live:
        await _unhold(gw, live, caller)
    if caller is not None and agent is not None and caller.live and agent.live \
            and not call.bridge:
        r = await gw.request(live, "bridge", a=caller.id, b=agent.id)
        call.bridge = r.get("bridge") if r else None


async def consult_cancel(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    leg = _leg(call, call.consult_leg, "consult")
    leg.retracted = True
    call.consult_leg = None
    live.consult_target = None
    await gw.request(live, "hangup", leg=leg.id)
    await _reconnect(gw, live)
    return call.view()


async def consult_complete(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    leg = _leg(call, call.consult_leg, "consult")
    if leg.answered_at is None:
        raise VoiceError(409, "consult_not_answered", "the consulted party has not answered")
    if live.consult_bridge:
        await gw.request(live, "unbridge", bridge=live.consult_bridge)
        live.consult_bridge = None
    target = live.consult_target or {}
    await _drop_agent(gw, live, "consult")
    call.transfers[-1]["to"] = {target.get("to", "?"): target.get("target")}
    await _join_target(gw, live, leg)
    return call.view()


async def _join_target(gw: VoiceGateway, live: LiveCall, leg: Leg) -> None:
    """The consulted party becomes the caller's party; the agent is gone."""
    call = live.call
    call.consult_leg = None
    call.transfer_leg = leg.id
    leg.role = "transfer"
    live.consult_target = None
    if leg.agent_id:
        call.add_agent(leg.agent_id)
    caller = _leg(call, call.caller_leg, "caller")
    await _unhold(gw, live, caller)
    if call.bridge:
        await gw.request(live, "unbridge", bridge=call.bridge)
    r = await gw.request(live, "bridge", a=caller.id, b=leg.id)
    call.bridge = r.get("bridge") if r else None
    call.conference = False
    call.move("answer")


async def conference(gw: VoiceGateway, live: LiveCall) -> dict[str, Any]:
    call = live.call
    _need(call, Phase.CONNECTED)
    leg = _leg(call, call.consult_leg, "consult")
    if leg.answered_at is None:
        raise VoiceError(409, "consult_not_answered", "the consulted party has not answered")
    caller = _leg(call, call.caller_leg, "caller")
    agent = _leg(call, call.agent_leg, "agent")
    if live.consult_bridge:
        await gw.request(live, "unbridge", bridge=live.consult_bridge)
        live.consult_bridge = None
    await _unhold(gw, live, caller)
    r = await _op(gw, live, "bridge", legs=[caller.id, agent.id, leg.id])
    call.bridge = r.get("bridge")
    call.conference = True
    return call.view()


# ------------------------------------------------------------------ events from the gateway


async def target_answered(gw: VoiceGateway, live: LiveCall, leg: Leg) -> None:
    """A consult, transfer or outbound target answered."""
    call = live.call
    if not call.live:
        return
    if leg.role == "consult" and leg.id == call.consult_leg:
        agent = call.leg(call.agent_leg)
        if agent is not None and agent.live:
            r = await gw.request(live, "bridge", a=agent.id, b=leg.id)
            live.consult_bridge = r.get("bridge") if r else None
    elif leg.role == "transfer" and leg.id == call.transfer_leg \
            and call.phase in (Phase.TRANSFERRING, Phase.OUTBOUND):
        await gw.stop_moh(live)
        await gw.stop_chain(live)
        other = call.caller_leg if call.direction == "inbound" else call.agent_leg
        r = await gw.request(live, "bridge", a=other, b=leg.id)
        call.bridge = r.get("bridge") if r else None
        if call.agent_answered_at is None:
            call.agent_answered_at = leg.answered_at
        call.move("answer")


async def target_gone(gw: VoiceGateway, live: LiveCall, leg: Leg, cause: str) -> None:
    call = live.call
    if leg.retracted or not call.live:
        return
    if leg.role == "consult" and leg.id == call.consult_leg:
        call.consult_leg = None
        live.consult_target = None
        if call.conference:
            call.conference = False   # the bridge goes on with caller and agent
            return
        await _reconnect(gw, live)
        return
    if leg.role == "transfer" and leg.id == call.transfer_leg:
        if call.phase is Phase.TRANSFERRING:
            call.transfer_leg = None
            await _back_to_queue(gw, live)
            return
        call.set_outcome(default_for(call), "target", cause)
        await gw._end(live)


async def agent_left_conference(gw: VoiceGateway, live: LiveCall, leg: Leg) -> bool:
    """The agent hung up during a conference: caller and third party go on."""
    call = live.call
    consult_leg = call.leg(call.consult_leg)
    if not call.conference or consult_leg is None or not consult_leg.live:
        return False
    cid = call.contact_id
    if cid is not None and call.agent_id:
        gw.engine(ev.ContactCompleted(cid, call.agent_id))
        gw._by_contact.pop(cid, None)
    call.contact_id = None
    call.agent_leg = None
    call.transfers.append({"at": gw.now(), "from_agent": call.agent_id, "kind": "conference",
                           "to": {(live.consult_target or {}).get("to", "?"):
                                  (live.consult_target or {}).get("target")}})
    call.consult_leg = None
    call.transfer_leg = consult_leg.id
    consult_leg.role = "transfer"
    if consult_leg.agent_id:
        call.add_agent(consult_leg.agent_id)
    call.conference = False
    return True


# ------------------------------------------------------------------ click-to-dial


async def click_to_dial(gw: VoiceGateway, tenant: str, agent_id: str, number: str
                        ) -> dict[str, Any]:
    from .gateway import LiveCall  # noqa: F401 - for type checkers only

    trunk = _trunk(gw)
    try:
        target_uri = number_uri(number, trunk)
    except DialError as exc:
        raise VoiceError(422, exc.code, exc.message) from None
    view = _agent_device(gw, tenant, agent_id, available=False)
    try:
        agent_uri = device_uri(view.get("device"), trunk)
    except DialError as exc:
        raise VoiceError(409, exc.code, exc.message) from None
    assert gw.pool is not None
    from gateways.sip.pool import PoolError

    try:
        reservation = await gw.pool.reserve(2)
    except PoolError as exc:
        raise VoiceError(503, "no_capacity", f"no media capacity: {exc.message}") from None
    call = VoiceCall(id=f"v-{uuid.uuid4().hex[:16]}", tenant=tenant,
                     worker_id=reservation.worker_id, arrival=gw.now(), ani=agent_id,
                     dnis=number, reservation=reservation.id, direction="outbound",
                     phase=Phase.OUTBOUND)
    call.add_agent(agent_id)
    live = gw._spawn(call)
    live.outbound_number_uri = target_uri

    async def place(lv: LiveCall) -> dict[str, Any]:
        leg_id = await gw.originate(lv, agent_uri, role="agent", agent_id=agent_id)
        if leg_id is None:
            call.set_outcome("failed", "system", "agent device could not be called")
            await gw._end(lv)
            raise VoiceError(409, "originate_failed", "the agent's device could not be called")
        call.agent_leg = leg_id
        return call.view()

    gw.counters["calls_out"] += 1
    return await gw.submit(live, place)  # type: ignore[no-any-return]


async def outbound_agent_answered(gw: VoiceGateway, live: LiveCall, leg: Leg) -> None:
    """Click-to-dial: the agent picked up; now call the number."""
    call = live.call
    uri = live.outbound_number_uri
    if uri is None or call.transfer_leg is not None:
        return
    trunk = gw.settings.trunk
    leg_id = await gw.originate(live, uri, role="transfer",
                                from_uri=trunk.from_uri if trunk else None)
    if leg_id is None:
        call.set_outcome("failed", "system", "number could not be called")
        await gw._end(live)
        return
    call.transfer_leg = leg_id

"""Call detail records: one per call, built from the call's state when it ends.

A CDR is what billing and reporting read, so every call ends with one whose ``outcome`` is
accounted for:

=================  =========================================================
outcome            meaning
=================  =========================================================
``answered``       an agent (or a transfer target) talked to the caller
``abandoned``      the caller hung up before anyone answered
``lost_on_crash``  the media worker holding the call died
``timed_out``      the queue's max wait passed with nowhere to go
``overflowed``     sent to voicemail / message by the queue's overflow
``callback``       turned into a callback request (queue overflow or IVR)
``cancelled``      withdrawn by a supervisor or integration
``self_served``    the IVR served the caller and the call ended there
``ivr_hangup``     the IVR ended the call (caller left in the menus, or a hang-up node)
``transferred``    handed to a number through the trunk (IVR transfer)
``failed``         could not be handled (unknown number, no capacity, bad queue)
``shutdown``       the server stopped during the call
``completed``      an outbound (click-to-dial) call that was answered
``no_answer``      an outbound call nobody answered
=================  =========================================================

``hangup_side`` says who ended it (``caller``, ``agent``, ``target``, ``system``) and
``hangup_cause`` why (a SIP code and reason, or a system reason). Times are seconds on the
server clock (epoch). Pure functions: the gateway stores and publishes the result.
"""

from __future__ import annotations

from typing import Any

from .callstate import VoiceCall

CDR_VERSION = 1

OUTCOMES = ("answered", "abandoned", "lost_on_crash", "timed_out", "overflowed", "callback",
            "cancelled", "self_served", "ivr_hangup", "transferred", "failed", "shutdown",
            "completed", "no_answer")


def _span(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round(max(0.0, b - a), 3)


def default_outcome(call: VoiceCall) -> str:
    """The outcome when nothing more specific was decided."""
    if call.direction == "outbound":
        return "completed" if call.agent_answered_at is not None else "no_answer"
    if call.agent_answered_at is not None:
        return "answered"
    if call.contacts:
        return "abandoned"
    if call.ivr_at is not None:
        return "ivr_hangup"
    return "failed"


def rtp_summary(call: VoiceCall) -> dict[str, Any]:
    """Received packets and losses over all legs with statistics (from RTCP/RTP stats)."""
    rx = lost = 0
    seen = False
    for leg in call.legs.values():
        st = leg.stats or {}
        if "rx_packets" in st:
            seen = True
            rx += int(st.get("rx_packets") or 0)
            lost += int(st.get("rx_lost") or 0)
    if not seen:
        return {}
    total = rx + lost
    return {"rx_packets": rx, "rx_lost": lost,
            "rx_loss_pct": round(100.0 * lost / total, 3) if total else 0.0}


def build_cdr(call: VoiceCall) -> dict[str, Any]:
    outcome = call.outcome or default_outcome(call)
    caller = call.leg(call.caller_leg)
    talk_start = call.agent_answered_at
    return {
        "version": CDR_VERSION,
        "call_id": call.id,
        "tenant": call.tenant,
        "direction": call.direction,
        "ani": call.ani,
        "dnis": call.dnis,
        "sip_call_id": call.sip_call_id,
        "contact_id": call.contacts[0] if call.contacts else None,
        "contacts": list(call.contacts),
        "queue": call.queues[0] if call.queues else None,
        "queues": list(call.queues),
        "agent_id": call.agents[0] if call.agents else None,
        "agents": list(call.agents),
        "outcome": outcome,
        "hangup_side": call.hangup_side,
        "hangup_cause": call.hangup_cause,
        "timestamps": {
            "arrival": call.arrival,
            "answered_by_system": call.answered_at,
            "ivr": call.ivr_at,
            "ivr_ended": call.ivr_ended_at,
            "queued": call.queued_at,
            "offered": call.offered_at,
            "answered": call.agent_answered_at,
            "ended": call.ended_at,
        },
        "durations": {
            "total_s": _span(call.arrival, call.ended_at),
            "ivr_s": _span(call.ivr_at, call.ivr_ended_at or call.queued_at or call.ended_at)
            if call.ivr_at is not None else None,
            "wait_s": _span(call.queued_at, call.agent_answered_at or call.ended_at)
            if call.queued_at is not None else None,
            "talk_s": _span(talk_start, call.ended_at),
        },
        "legs": [leg.to_json() for leg in call.legs.values()],
        "caller_end_code": caller.end_code if caller else None,
        "transfers": list(call.transfers),
        "ivr": {"outcome": call.ivr_outcome, "trace": call.ivr_trace}
        if call.ivr_at is not None else None,
        "media": rtp_summary(call),
        "worker": call.worker_id,
        "notes": list(call.notes),
    }

"""Why the engine offered a contact to an agent: explanation records and views.

Every offer records one explanation (a small dict) on the contact, built at decision time
from the values the engine actually compared, so ``Engine.explain(contact_id)`` answers
"why this agent?" without replaying anything:

``selection``     ``contact_side`` (the contact looked for the best available agent),
                  ``agent_side`` (an agent became free and this was the best waiting
                  contact it could serve) or ``preferred_agent``.
``trigger``       what started the search: ``contact_arrived``, ``requeued``, ``timer``,
                  ``agent_available``, ``reconfigured``.
``score``         the strategy's key parts for the chosen agent (:mod:`acd.strategies`).
``site``          contact site, agent site, match, whether same-site was still required.
``relaxation``    step in force, levels lowered by, queues added.
``candidates``    contact side: available agents in the pools and how many entries were
                  looked at; agent side: queues and waiting contacts looked at.
``result``        filled in later: accepted / rejected / no_answer / retracted:<reason>.
"""

from __future__ import annotations

from typing import Any

from .records import AgentRec, ContactRec, QueueRec
from .strategies import SortKey, score_parts

MAX_EXPLAINED_OFFERS = 20


def offer_record(*, ct: ContactRec, q: QueueRec, ag: AgentRec, key: SortKey, now: float,
                 selection: str, trigger: str, candidates: dict[str, Any]) -> dict[str, Any]:
    step = ct.step
    strategy = q.cfg.strategy
    score_skills = tuple(s for s, _ in ct.req) if ct.custom else q.score_skills
    widen = q.cfg.site_widen_after_s
    return {
        "at": now,
        "agent_id": ag.id,
        "queue": q.id,
        "selection": selection,
        "trigger": trigger,
        "strategy": strategy.value,
        "score": score_parts(strategy, key, ag, score_skills, q.rr_last),
        "requirement": dict(ct.req),
        "agent_levels": {s: ag.skills.get(s, 0) for s, _ in ct.req},
        "site": {
            "contact": ct.c.site,
            "agent": ag.site,
            "match": ct.c.site is not None and ct.c.site == ag.site,
            "same_site_required": ct.site_restricted,
            "widen_at": None if (ct.c.site is None or widen is None) else ct.queued_at + widen,
        },
        "relaxation": {
            "step": step.index if step else 0,
            "after_s": step.after_s if step else 0.0,
            "lower_levels": step.lower if step else 0,
            "add_queues": list(step.add_queues) if step else [],
        },
        "effective_priority": ct.effective_priority(q, now),
        "waited_s": now - ct.queued_at,
        "excluded_agents": sorted(a for a, u in ct.excluded.items() if u > now),
        "candidates": candidates,
        "result": "pending",
    }


def add_offer(ct: ContactRec, record: dict[str, Any]) -> None:
    ct.offers.append(record)
    if len(ct.offers) > MAX_EXPLAINED_OFFERS:
        del ct.offers[0]


def set_result(ct: ContactRec, result: str) -> None:
    if ct.offers and ct.offers[-1]["result"] == "pending":
        ct.offers[-1]["result"] = result


def explanation(ct: ContactRec, q: QueueRec | None) -> dict[str, Any]:
    """The ``Engine.explain`` answer for one (live or recently ended) contact."""
    out: dict[str, Any] = {
        "contact_id": ct.id,
        "queue": ct.queue,
        "state": ct.state.value,
        "agent_id": ct.agent_id,
        "outcome": ct.outcome.value if ct.outcome else None,
        "strategy": q.cfg.strategy.value if q else None,
        "arrival": ct.arrival,
        "queued_at": ct.queued_at,
        "seq": ct.seq,
        "offers": [dict(o) for o in ct.offers],
        "last_offer": dict(ct.offers[-1]) if ct.offers else None,
    }
    if ct.state.value == "queued":
        out["waiting"] = {
            "requirement": dict(ct.req),
            "relaxation_step": ct.step.index if ct.step else 0,
            "same_site_required": ct.site_restricted,
            "excluded_agents": sorted(ct.excluded),
            "why": "no available agent meets the requirement" if ct.step else "not evaluated",
        }
    return out

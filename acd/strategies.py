"""Agent-selection strategies: one sort key per strategy, plus its explanation.

A strategy is a *sort key* over available agents: the engine keeps, per agent pool, the
available agents in a sorted list by this key, so choosing an agent is "the first entry
that passes the contact's filters" - O(1) in the usual case, never a scan of all agents.
Every key ends with the agent id, which makes ties deterministic and entries unique.

Keys (smaller is better):

``longest-idle``    ``(held, idle_since, agent_id)`` - agents holding nothing first, then
                    the one free for the longest time (``idle_since`` is the moment the
                    agent last finished all its work, went ready, or missed/rejected an
                    offer), then agent id.
``most-skilled``    ``(-level_sum, held, idle_since, agent_id)`` - the highest sum of the
                    agent's levels over the *required* skills (of the contact, or of the
                    queue), then as longest-idle.
``least-occupied``  ``(occupancy, idle_since, agent_id)`` - occupancy is the busy fraction
                    of capacity *now*: contacts held / total capacity over all media. We
                    chose this over "share of handled time" because it needs no history
                    and is exact at decision time; it spreads chats across agents.
``round-robin``     ``(agent_id,)`` - the engine walks agents in id order starting after
                    the last agent the queue offered to, wrapping around (see
                    :func:`rr_rank`).

The keys only depend on agent state the engine re-indexes on every change
(held count, idle_since, presence, capacity, skills), which keeps the sorted lists exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .model import Strategy


class AgentLike(Protocol):
    id: str
    held_total: int
    idle_since: float
    cap_total: int
    skills: Any  # Mapping[str, int]


SortKey = tuple[Any, ...]
KeyFn = Callable[[AgentLike], SortKey]


def occupancy(agent: AgentLike) -> float:
    """Busy fraction of total capacity (1.0 for an agent without capacity)."""
    if agent.cap_total <= 0:
        return 1.0
    return agent.held_total / agent.cap_total


def level_sum(agent: AgentLike, score_skills: tuple[str, ...]) -> int:
    skills = agent.skills
    return sum(skills.get(s, 0) for s in score_skills)


def key_fn(strategy: Strategy, score_skills: tuple[str, ...]) -> KeyFn:
    """The sort key function for ``strategy``; ``score_skills`` only matters for most-skilled."""
    if strategy is Strategy.LONGEST_IDLE:
        return lambda a: (a.held_total, a.idle_since, a.id)
    if strategy is Strategy.MOST_SKILLED:
        names = tuple(score_skills)
        return lambda a: (-level_sum(a, names), a.held_total, a.idle_since, a.id)
    if strategy is Strategy.LEAST_OCCUPIED:
        return lambda a: (occupancy(a), a.idle_since, a.id)
    if strategy is Strategy.ROUND_ROBIN:
        return lambda a: (a.id,)
    raise ValueError(f"unknown strategy {strategy!r}")


def rr_rank(agent_id: str, last: str | None) -> tuple[bool, str]:
    """Round-robin rank: ids after ``last`` come first (in order), then wrap around."""
    if last is None:
        return (False, agent_id)
    return (agent_id <= last, agent_id)


def score_parts(strategy: Strategy, key: SortKey, agent: AgentLike,
                score_skills: tuple[str, ...], rr_last: str | None) -> dict[str, Any]:
    """Human-readable parts of ``key`` (the key the agent had when it was chosen)."""
    if strategy is Strategy.LONGEST_IDLE:
        return {"held": key[0], "idle_since": key[1], "agent_id": key[2]}
    if strategy is Strategy.MOST_SKILLED:
        return {
            "level_sum": -key[0],
            "levels": {s: agent.skills.get(s, 0) for s in score_skills},
            "held": key[1], "idle_since": key[2], "agent_id": key[3],
        }
    if strategy is Strategy.LEAST_OCCUPIED:
        return {"occupancy": key[0], "held": agent.held_total, "capacity": agent.cap_total,
                "idle_since": key[1], "agent_id": key[2]}
    return {"agent_id": key[0], "after_agent": rr_last}

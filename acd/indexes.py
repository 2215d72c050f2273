"""Hot-path indexes of the routing core: agent pools and waiting lists.

Why these shapes
----------------
Routing asks two questions, each many times a second:

1. *A contact needs an agent*: which available agent that meets this skill requirement
   is best by the queue's strategy? -> :class:`AgentPool`: the agents meeting one
   requirement (tenant + skill minimums), and per ``(media, site)`` a sorted list of the
   ones available for that media, by the strategy key (:mod:`acd.strategies`). The answer
   is the first entry passing the contact's cheap filters.
2. *An agent became free*: which waiting contact should it get? ->
   :class:`WaitingIndex`: per queue and media a sorted list of waiting contacts by
   (time-invariant priority key, arrival, seq); the head of each list that the agent may
   serve is that queue's candidate, and queues compete by effective priority.

Sorted lists (``bisect``) rather than heaps: removal of a known entry is a bisect plus a
``memmove``, the order is readable (``Engine.waiting``) and scanning past a few
ineligible heads is natural. Lists are bounded by agents / waiting contacts per index.

Pools are shared and reference-counted: a queue pins the pools of its relaxation steps,
a contact with its own skill requirement holds one while it waits. Per-``(media, site)``
lists are built lazily the first time a contact of that media/site asks.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .model import Strategy
from .strategies import KeyFn, SortKey, key_fn

Requirement = tuple[tuple[str, int], ...]  # sorted (skill, minimum level) pairs
PoolKey = tuple[str, Requirement, Strategy, tuple[str, ...]]


class PoolAgent(Protocol):
    id: str
    tenant: str
    skills: Any
    held_total: int
    idle_since: float
    cap_total: int
    pools: dict[Any, None]

    @property
    def site(self) -> str | None: ...

    def available(self, media: str) -> bool: ...


def requirement(skills: Any, lower: int = 0) -> Requirement:
    """Normalise a skill map to a requirement, lowering each level by ``lower`` (min 1)."""
    return tuple(sorted((str(s), max(1, int(lvl) - lower)) for s, lvl in skills.items()))


def meets(agent_skills: Any, req: Requirement) -> bool:
    get = agent_skills.get
    for skill, level in req:
        if get(skill, 0) < level:
            return False
    return True


class AgentPool:
    """Agents of one tenant meeting one requirement, sorted by one strategy key."""

    __slots__ = (
        "_key_fn",
        "entry",
        "key",
        "lists",
        "members",
        "refs",
        "req",
        "score_skills",
        "strategy",
        "tenant",
    )

    def __init__(self, key: PoolKey) -> None:
        self.key = key
        self.tenant, self.req, self.strategy, self.score_skills = key
        self.members: set[str] = set()
        self.lists: dict[tuple[str, str | None], list[SortKey]] = {}
        self.entry: dict[str, SortKey] = {}   # agent id -> its current sort key
        self.refs = 0
        self._key_fn: KeyFn = key_fn(self.strategy, self.score_skills)

    def qualifies(self, agent: PoolAgent) -> bool:
        return agent.tenant == self.tenant and meets(agent.skills, self.req)

    def add(self, agent: PoolAgent) -> None:
        self.members.add(agent.id)
        agent.pools[self] = None
        self.refresh(agent)

    def discard(self, agent: PoolAgent) -> None:
        old = self.entry.pop(agent.id, None)
        if old is not None:
            for lst in self.lists.values():
                _remove(lst, old)
        self.members.discard(agent.id)
        agent.pools.pop(self, None)

    def refresh(self, agent: PoolAgent) -> None:
        """Re-file the agent after any change of its state (key or availability)."""
        new = self._key_fn(agent)
        old = self.entry.get(agent.id)
        self.entry[agent.id] = new
        if not self.lists:
            return
        avail: dict[str, bool] = {}
        site = agent.site
        for (media, lsite), lst in self.lists.items():
            if old is not None:
                _remove(lst, old)
            ok = avail.get(media)
            if ok is None:
                ok = avail[media] = agent.available(media)
            if ok and (lsite is None or lsite == site):
                insort(lst, new)

    def sorted_for(self, media: str, site: str | None,
                   agents: Callable[[str], PoolAgent]) -> list[SortKey]:
        """Available members for ``media`` (at ``site`` if given), best first."""
        lst = self.lists.get((media, site))
        if lst is None:
            lst = []
            for aid in self.members:
                a = agents(aid)
                if a.available(media) and (site is None or a.site == site):
                    lst.append(self.entry[aid])
            lst.sort()
            self.lists[(media, site)] = lst
        return lst

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"AgentPool({self.tenant}, {dict(self.req)}, {self.strategy.value})"


def _remove(lst: list[SortKey], entry: SortKey) -> None:
    i = bisect_left(lst, entry)
    if i < len(lst) and lst[i] == entry:
        del lst[i]


class PoolRegistry:
    """Creates pools on first use, keeps membership current, drops unreferenced pools."""

    def __init__(self, agents: dict[str, Any]) -> None:
        self._agents = agents
        self._pools: dict[PoolKey, AgentPool] = {}

    def __len__(self) -> int:
        return len(self._pools)

    def acquire(self, tenant: str, req: Requirement, strategy: Strategy,
                score_skills: tuple[str, ...]) -> AgentPool:
        key = (tenant, req, strategy,
               score_skills if strategy is Strategy.MOST_SKILLED else ())
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = AgentPool(key)
            for agent in self._agents.values():
                if pool.qualifies(agent):
                    pool.add(agent)
        pool.refs += 1
        return pool

    def release(self, pool: AgentPool) -> None:
        pool.refs -= 1
        if pool.refs <= 0 and self._pools.get(pool.key) is pool:
            del self._pools[pool.key]
            for aid in list(pool.members):
                pool.discard(self._agents[aid])

    def agent_configured(self, agent: PoolAgent) -> None:
        """(Re)compute the pools an agent belongs to after its config changed."""
        for pool in self._pools.values():
            if pool.qualifies(agent):
                if agent.id in pool.members:
                    pool.refresh(agent)
                else:
                    pool.add(agent)
            elif agent.id in pool.members:
                pool.discard(agent)

    def agent_removed(self, agent: PoolAgent) -> None:
        for pool in list(agent.pools):
            pool.discard(agent)

    def pools(self) -> Iterable[AgentPool]:
        return self._pools.values()


# --------------------------------------------------------------------- waiting contacts

WaitEntry = tuple[float, float, int, str]  # (-static priority, arrival, seq, contact id)


class WaitingIndex:
    """Waiting contacts per (queue, media), in routing order.

    ``by_tenant_media[(tenant, media)]`` maps queue id -> its non-empty list, so an agent
    that became free only looks at queues that have someone waiting in its media.
    """

    def __init__(self) -> None:
        self.lists: dict[tuple[str, str], list[WaitEntry]] = {}
        self.by_tenant_media: dict[tuple[str, str], dict[str, list[WaitEntry]]] = {}
        self.count: dict[str, int] = {}

    def add(self, tenant: str, queue: str, media: str, entry: WaitEntry) -> None:
        lst = self.lists.get((queue, media))
        if lst is None:
            lst = self.lists[(queue, media)] = []
        if not lst:
            self.by_tenant_media.setdefault((tenant, media), {})[queue] = lst
        insort(lst, entry)
        self.count[queue] = self.count.get(queue, 0) + 1

    def remove(self, tenant: str, queue: str, media: str, entry: WaitEntry) -> None:
        lst = self.lists.get((queue, media))
        if lst is None:
            return
        i = bisect_left(lst, entry)
        if i < len(lst) and lst[i] == entry:
            del lst[i]
            self.count[queue] -= 1
            if not lst:
                tm = self.by_tenant_media.get((tenant, media))
                if tm is not None:
                    tm.pop(queue, None)

    def in_queue(self, queue: str) -> list[WaitEntry]:
        """All waiting entries of one queue, in routing order (merged over media)."""
        merged: list[WaitEntry] = []
        for (q, _media), lst in self.lists.items():
            if q == queue:
                merged.extend(lst)
        merged.sort()
        return merged

    def drop_queue(self, queue: str) -> None:
        for key in [k for k in self.lists if k[0] == queue]:
            del self.lists[key]
        for tm in self.by_tenant_media.values():
            tm.pop(queue, None)
        self.count.pop(queue, None)

"""Who may serve whom, and who is best: the search half of the routing engine.

The engine (:mod:`acd.engine`) owns the state machines and emits decisions; this module
answers its two questions from the indexes (:mod:`acd.indexes`) without changing any
state but the indexes' bookkeeping:

* :meth:`Selector.best_agent` - *contact side*: the best available agent for a waiting
  contact by its queue's strategy (first passing entry of each candidate pool, pools
  compared by the strategy key; round-robin walks ids after the queue's last agent);
* :meth:`Selector.best_contact` - *agent side*: the waiting contact an agent with free
  capacity should get: the head-most eligible contact of each queue with waiting work in
  a media the agent has room for, queues compared by (effective priority, arrival, seq).

Eligibility of an agent for a contact *now* (:meth:`Selector.eligible_pool`): same tenant
and skills (membership of one of the pools of the contact's current relaxation step),
value tier, same site while the contact still requires it, and not excluded after a
reject / ring-no-answer. The contact's step is cached until the next wait-based change
(:meth:`Selector.refresh_step`), so an eligibility check is a few dict lookups.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import chain
from typing import Any

from .indexes import AgentPool, PoolRegistry, WaitingIndex, requirement
from .model import MEDIA, ContactState, Presence, Strategy
from .records import AgentRec, ContactRec, QueueRec
from .strategies import SortKey, rr_rank


class Selector:
    """Eligibility and best-match search over the engine's records and indexes."""

    def __init__(self, agents: dict[str, AgentRec], queues: dict[str, QueueRec],
                 contacts: dict[str, ContactRec], pools: PoolRegistry,
                 waiting: WaitingIndex) -> None:
        self.agents = agents
        self.queues = queues
        self.contacts = contacts
        self.pools = pools
        self.waiting = waiting

    # ----------------------------------------------------------- best matches

    def best_agent(self, ct: ContactRec, q: QueueRec, now: float
                   ) -> tuple[AgentRec, SortKey, str, dict[str, Any]] | None:
        """(agent, its strategy key, selection kind, candidate counts) or None."""
        self.refresh_step(ct, q, now)
        pref = ct.preferred
        if pref is not None:
            ag = self.agents.get(pref)
            if ag is not None and ag.available(ct.media):
                pool = self.eligible_pool(ct, ag, now)
                if pool is not None:
                    return ag, pool.entry[ag.id], "preferred_agent", {"preferred_agent": pref}
        site = ct.c.site if ct.site_restricted else None
        media, tier, excluded = ct.media, ct.tier, ct.excluded
        agents = self.agents
        rr = q.cfg.strategy is Strategy.ROUND_ROBIN
        last = q.rr_last
        best: AgentRec | None = None
        best_rank: SortKey | None = None
        best_key: SortKey = ()
        available = scanned = 0
        for pool in ct.pools:
            lst = pool.sorted_for(media, site, agents.__getitem__)
            n = len(lst)
            if not n:
                continue
            available += n
            if rr and last is not None:
                start = bisect_right(lst, (last,))
                order: Any = chain(range(start, n), range(start))
            else:
                order = range(n)
            for i in order:
                entry = lst[i]
                scanned += 1
                aid = entry[-1]
                if excluded and excluded.get(aid, -math.inf) > now:
                    continue
                ag = agents[aid]
                if ag.tiers and not ag.serves_tier(tier):
                    continue
                rank = rr_rank(aid, last) if rr else entry
                if best_rank is None or rank < best_rank:
                    best, best_rank, best_key = ag, rank, entry
                break
        if best is None:
            return None
        cand = {"available": available, "considered": scanned, "pools": len(ct.pools)}
        return best, best_key, "contact_side", cand

    def best_contact(self, ag: AgentRec, now: float
                     ) -> tuple[ContactRec, AgentPool, dict[str, Any]] | None:
        """(contact, pool that makes the agent eligible, candidate counts) or None."""
        if ag.presence is not Presence.READY:
            return None
        queues, contacts = self.queues, self.contacts
        best: ContactRec | None = None
        best_rank: SortKey | None = None
        best_pool: AgentPool | None = None
        nq = nc = 0
        for media in MEDIA:
            if not ag.available(media):
                continue
            qmap = self.waiting.by_tenant_media.get((ag.tenant, media))
            if not qmap:
                continue
            for qid, lst in qmap.items():
                q = queues[qid]
                if not q.custom_waiting:
                    # cheap pre-check: the agent is in none of the queue's pools
                    pools = ag.pools
                    for p in q.pinned:
                        if p in pools:
                            break
                    else:
                        continue
                nq += 1
                for e in lst:
                    nc += 1
                    ct = contacts[e[3]]
                    pool = self.eligible_pool(ct, ag, now)
                    if pool is None:
                        continue
                    rank = (-ct.effective_priority(q, now), ct.arrival, ct.seq)
                    if best_rank is None or rank < best_rank:
                        best, best_rank, best_pool = ct, rank, pool
                    break
        if best is None or best_pool is None:
            return None
        return best, best_pool, {"queues": nq, "contacts_considered": nc}

    def eligible_pool(self, ct: ContactRec, ag: AgentRec, now: float) -> AgentPool | None:
        """The pool through which ``ag`` may serve ``ct`` now (None: not eligible)."""
        if ct.excluded:
            until = ct.excluded.get(ag.id)
            if until is not None and until > now:
                return None
        if ag.tiers and not ag.serves_tier(ct.tier):
            return None
        self.refresh_step(ct, self.queues[ct.queue], now)
        if ct.site_restricted and ag.site != ct.c.site:
            return None
        pools = ag.pools
        for p in ct.pools:
            if p in pools:
                return p
        return None

    # ------------------------------------------------- waiting-list bookkeeping

    def enqueue(self, ct: ContactRec, q: QueueRec) -> None:
        """File a contact in its queue's waiting list at its (time-invariant) place."""
        ct.base = float(ct.c.priority + q.base_priority)
        static = ct.base - q.aging * ct.arrival / 60.0
        ct.entry = (-static, ct.arrival, ct.seq, ct.id)
        self.waiting.add(ct.tenant, q.id, ct.media, ct.entry)
        if ct.custom:
            q.custom_waiting += 1
        ct.step = None
        ct.invalidate_step()

    def dequeue(self, ct: ContactRec) -> None:
        if ct.entry is None:
            return
        self.waiting.remove(ct.tenant, ct.queue, ct.media, ct.entry)
        ct.entry = None
        if ct.custom:
            self.queues[ct.queue].custom_waiting -= 1
            for p in ct.custom_pools:
                self.pools.release(p)
            ct.custom_pools = []
        ct.pools = []
        ct.step = None
        ct.invalidate_step()

    def refresh_step(self, ct: ContactRec, q: QueueRec, now: float) -> None:
        """Bring the contact's relaxation step / site phase / pools up to ``now``."""
        if ct.step is not None and ct.step_from <= now < ct.step_until:
            return
        step, until = q.step_at(ct.queued_at, now)
        restricted = False
        if ct.c.site is not None:
            widen = q.cfg.site_widen_after_s
            if widen is None:
                restricted = True
            elif now < ct.queued_at + widen:
                restricted = True
                until = min(until, ct.queued_at + widen)
        if step is not ct.step:
            if ct.custom:
                strategy = q.cfg.strategy
                req = requirement(ct.c.skills or {}, step.lower)
                score = tuple(s for s, _ in req)
                acquired = [self.pools.acquire(ct.tenant, req, strategy, score)]
                for aq in step.add_queues:
                    other = self.queues.get(aq)
                    if other is not None:
                        acquired.append(self.pools.acquire(ct.tenant, other.req, strategy, score))
                for p in ct.custom_pools:
                    self.pools.release(p)
                ct.custom_pools = acquired
                ct.pools = list(dict.fromkeys(acquired))
                ct.req = req
            else:
                ct.pools = step.pools
                ct.req = step.pools[0].req if step.pools else ()
            ct.step = step
        ct.site_restricted = restricted
        ct.step_from = now
        ct.step_until = until

    def repin_all(self) -> None:
        """Recompute every queue's pinned pools (steps x added queues) after a config change."""
        for q in self.queues.values():
            strategy = q.cfg.strategy
            acquired: list[AgentPool] = []
            for step in q.steps:
                pools = [self.pools.acquire(q.tenant, requirement(q.cfg.skills, step.lower),
                                            strategy, q.score_skills)]
                for aq in step.add_queues:
                    other = self.queues.get(aq)
                    if other is not None:
                        pools.append(self.pools.acquire(q.tenant, other.req, strategy,
                                                        q.score_skills))
                acquired.extend(pools)
                step.pools = list(dict.fromkeys(pools))
            for pool in q.pinned:
                self.pools.release(pool)
            q.pinned = acquired
            q.base_pool = q.steps[0].pools[0]
        for ct in self.contacts.values():
            if ct.state is ContactState.QUEUED:
                ct.step = None
                ct.invalidate_step()

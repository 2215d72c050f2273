"""Hypothesis stateful test of the engine's invariants.

A model built only from the engine's *decisions* (offers, retractions, notices) is checked
after every step:

* an agent is never over capacity per media, and never mixes voice with digital work
  when ``voice_exclusive``;
* a contact is never offered to (or held by) two agents at once;
* FIFO within equal effective priority: an offer never skips an older waiting contact
  of the same queue, media and priority that the agent could have taken;
* a not-ready or logged-out agent gets no new offers, and an offer respects the site
  rule (with widening) and the re-offer exclusion;
* every ended contact has an outcome;
* routing is eager: no waiting contact and available, eligible agent are left unmatched
  (all agents have the skills of all queues here; eligibility is the site rule, with
  widening, and the re-offer exclusion);
* the engine's own agent view agrees with the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from acd.engine import Engine
from acd.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentUpdated,
    AgentWentNotReady,
    AgentWentReady,
    CancelTimer,
    ContactAbandoned,
    ContactArrived,
    ContactCancelled,
    ContactCompleted,
    ContactUpdated,
    EngineError,
    Offer,
    OfferAccepted,
    OfferRejected,
    RetractOffer,
    StartTimer,
    TimerFired,
    WrapUpCompleted,
)
from acd.model import (
    AgentConfig,
    Channel,
    Contact,
    Overflow,
    OverflowAction,
    Presence,
    QueueConfig,
    Strategy,
)

RING = 10.0
SITES = {"a0": "s1", "a1": "s2", "a2": "s1", "a3": None}
WIDEN = {"q1": 15.0, "q2": None, "q3": 15.0, "q4": 0.0}
CAPS = {
    "a0": ({"voice": 1, "chat": 3, "email": 2, "sms": 3}, True),
    "a1": ({"voice": 1, "chat": 2, "email": 1, "sms": 0}, False),
    "a2": ({"voice": 1, "chat": 0, "email": 0, "sms": 0}, True),
    "a3": ({"voice": 0, "chat": 1, "email": 1, "sms": 0}, True),
}
QUEUES = [
    QueueConfig(id="q1", tenant="t", strategy=Strategy.LONGEST_IDLE, ring_timeout_s=RING,
                max_wait_s=100, site_widen_after_s=WIDEN["q1"], wrapup_s={"voice": 5, "chat": 0, "email": 2, "sms": 1},
                no_answer_threshold=2),
    QueueConfig(id="q2", tenant="t", strategy=Strategy.ROUND_ROBIN, ring_timeout_s=RING,
                priority=1, skills={"x": 3}, site_widen_after_s=WIDEN["q2"],
                overflows=(Overflow(60, OverflowAction.CALLBACK),), no_answer_threshold=1),
    QueueConfig(id="q3", tenant="t", strategy=Strategy.LEAST_OCCUPIED, ring_timeout_s=RING,
                aging_per_min=2, site_widen_after_s=WIDEN["q3"], overflows=(Overflow(30, OverflowAction.QUEUE, "q1"),),
                no_answer_threshold=3),
    QueueConfig(id="q4", tenant="t", strategy=Strategy.MOST_SKILLED, ring_timeout_s=RING,
                skills={"x": 1, "y": 1}, aging_per_min=0, site_widen_after_s=WIDEN["q4"]),
]
CHANNELS = [Channel.VOICE, Channel.CHAT, Channel.EMAIL, Channel.SMS, Channel.CALLBACK,
            Channel.WEBRTC]


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.e = Engine()
        self.now = 0.0
        self.timers: dict[tuple, float] = {}
        for q in QUEUES:
            self.e.configure_queue(q, now=0)
        for aid, (cap, excl) in CAPS.items():
            self.e.configure_agent(AgentConfig(id=aid, tenant="t", skills={"x": 5, "y": 2},
                                               capacity=cap, voice_exclusive=excl,
                                               home_site=SITES[aid]), now=0)
        self.presence = {aid: Presence.LOGGED_OUT for aid in CAPS}
        self.holder: dict[str, str] = {}              # contact -> agent holding it
        self.held: dict[str, dict[str, str]] = {aid: {} for aid in CAPS}  # agent -> {c: media}
        self.state: dict[str, str] = {}               # contact -> last ContactUpdated state
        self.queue: dict[str, str] = {}
        self.media: dict[str, str] = {}
        self.prio: dict[str, int] = {}
        self.site: dict[str, str | None] = {}
        self.excluded: dict[tuple[str, str], float] = {}
        self.n = 0

    # ------------------------------------------------------------- plumbing
    def send(self, event: Any) -> list:
        out = self.e.handle(event, self.now)
        self.apply(out)
        return out

    def apply(self, out: list) -> None:
        offered = []
        for d in out:
            if isinstance(d, StartTimer):
                self.timers[d.key] = d.at
            elif isinstance(d, CancelTimer):
                self.timers.pop(d.key, None)
            elif isinstance(d, Offer):
                c, a = d.contact_id, d.agent_id
                assert c not in self.holder, f"{c} offered to {a} while held by {self.holder[c]}"
                assert self.presence[a] is Presence.READY, f"offer to {a} in {self.presence[a]}"
                assert self.state[c] == "queued"
                assert self._may_serve(c, a), f"{c} offered to ineligible {a}"
                self.holder[c] = a
                self.held[a][c] = self.media[c]
                self._check_capacity(a)
                offered.append((c, a))
            elif isinstance(d, RetractOffer):
                assert self.holder.get(d.contact_id) == d.agent_id
                del self.holder[d.contact_id]
                del self.held[d.agent_id][d.contact_id]
                if d.reason == "no_answer":
                    self.excluded[(d.contact_id, d.agent_id)] = self.now + RING
            elif isinstance(d, ContactUpdated):
                c = d.contact_id
                assert d.at == self.now
                self.state[c] = d.state
                self.queue[c] = d.queue
                if d.state in ("queued", "ended") and c in self.holder:
                    del self.held[self.holder.pop(c)][c]
                if d.state == "ended":
                    assert d.outcome is not None
                else:
                    assert d.outcome is None
            elif isinstance(d, AgentUpdated):
                assert d.at == self.now
                self.presence[d.agent_id] = d.presence
        self._check_fifo(offered)

    def _check_capacity(self, a: str) -> None:
        cap, excl = CAPS[a]
        counts: dict[str, int] = {}
        for m in self.held[a].values():
            counts[m] = counts.get(m, 0) + 1
        for m, n in counts.items():
            assert n <= cap[m], f"{a} over capacity in {m}: {n}"
        if excl:
            assert not (counts.get("voice") and sum(counts.values()) > counts["voice"])

    def _excluded(self, c: str, a: str) -> bool:
        return self.excluded.get((c, a), -1.0) > self.now

    def _may_serve(self, c: str, a: str) -> bool:
        """Model of eligibility: all agents have the skills; site rule and exclusion."""
        if self._excluded(c, a):
            return False
        site = self.site[c]
        if site is None or SITES[a] == site:
            return True
        widen = WIDEN[self.queue[c]]
        if widen is None:
            return False
        return self.now >= self.e.contact_view(c)["queued_at"] + widen

    def _available(self, a: str, media: str) -> bool:
        if self.presence[a] is not Presence.READY:
            return False
        cap, excl = CAPS[a]
        held = list(self.held[a].values())
        if held.count(media) >= cap[media]:
            return False
        if excl:
            if media == "voice":
                return all(m == "voice" for m in held)
            return "voice" not in held
        return True

    def _check_fifo(self, offered: list[tuple[str, str]]) -> None:
        for c, a in offered:
            if c not in self.holder:
                continue
            q = self.queue[c]
            view = self.e.contact_view(c)
            for other in self.e.waiting(q):
                if (self.media[other] == self.media[c] and self.prio[other] == self.prio[c]
                        and self._may_serve(other, a)):
                    ov = self.e.contact_view(other)
                    assert (ov["arrival"], ov["seq"]) > (view["arrival"], view["seq"]), \
                        f"{a} got {c} while older {other} waits in {q}"

    def waiting_contacts(self) -> list[str]:
        return sorted(c for c, s in self.state.items() if s in ("queued",) and c not in self.holder)

    def pairs(self, activity: str) -> list[tuple[str, str]]:
        return sorted((c, a) for c, a in self.holder.items()
                      if self.e.agent_view(a)["contacts"][c]["state"] == activity)

    # ---------------------------------------------------------------- rules
    @rule(q=st.sampled_from([q.id for q in QUEUES]), ch=st.sampled_from(CHANNELS),
          prio=st.sampled_from([0, 0, 1]), back=st.sampled_from([0, 0, 0, 5, 40]),
          site=st.sampled_from([None, None, "s1", "s2"]))
    def arrive(self, q: str, ch: Channel, prio: int, back: float, site: str | None) -> None:
        cid = f"c{self.n}"
        self.n += 1
        self.media[cid] = ch.media
        self.prio[cid] = prio
        self.site[cid] = site
        self.state[cid] = "new"
        arrival = max(0.0, self.now - back)   # callbacks keep an older arrival
        self.send(ContactArrived(Contact(cid, "t", ch, q, arrival, priority=prio, site=site)))

    @rule(dt=st.sampled_from([0.5, 1.0, 3.0, 5.0, 10.0, 25.0]))
    def advance_time(self, dt: float) -> None:
        target = self.now + dt
        for _ in range(2_000):  # a timer storm is a bug, not a reason to hang
            due = [(at, repr(k), k) for k, at in self.timers.items() if at <= target]
            if not due:
                break
            at, _r, key = min(due)
            del self.timers[key]
            self.now = max(self.now, at)
            self.apply(self.e.handle(TimerFired(key), self.now))
        else:
            raise AssertionError(f"timers keep firing before t={target}")
        self.now = target

    @rule(aid=st.sampled_from(sorted(CAPS)), data=st.data())
    def presence_change(self, aid: str, data: st.DataObject) -> None:
        if self.presence[aid] is Presence.LOGGED_OUT:
            self.send(AgentLoggedIn(aid, f"sip:{aid}"))
            assert self.presence[aid] is Presence.NOT_READY
            return
        what = data.draw(st.sampled_from(["ready", "ready", "not_ready", "logout"]))
        if what == "ready":
            self.send(AgentWentReady(aid))
            assert self.presence[aid] is Presence.READY
        elif what == "not_ready":
            self.send(AgentWentNotReady(aid, "break"))
            assert self.presence[aid] is Presence.NOT_READY
        else:
            self.send(AgentLoggedOut(aid))
            assert self.presence[aid] is Presence.LOGGED_OUT
            assert all(s != "offered" for s in self.e.agent_view(aid)["contacts"].values())

    @precondition(lambda self: bool(self.pairs("offered")))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        c, a = data.draw(st.sampled_from(self.pairs("offered")))
        if accept:
            self.send(OfferAccepted(c, a))
        else:
            self.excluded[(c, a)] = self.now + RING
            self.send(OfferRejected(c, a))

    @precondition(lambda self: bool(self.pairs("busy")))
    @rule(data=st.data(), hangup=st.booleans())
    def complete(self, data: st.DataObject, hangup: bool) -> None:
        c, a = data.draw(st.sampled_from(self.pairs("busy")))
        self.send(ContactAbandoned(c) if hangup else ContactCompleted(c, a))

    @precondition(lambda self: bool(self.pairs("wrap_up")))
    @rule(data=st.data())
    def wrapup_done(self, data: st.DataObject) -> None:
        c, a = data.draw(st.sampled_from(self.pairs("wrap_up")))
        self.send(WrapUpCompleted(c, a))

    @precondition(lambda self: any(s in ("queued", "offered") for s in self.state.values()))
    @rule(data=st.data(), cancel=st.booleans())
    def customer_leaves(self, data: st.DataObject, cancel: bool) -> None:
        c = data.draw(st.sampled_from(sorted(k for k, s in self.state.items()
                                             if s in ("queued", "offered"))))
        self.send(ContactCancelled(c) if cancel else ContactAbandoned(c))
        assert self.state[c] == "ended"

    @precondition(lambda self: bool(self.state))
    @rule(data=st.data(), aid=st.sampled_from(sorted(CAPS)))
    def misuse_is_rejected_without_effect(self, data: st.DataObject, aid: str) -> None:
        c = data.draw(st.sampled_from(sorted(self.state)))
        if self.holder.get(c) == aid and self.state[c] == "offered":
            return
        before = self.e.agent_view(aid)
        with pytest.raises(EngineError):
            self.e.handle(OfferAccepted(c, aid), self.now)
        assert self.e.agent_view(aid) == before

    # ----------------------------------------------------------- invariants
    @invariant()
    def engine_agrees_with_model(self) -> None:
        for aid in CAPS:
            view = self.e.agent_view(aid)
            assert set(view["contacts"]) == set(self.held[aid])
            assert view["presence"] == self.presence[aid].value
            self._check_capacity(aid)

    @invariant()
    def ended_contacts_have_outcomes(self) -> None:
        for c, s in self.state.items():
            if s == "ended":
                assert self.e.contact_view(c)["outcome"] is not None

    @invariant()
    def routing_is_eager(self) -> None:
        for q in QUEUES:
            for c in self.e.waiting(q.id):
                assert self.state[c] == "queued" and c not in self.holder
                for a in CAPS:
                    if self._available(a, self.media[c]) and self._may_serve(c, a):
                        raise AssertionError(f"{c} waits in {q.id} while {a} is free")


EngineMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineProperties = EngineMachine.TestCase

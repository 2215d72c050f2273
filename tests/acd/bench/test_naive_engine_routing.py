"""The naive baseline routes correctly: it must, or the benchmark's ratio means nothing."""

from __future__ import annotations

import pytest

from acd.bench.naive import NaiveEngine
from acd.events import (
    AgentLoggedIn,
    AgentUpdated,
    AgentWentNotReady,
    AgentWentReady,
    CancelTimer,
    ContactAbandoned,
    ContactArrived,
    ContactCompleted,
    ContactUpdated,
    Decision,
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
    Presence,
    QueueConfig,
    Relaxation,
    Strategy,
)

T = "t"


def offers(ds: list[Decision]) -> list[tuple[str, str]]:
    return [(d.contact_id, d.agent_id) for d in ds if isinstance(d, Offer)]


def timers(ds: list[Decision]) -> dict[tuple, float]:
    return {d.key: d.at for d in ds if isinstance(d, StartTimer)}


def make(queues: list[QueueConfig], agents: list[AgentConfig]) -> NaiveEngine:
    e = NaiveEngine()
    for q in queues:
        e.configure_queue(q)
    for a in agents:
        e.configure_agent(a)
    return e


def ready(e: NaiveEngine, aid: str, now: float, site: str | None = None) -> list[Decision]:
    e.handle(AgentLoggedIn(aid, f"sip:{aid}", site=site), now)
    return e.handle(AgentWentReady(aid), now)


def arrive(e: NaiveEngine, cid: str, now: float, queue: str = "q", **kw: object) -> list[Decision]:
    channel = kw.pop("channel", Channel.VOICE)
    return e.handle(ContactArrived(Contact(id=cid, tenant=T, channel=channel,  # type: ignore[arg-type]
                                           queue=queue, arrival=now, **kw)), now)  # type: ignore[arg-type]


def agent(aid: str, **kw: object) -> AgentConfig:
    return AgentConfig(id=aid, tenant=T, **kw)  # type: ignore[arg-type]


def queue(qid: str = "q", **kw: object) -> QueueConfig:
    kw.setdefault("site_widen_after_s", 0.0)
    return QueueConfig(id=qid, tenant=T, **kw)  # type: ignore[arg-type]


def test_minimum_skill_levels() -> None:
    e = make([queue(skills={"fr": 5, "billing": 3})],
             [agent("low", skills={"fr": 4, "billing": 9}), agent("no", skills={"fr": 9}),
              agent("ok", skills={"fr": 5, "billing": 3})])
    for aid in ("low", "no", "ok"):
        ready(e, aid, 0.0)
    assert offers(arrive(e, "c1", 1.0)) == [("c1", "ok")]
    assert offers(arrive(e, "c2", 2.0)) == []          # nobody else qualifies
    assert e.waiting("q") == ["c2"]


def test_contact_skills_override_the_queue() -> None:
    e = make([queue(skills={"fr": 9})], [agent("a", skills={"de": 2})])
    ready(e, "a", 0.0)
    assert offers(arrive(e, "c1", 1.0, skills={"de": 2})) == [("c1", "a")]


def test_longest_idle_then_agent_id() -> None:
    e = make([queue()], [agent("b"), agent("a"), agent("c")])
    ready(e, "c", 5.0)
    ready(e, "b", 1.0)
    ready(e, "a", 1.0)
    assert offers(arrive(e, "c1", 6.0)) == [("c1", "a")]   # a and b tie on idle_since
    assert offers(arrive(e, "c2", 6.0)) == [("c2", "b")]
    assert offers(arrive(e, "c3", 6.0)) == [("c3", "c")]


def test_agent_holding_nothing_goes_before_a_busy_chat_agent() -> None:
    e = make([queue(wrapup_s={"chat": 0.0})],
             [agent("busy", capacity={"chat": 3}), agent("free", capacity={"chat": 3})])
    ready(e, "busy", 0.0)
    ready(e, "free", 10.0)
    assert offers(arrive(e, "c1", 11.0, channel=Channel.CHAT)) == [("c1", "busy")]
    assert offers(arrive(e, "c2", 12.0, channel=Channel.CHAT)) == [("c2", "free")]


def test_priority_then_arrival_across_queues_with_aging() -> None:
    e = make([queue("q1"), queue("q2", priority=1)], [agent("a", wrapup_s={"voice": 0.0})])
    e.handle(AgentLoggedIn("a", "sip:a"), 0.0)
    arrive(e, "old", 0.0, queue="q1")                 # effective 0 + minutes waited
    arrive(e, "vip", 90.0, queue="q2")                # 1 from its queue
    arrive(e, "newer", 100.0, queue="q1")
    arrive(e, "urgent", 150.0, queue="q1", priority=5)
    # at 150: urgent 5.0, old 2.5, vip 1.0 + 1.0 = 2.0, newer 0.83
    order = []
    now = 150.0
    ds = e.handle(AgentWentReady("a"), now)
    while True:
        got = offers(ds)
        if not got:
            break
        order.append(got[0][0])
        e.handle(OfferAccepted(got[0][0], "a"), now)
        now += 1.0
        ds = e.handle(ContactCompleted(got[0][0], "a"), now)
    assert order == ["urgent", "old", "vip", "newer"]


def test_capacity_per_media_and_voice_exclusive() -> None:
    e = make([queue("chat"), queue("voice")],
             [agent("x", capacity={"voice": 1, "chat": 2})])
    ready(e, "x", 0.0)
    assert offers(arrive(e, "ch1", 1.0, queue="chat", channel=Channel.CHAT)) == [("ch1", "x")]
    assert offers(arrive(e, "v1", 2.0, queue="voice")) == []            # holds a chat
    assert offers(arrive(e, "ch2", 3.0, queue="chat", channel=Channel.CHAT)) == [("ch2", "x")]
    assert offers(arrive(e, "ch3", 4.0, queue="chat", channel=Channel.CHAT)) == []  # chat full

    e2 = make([queue("chat"), queue("voice")],
              [agent("y", capacity={"voice": 1, "chat": 2}, voice_exclusive=False)])
    ready(e2, "y", 0.0)
    arrive(e2, "ch1", 1.0, queue="chat", channel=Channel.CHAT)
    assert offers(arrive(e2, "v1", 2.0, queue="voice")) == [("v1", "y")]


def test_wrapup_timer_queue_override_and_early_end() -> None:
    e = make([queue(wrapup_s={"voice": 12.0})], [agent("a", wrapup_s={"voice": 60.0})])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)
    e.handle(OfferAccepted("c1", "a"), 2.0)
    ds = e.handle(ContactCompleted("c1", "a"), 50.0)
    assert timers(ds) == {("wrapup", "c1", "a"): 62.0}
    assert offers(arrive(e, "c2", 55.0)) == []                   # in wrap-up
    ds = e.handle(TimerFired(("wrapup", "c1", "a")), 62.0)
    assert offers(ds) == [("c2", "a")]
    ended = [d for d in ds if isinstance(d, ContactUpdated) and d.contact_id == "c1"]
    assert ended[0].state == "ended" and ended[0].outcome.value == "answered"  # type: ignore[union-attr]
    e.handle(OfferAccepted("c2", "a"), 63.0)
    e.handle(ContactCompleted("c2", "a"), 70.0)
    arrive(e, "c3", 71.0)
    ds = e.handle(WrapUpCompleted("c2", "a"), 72.0)
    assert CancelTimer(("wrapup", "c2", "a")) in ds and offers(ds) == [("c3", "a")]


def test_site_preference_then_widening() -> None:
    e = make([queue(site_widen_after_s=30.0)],
             [agent("lyon1", home_site="lyon"), agent("paris1", home_site="lyon")])
    ready(e, "lyon1", 0.0)
    ready(e, "paris1", 0.0, site="paris")     # free seating: sits in paris today
    ds = arrive(e, "c1", 10.0, site="paris")
    assert offers(ds) == [("c1", "paris1")]
    ds = arrive(e, "c2", 11.0, site="paris")
    assert offers(ds) == [] and timers(ds) == {("widen", "c2"): 41.0}
    assert offers(e.handle(TimerFired(("widen", "c2")), 41.0)) == [("c2", "lyon1")]


def test_strict_site_when_never_widened() -> None:
    e = make([queue(site_widen_after_s=None)], [agent("a", home_site="lyon")])
    ready(e, "a", 0.0)
    assert offers(arrive(e, "c1", 1.0, site="paris")) == []
    assert offers(e.handle(AgentWentNotReady("a"), 500.0)) == []
    assert offers(e.handle(AgentWentReady("a"), 501.0)) == []


def test_no_answer_requeues_in_place_and_sets_not_ready() -> None:
    e = make([queue(ring_timeout_s=15.0)], [agent("a"), agent("b")])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)                       # to a
    arrive(e, "c2", 2.0)
    ds = arrive(e, "c3", 3.0)
    assert offers(ds) == []
    assert e.waiting("q") == ["c2", "c3"]
    ds = e.handle(TimerFired(("ring", "c1", "a")), 16.0)
    assert RetractOffer("c1", "a", "no_answer") in ds
    assert e.waiting("q") == ["c1", "c2", "c3"]      # back at its original place
    upd = [d for d in ds if isinstance(d, AgentUpdated)][-1]
    assert upd.presence is Presence.NOT_READY and upd.reason == "no answer"
    assert offers(ready(e, "b", 17.0)) == [("c1", "b")]


def test_reject_keeps_contact_from_that_agent_for_ring_timeout() -> None:
    e = make([queue(ring_timeout_s=20.0)], [agent("a"), agent("b")])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)
    ds = e.handle(OfferRejected("c1", "a"), 2.0)
    assert offers(ds) == [] and timers(ds)[("retry", "c1")] == 22.0
    assert offers(ready(e, "b", 5.0)) == [("c1", "b")]
    e2 = make([queue(ring_timeout_s=20.0)], [agent("a")])
    ready(e2, "a", 0.0)
    arrive(e2, "c1", 1.0)
    e2.handle(OfferRejected("c1", "a"), 2.0)
    assert offers(e2.handle(TimerFired(("retry", "c1")), 22.0)) == [("c1", "a")]


def test_abandon_while_queued_and_while_ringing() -> None:
    e = make([queue()], [agent("a")])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)
    arrive(e, "c2", 2.0)
    ds = e.handle(ContactAbandoned("c2"), 3.0)
    assert e.waiting("q") == [] and offers(ds) == []
    arrive(e, "c3", 4.0)
    ds = e.handle(ContactAbandoned("c1"), 5.0)      # ringing at a
    assert RetractOffer("c1", "a", "abandoned") in ds
    assert offers(ds) == [("c3", "a")]
    stats = e.queue_stats("q", 6.0)
    assert (stats["abandoned"], stats["answered"], stats["waiting"]) == (2, 0, 0)


def test_illegal_use_raises() -> None:
    e = make([queue()], [agent("a"), agent("b")])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)
    with pytest.raises(EngineError) as err:
        e.handle(OfferAccepted("c1", "b"), 2.0)
    assert err.value.error_id == "not_offered_to_agent"
    with pytest.raises(EngineError) as err:
        e.handle(AgentWentReady("zz"), 2.0)
    assert err.value.error_id == "agent_not_found"
    with pytest.raises(EngineError):
        e.configure_queue(QueueConfig(id="m", tenant=T, strategy=Strategy.MOST_SKILLED))
    with pytest.raises(EngineError):
        e.configure_queue(QueueConfig(id="r", tenant=T, relaxations=(Relaxation(10.0, 1),)))


def test_queue_stats_service_level() -> None:
    e = make([queue(sl_threshold_s=20.0, wrapup_s={"voice": 0.0})], [agent("a")])
    ready(e, "a", 0.0)
    arrive(e, "c1", 1.0)
    e.handle(OfferAccepted("c1", "a"), 5.0)          # waited 4 s
    arrive(e, "c2", 6.0)
    e.handle(ContactCompleted("c1", "a"), 40.0)      # c2 offered at 40
    e.handle(OfferAccepted("c2", "a"), 41.0)         # waited 35 s
    stats = e.queue_stats("q", 50.0)
    assert stats["answered"] == 2 and stats["service_level_pct"] == 50.0
    assert stats["asa_s"] == pytest.approx((4 + 35) / 2)

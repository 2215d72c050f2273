"""Skills, location, relaxation, capacity, priority aging, fairness, callbacks, restore."""

from acd.engine import Engine
from acd.events import (
    AgentLoggedIn,
    AgentWentReady,
    ContactArrived,
    ContactCancelled,
    ContactCompleted,
    OfferAccepted,
    StartTimer,
    WrapUpCompleted,
)
from acd.model import AgentConfig, Channel, Contact, QueueConfig, Relaxation

from .engine_harness import Harness, offers

DIGITAL = {"voice": 1, "chat": 2, "email": 1, "sms": 0}


def _free(h: Harness, cid: str, aid: str) -> list:
    h.send(OfferAccepted(cid, aid))
    h.send(ContactCompleted(cid, aid))
    return h.send(WrapUpCompleted(cid, aid))


# ------------------------------------------------------------------------ skills

def test_skill_minimum_levels_filter_agents():
    h = Harness()
    h.queue(skills={"fr": 5})
    h.agent("low", {"fr": 4})
    h.agent("none", {"en": 9})
    assert offers(h.arrive("c1")) == []
    out = h.agent("ok", {"fr": 5})
    assert offers(out) == [("c1", "ok")]


def test_contact_skills_override_queue_requirement():
    h = Harness()
    h.queue(skills={"en": 1})
    h.agent("en", {"en": 5})
    h.agent("de", {"de": 6})
    assert offers(h.arrive("c1", skills={"de": 5})) == [("c1", "de")]
    assert offers(h.arrive("c2", skills={"de": 5})) == []   # de busy; en lacks de
    assert offers(h.arrive("c3")) == [("c3", "en")]


def test_agents_of_other_tenants_are_never_offered():
    h = Harness()
    h.queue("q", tenant="t1")
    h.agent("x", tenant="t2")
    assert offers(h.arrive("c1", tenant="t1")) == []
    assert offers(h.agent("y", tenant="t1")) == [("c1", "y")]


def test_value_tier_restricted_agents():
    h = Harness()
    h.queue()
    h.agent("gold", value_tiers=("gold",))
    assert offers(h.arrive("c1")) == []                       # tierless contact
    assert offers(h.arrive("c2", value_tier="silver")) == []
    h.send(ContactCancelled("c2"))
    assert offers(h.arrive("c3", value_tier="gold")) == [("c3", "gold")]
    assert offers(h.agent("any")) == [("c1", "any")]


def test_preferred_agent_first_when_available():
    h = Harness()
    h.queue()
    h.agent("a")
    h.agent("b")
    assert offers(h.arrive("c1", preferred_agent="b")) == [("c1", "b")]
    assert offers(h.arrive("c2", preferred_agent="b")) == [("c2", "a")]  # b busy
    assert h.engine.explain("c1")["last_offer"]["selection"] == "preferred_agent"


# ---------------------------------------------------------------------- location

def test_same_site_first_then_widened_after_wait():
    h = Harness()
    h.queue(site_widen_after_s=30)
    h.agent("paris", site="paris")
    out = h.arrive("c1", site="lyon")
    assert offers(out) == []
    assert offers(h.run_until(29.9)) == []
    out = h.run_until(30)
    assert offers(out) == [("c1", "paris")]
    last = h.engine.explain("c1")["last_offer"]
    assert last["site"]["same_site_required"] is False and last["site"]["match"] is False


def test_same_site_agent_preferred_over_longer_idle_remote_agent():
    h = Harness()
    h.queue(site_widen_after_s=30)
    h.agent("remote", home_site="paris")            # idle since 0
    h.now = 5
    h.agent("local", site="lyon", home_site="paris")  # session site lyon
    assert offers(h.arrive("c1", site="lyon")) == [("c1", "local")]
    assert offers(h.arrive("c2")) == [("c2", "remote")]    # no site: anyone


def test_site_widen_none_means_strict_same_site():
    h = Harness()
    h.queue(site_widen_after_s=None)
    h.agent("paris", site="paris")
    h.arrive("c1", site="lyon")
    assert offers(h.run_until(10_000)) == []
    assert offers(h.agent("lyon", site="lyon")) == [("c1", "lyon")]


def test_agent_freed_takes_contact_from_its_site_only_before_widening():
    h = Harness()
    h.queue(site_widen_after_s=60)
    h.agent("p", site="paris")
    h.arrive("busy", site="paris")
    h.now = 1
    h.arrive("lyon1", site="lyon")
    h.now = 2
    h.arrive("paris1", site="paris")
    out = _free(h, "busy", "p")
    assert offers(out) == [("paris1", "p")]    # lyon1 is older but restricted to lyon


# -------------------------------------------------------------------- relaxation

def test_relaxation_lowers_levels_after_wait():
    h = Harness()
    h.queue(skills={"en": 8}, relaxations=(Relaxation(after_s=20, lower_levels=2),
                                           Relaxation(after_s=40, lower_levels=4)))
    h.agent("six", {"en": 6})
    h.agent("four", {"en": 4})
    h.arrive("c1")
    assert offers(h.run_until(19)) == []
    out = h.run_until(20)
    assert offers(out) == [("c1", "six")]
    exp = h.engine.explain("c1")["last_offer"]
    assert exp["relaxation"]["step"] == 1 and exp["requirement"] == {"en": 6}
    h.send(OfferAccepted("c1", "six"))
    h.now = 21
    h.arrive("c2")
    assert offers(h.run_until(60.9)) == []
    assert offers(h.run_until(61)) == [("c2", "four")]     # 21 + 40 -> level 4
    assert h.engine.explain("c2")["last_offer"]["relaxation"]["lower_levels"] == 4


def test_relaxation_never_lowers_below_one_and_adds_queue_agents():
    h = Harness()
    h.queue("sales", skills={"sales": 2})
    h.queue("support", skills={"support": 3},
            relaxations=(Relaxation(after_s=10, lower_levels=5, add_queues=("sales",)),))
    h.agent("s", {"sales": 2})
    h.arrive("c1", queue="support")
    assert offers(h.run_until(9)) == []
    out = h.run_until(10)
    assert offers(out) == [("c1", "s")]
    assert h.engine.explain("c1")["last_offer"]["relaxation"]["add_queues"] == ["sales"]


def test_agent_freed_serves_contact_only_under_relaxation_in_force():
    h = Harness()
    h.queue(skills={"en": 8}, relaxations=(Relaxation(after_s=20, lower_levels=3),))
    h.agent("x", {"en": 5})
    h.arrive("c0", skills={"en": 1})
    h.now = 1
    h.arrive("c1")
    out = _free(h, "c0", "x")                    # at t=1 c1 still needs en 8
    assert offers(out) == []
    assert offers(h.run_until(21)) == [("c1", "x")]


# ---------------------------------------------------------------------- capacity

def test_capacity_per_media():
    h = Harness()
    h.queue()
    h.agent("a", capacity={"voice": 1, "chat": 2, "email": 1, "sms": 0}, voice_exclusive=False)
    got = []
    for i, ch in enumerate([Channel.CHAT, Channel.CHAT, Channel.CHAT, Channel.EMAIL,
                            Channel.FAX, Channel.SMS, Channel.VOICE, Channel.WEBRTC]):
        got += [c for c, _a in offers(h.arrive(f"{ch.value}{i}", channel=ch))]
    assert got == ["chat0", "chat1", "email3", "voice6"]
    assert h.engine.agent_view("a")["held"] == {"voice": 1, "chat": 2, "email": 1, "sms": 0}


def test_voice_exclusive_blocks_digital_while_on_voice_and_voice_while_on_digital():
    h = Harness()
    h.queue()
    h.agent("a", capacity=DIGITAL, voice_exclusive=True)
    h.arrive("v1")
    assert offers(h.arrive("chat1", channel=Channel.CHAT)) == []
    out = _free(h, "v1", "a")
    assert offers(out) == [("chat1", "a")]
    assert offers(h.arrive("v2")) == []           # holding digital work: no voice
    assert offers(h.arrive("chat2", channel=Channel.CHAT)) == [("chat2", "a")]


def test_voice_and_digital_concurrent_when_not_exclusive():
    h = Harness()
    h.queue()
    h.agent("a", capacity=DIGITAL, voice_exclusive=False)
    assert offers(h.arrive("v1")) == [("v1", "a")]
    assert offers(h.arrive("chat1", channel=Channel.CHAT)) == [("chat1", "a")]
    assert offers(h.arrive("v2", channel=Channel.CALLBACK)) == []   # voice capacity 1


def test_freed_agent_with_mixed_media_takes_highest_priority_first():
    h = Harness()
    h.queue()
    h.arrive("chat_old", channel=Channel.CHAT)
    h.now = 5
    h.arrive("voice_new", priority=5)
    out = h.agent("a", capacity=DIGITAL, voice_exclusive=True)
    assert offers(out) == [("voice_new", "a")]


# ------------------------------------------------------------ priority and aging

def test_priority_then_fifo_within_queue():
    h = Harness()
    h.queue(aging_per_min=0)
    h.arrive("low1")
    h.now = 1
    h.arrive("high", priority=3)
    h.now = 2
    h.arrive("low2")
    assert h.engine.waiting("q") == ["high", "low1", "low2"]


def test_aging_prevents_starvation():
    h = Harness()
    h.queue(aging_per_min=1.0)
    h.arrive("old")                         # priority 0 at t=0
    h.now = 200                             # old has aged 3.33
    h.arrive("vip", priority=3)
    assert h.engine.waiting("q") == ["old", "vip"]
    e = Engine()
    e.configure_queue(QueueConfig(id="q", tenant="t", aging_per_min=1.0))
    e.handle(ContactArrived(Contact("old", "t", Channel.VOICE, "q", 0.0)), 0.0)
    e.handle(ContactArrived(Contact("vip", "t", Channel.VOICE, "q", 100.0, priority=3)), 100.0)
    assert e.waiting("q") == ["vip", "old"]          # 1.67 aged < 3


def test_cross_queue_fairness_by_effective_priority_then_arrival_then_seq():
    h = Harness()
    h.queue("a", aging_per_min=0, priority=1)
    h.queue("b", aging_per_min=0)
    h.queue("c", aging_per_min=0)
    h.arrive("b1", queue="b")               # t=0, eff 0
    h.arrive("c1", queue="c")               # t=0, eff 0, later seq
    h.now = 5
    h.arrive("a1", queue="a")               # t=5, eff 1 (queue priority)
    h.now = 6
    h.arrive("b2", queue="b", arrival=-1)   # t=-1 (older), eff 0
    got = offers(h.agent("x"))
    seen = [got[0][0]]
    for _ in range(3):
        seen.append(offers(_free(h, seen[-1], "x"))[0][0])
    assert seen == ["a1", "b2", "b1", "c1"]


def test_cross_queue_aging_lets_old_low_priority_contact_win():
    h = Harness()
    h.queue("slow", aging_per_min=2.0)
    h.queue("fast", aging_per_min=0, priority=2)
    h.arrive("s1", queue="slow")            # eff at t=90: 3
    h.now = 80
    h.arrive("f1", queue="fast")            # eff 2
    h.now = 90
    assert offers(h.agent("x")) == [("s1", "x")]


# ------------------------------------------------------------ callback / restore

def test_callback_contact_keeps_its_original_place():
    h = Harness()
    h.queue()
    h.arrive("call1")                 # t=0 asked for a callback
    h.now = 10
    h.arrive("call2")
    h.send(ContactCancelled("call1"))
    h.now = 20
    # the server creates the callback with the original arrival time
    h.arrive("cb1", channel=Channel.CALLBACK, arrival=0.0)
    h.arrive("call3")
    assert h.engine.waiting("q") == ["cb1", "call2", "call3"]
    assert offers(h.agent("a")) == [("cb1", "a")]


def test_restore_replays_in_same_order_including_equal_arrivals():
    def build(contacts):
        e = Engine()
        e.configure_queue(QueueConfig(id="q", tenant="t"))
        for cid, arr, prio in contacts:
            e.handle(ContactArrived(Contact(cid, "t", Channel.CHAT, "q", arr, priority=prio)), 100)
        return e

    original = [("x", 10.0, 0), ("y", 10.0, 0), ("z", 10.0, 0), ("w", 5.0, 0), ("p", 50, 2),
                ("v", 10.0, 0)]
    before = build(original).waiting("q")
    assert before == ["p", "w", "x", "y", "z", "v"]
    restored = build([next(c for c in original if c[0] == cid) for cid in before])
    assert restored.waiting("q") == before
    # agents replayed as login + ready get the contacts in that order
    restored.configure_agent(AgentConfig(
        id="a", tenant="t", capacity={"voice": 0, "chat": 6, "email": 0, "sms": 0}), now=100)
    restored.handle(AgentLoggedIn("a", "webrtc"), 100)
    out = restored.handle(AgentWentReady("a"), 100)
    assert [c for c, _a in offers(out)] == before


def test_restore_with_queued_at_keeps_wait_rules_running():
    e = Engine()
    e.configure_queue(QueueConfig(id="q", tenant="t", max_wait_s=60))
    out = e.handle(ContactArrived(Contact("c", "t", Channel.VOICE, "q", 0.0), queued_at=0.0), 50)
    timers = [d for d in out if isinstance(d, StartTimer)]
    assert timers and timers[0].at == 60.0


def test_reconfigured_queue_rekeys_waiting_contacts_and_routes():
    h = Harness()
    h.queue(skills={"en": 9}, aging_per_min=0)
    h.agent("a", {"en": 5})
    h.arrive("c1")
    h.now = 1
    h.arrive("c2", priority=1)
    assert h.engine.waiting("q") == ["c2", "c1"]
    out = h.engine.configure_queue(QueueConfig(id="q", tenant="t", skills={"en": 5},
                                               aging_per_min=0), now=2)
    assert offers(out) == [("c2", "a")]

"""The interpreter driven through the shipped demo trees on a virtual clock."""

from __future__ import annotations

import pytest

from ivr.events import (
    CallerHungUp,
    CancelTimer,
    CollectDigits,
    DtmfReceived,
    HangUp,
    Lookup,
    LookupResult,
    MessageRecorded,
    OfferCallback,
    Outcome,
    PromptFinished,
    RecordMessage,
    StartTimer,
    StopPlayback,
    TimerExpired,
    Trace,
    Transfer,
)
from ivr.loader import load_tree
from ivr.session import INPUT, RECORD
from ivr.simulate import CallSimulator

from .ivr_helpers import (
    ACCOUNT,
    ACME,
    BAD_ACCOUNT,
    BUSINESS_ANI,
    CHRISTMAS,
    EVENING,
    GOLD_ANI,
    MISSING_ACCOUNT,
    OPEN,
    PLAIN_ANI,
    SATURDAY,
    THANKSGIVING,
    UNKNOWN_ANI,
    FakeBackend,
    call,
    demo_tree,
)

TREE = demo_tree()


def at_menu(ani: str = GOLD_ANI, backend: FakeBackend | None = None, lang: str = "1",
            now: float = OPEN) -> CallSimulator:
    sim = call(TREE, ani=ani, backend=backend, now=now)
    sim.start()
    assert sim.session.node.id == "choose_language" and sim.session.phase == INPUT
    sim.press(lang)
    return sim


def visited(sim: CallSimulator) -> list[str]:
    return [v["node"] for v in sim.session.trace()["nodes"]]


# ------------------------------------------------------------------ personalisation


@pytest.mark.parametrize("ani,greeting,menu", [
    (GOLD_ANI, "demo_welcome_premium", "main_menu_internet"),
    (BUSINESS_ANI, "demo_welcome_business", "main_menu"),
    (PLAIN_ANI, "demo_welcome_back", "main_menu"),
    (UNKNOWN_ANI, "demo_welcome", "main_menu"),
])
def test_greeting_and_menu_depend_on_crm_record(ani, greeting, menu):
    backend = FakeBackend()
    sim = at_menu(ani, backend)
    assert backend.queries[0] == ("crm.customer_by_ani", {"ani": ani, "tenant": "demo"})
    assert greeting in sim.names()
    assert sim.session.node.id == menu and sim.session.phase == INPUT


def test_crm_down_gives_general_greeting():
    sim = at_menu(GOLD_ANI, FakeBackend(crm_down=True))
    assert "demo_welcome" in sim.names() and sim.session.node.id == "main_menu"
    lookups = sim.session.trace()["lookups"]
    assert lookups[0]["ok"] is False and lookups[0]["error"] == "crm unavailable"


@pytest.mark.parametrize("ani,priority,tier", [
    (GOLD_ANI, 10, "gold"), (BUSINESS_ANI, 5, "silver"), (PLAIN_ANI, 0, ""),
    (UNKNOWN_ANI, 0, ""),
])
def test_high_value_callers_queue_with_higher_priority(ani, priority, tier):
    sim = at_menu(ani)
    sim.press("1")
    enq = sim.enqueued
    assert enq is not None and enq.queue == "sales" and enq.skills == {"sales": 1}
    assert enq.priority == priority
    assert enq.data["value_tier"] == tier
    assert sim.session.outcome == Outcome.QUEUED
    assert sim.names()[-1] == "please_hold"        # said before handing over


# ------------------------------------------------------------------ language


def test_language_choice_switches_every_later_prompt_to_mandarin():
    sim = at_menu(UNKNOWN_ANI, lang="2")
    assert sim.session.language == "zh"
    later = [f for p in sim.plays[1:] for f in p.files]
    assert later and all("/zh/" in f for f in later)
    assert sim.heard("zh", 1).startswith("欢迎致电演示电信。")
    sim.press("1")
    assert sim.enqueued.data["language"] == "zh"


def test_language_timeout_keeps_default_and_goes_on():
    sim = call(TREE, ani=UNKNOWN_ANI)
    sim.start()
    sim.advance(4.1)            # timeout -> re-prompt (retries: 1)
    sim.settle()
    assert sim.session.node.id == "choose_language" and sim.names().count("lang_choice") == 2
    sim.advance(4.1)            # second timeout: failure -> keep English, go on
    sim.settle()
    assert sim.session.language == "en" and sim.session.node.id == "main_menu"


def test_preset_language_from_call_info():
    sim = call(TREE, ani=UNKNOWN_ANI, language="zh")
    sim.start()
    assert sim.plays[0].files[0].endswith("zh/lang_choice.wav")


# ------------------------------------------------------------------ bill inquiry


def test_bill_inquiry_speaks_balance_due_date_last_payment():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    assert sim.session.node.id == "bill_account"
    collects = sim.of_type(CollectDigits)
    assert collects[-1].min_digits == 8 and collects[-1].max_digits == 16
    n = len(sim.plays)
    sim.press(ACCOUNT + "#")
    bill_play = sim.plays[n]
    assert [f.rsplit("/", 1)[1][:-4] for f in bill_play.files] == [
        "bill_balance_is", "one", "hundred", "twenty", "three", "dollars", "and", "forty",
        "five", "cents", "bill_due_on", "march", "fifth", "bill_last_payment", "eighty",
        "dollars", "bill_received_on", "february", "tenth"]
    assert bill_play.barge_in is True
    assert sim.session.node.id == "bill_menu"


def test_bill_inquiry_in_mandarin():
    sim = at_menu(GOLD_ANI, lang="2")
    sim.press("3")
    n = len(sim.plays)
    sim.press(ACCOUNT + "#")
    assert sim.heard("zh", n).startswith(
        "您当前的账单余额为一百二十三美元四十五美分付款截止日期为三月五日"
        "您最近一次付款金额为八十美元付款日期为二月十日")


def test_self_service_then_end_is_contained():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    sim.press(ACCOUNT + "#")
    n = len(sim.plays)
    sim.press("2")                  # repeat
    assert sim.names(n)[0] == "bill_balance_is"
    sim.press("9")                  # end
    assert isinstance(sim.actions[-2], HangUp) or any(isinstance(a, HangUp) for a in sim.actions)
    assert sim.session.outcome == Outcome.SELF_SERVED
    assert sim.names()[-1] == "goodbye"


def test_hanging_up_after_hearing_the_bill_counts_as_self_served():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    sim.press(ACCOUNT + "#")
    sim.hangup()
    assert sim.session.outcome == Outcome.SELF_SERVED


def test_bill_then_agent_carries_account_and_verified_flag():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    sim.press(ACCOUNT + "#")
    sim.press("1")
    enq = sim.enqueued
    assert enq.queue == "billing" and enq.priority == 10
    assert enq.data["collected"] == {"account": ACCOUNT}
    assert enq.data["verified"] is True
    assert enq.data["menu_path"] == ["main_menu_internet:3", "bill_menu:1"]
    assert enq.data["lookups"]["bill"]["balance"] == "123.45"
    assert enq.data["lookups"]["customer"]["segment"] == "consumer"
    assert enq.data["language"] == "en" and enq.data["tenant"] == "demo"
    assert sim.session.outcome == Outcome.QUEUED      # asked for an agent: not contained


def test_account_number_is_masked_in_trace_and_notices():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    sim.press(BAD_ACCOUNT + "#")
    sim.press(ACCOUNT + "#")
    trace = sim.session.trace()
    collected = [i for i in trace["inputs"] if i["node"] == "bill_account"]
    assert [i["value"] for i in collected] == ["*******8710", "*******8713"]
    assert [i["valid"] for i in collected] == [False, True]
    assert ACCOUNT not in repr(trace) and BAD_ACCOUNT not in repr(trace)
    notices = [a for a in sim.actions if isinstance(a, Trace)]
    assert ACCOUNT not in repr(notices) and BAD_ACCOUNT not in repr(notices)


def test_bad_check_digit_reprompts_then_gives_up_to_an_agent():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("3")
    for attempt in range(3):
        n = len(sim.plays)
        sim.press(BAD_ACCOUNT + "#")
        if attempt < 2:
            assert sim.names(n) == ["demo_invalid_account", "demo_enter_account"]
            assert sim.session.node.id == "bill_account"
    assert sim.enqueued.queue == "billing"
    assert sim.enqueued.data["verified"] is False and sim.enqueued.data["collected"] == {}


def test_too_short_account_is_invalid():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("3")
    n = len(sim.plays)
    sim.press("1234#")
    assert sim.names(n)[0] == "demo_invalid_account"


def test_account_not_found_asks_again():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("3")
    n = len(sim.plays)
    sim.press(MISSING_ACCOUNT + "#")
    assert sim.names(n) == ["demo_account_not_found", "demo_enter_account"]
    assert sim.session.variables["bill_error"] == "not_found"


def test_billing_timeout_goes_to_an_agent():
    sim = at_menu(UNKNOWN_ANI, FakeBackend(billing_silent=True))
    sim.press("3")
    sim.press(ACCOUNT + "#", settle=False)
    assert sim.session.node.id == "bill_lookup"
    sim.advance(4.1)
    sim.settle()
    assert "demo_bill_unavailable" in sim.names()
    assert sim.enqueued.queue == "billing"
    log = sim.session.trace()["lookups"][-1]
    assert log["ok"] is False and log["error"] == "timeout"


def test_collect_accepts_digits_without_terminator_after_inter_digit_timeout():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("3")
    sim.press(ACCOUNT, settle=False)
    sim.advance(5.1)
    sim.settle()
    assert sim.session.node.id == "bill_menu"


def test_collect_stops_at_max_digits():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("3")
    sim.press(MISSING_ACCOUNT)        # 16 digits = max, no '#' needed
    assert sim.session.variables["account"] == MISSING_ACCOUNT
    assert sim.session.variables["bill_error"] == "not_found"
    assert sim.session.node.id == "bill_account"


def test_typeahead_during_bill_readout_goes_straight_to_the_agent():
    sim = at_menu(GOLD_ANI)
    sim.press("3")
    sim.press(ACCOUNT + "#", settle=False)
    sim.advance(0.3)                # billing answered, the readout is playing
    playing = sim.plays[-1]
    assert playing.files[0].endswith("bill_balance_is.wav")
    sim.press("1")
    assert StopPlayback(playing.play_id) in sim.actions
    assert sim.enqueued.queue == "billing"


# ------------------------------------------------------------------ menus


def test_barge_in_stops_the_prompt_and_acts_on_the_digit():
    sim = call(TREE, ani=UNKNOWN_ANI)
    sim.start(settle=False)
    lang_play = sim.plays[0]
    assert lang_play.barge_in is True
    out = sim.feed(DtmfReceived("2"))
    assert out[0] == StopPlayback(lang_play.play_id)
    assert sim.session.language == "zh"
    sim.settle()
    menu_play = sim.plays[-1]
    assert menu_play.files[0].endswith("zh/demo_main_menu.wav")
    sim.press("2", settle=False)    # the menu had finished: no barge-in needed
    sim.feed(DtmfReceived("1"))     # support menu prompt still playing: barge in
    assert StopPlayback(sim.plays[-2].play_id) in sim.actions
    sim.settle()
    assert sim.enqueued.skills == {"internet": 1}


def test_digits_during_a_prompt_without_barge_in_are_ignored():
    sim = call(TREE, ani=UNKNOWN_ANI)
    sim.start()
    sim.press("1", settle=False)
    sim.advance(0.3)               # CRM answered; greeting (no barge-in) is playing
    assert sim.plays[-1].files[0].endswith("demo_welcome.wav")
    assert sim.plays[-1].barge_in is False
    out = sim.feed(DtmfReceived("3"))
    assert [a for a in out if isinstance(a, StopPlayback)] == []
    assert any(isinstance(a, Trace) and a.event == "ignored" for a in out)
    sim.settle()
    assert sim.session.node.id == "main_menu" and sim.session.trace()["inputs"][-1]["value"] == "1"


def test_invalid_option_reprompts_and_failure_goes_to_operator():
    sim = at_menu(UNKNOWN_ANI)
    for i in range(2):
        n = len(sim.plays)
        sim.press("7")
        assert sim.names(n) == ["invalid_option", "demo_main_menu"]
    n = len(sim.plays)
    sim.press("8")
    assert sim.names(n)[:2] == ["invalid_option", "operator"]
    assert sim.enqueued.queue == "operator"
    invalid = [a for a in sim.actions if isinstance(a, Trace) and a.event == "invalid"]
    assert [t.detail["attempt"] for t in invalid] == [1, 2, 3]


def test_menu_timeouts_reprompt_then_fail_over():
    sim = at_menu(UNKNOWN_ANI)
    starts = [a for a in sim.actions if isinstance(a, StartTimer)]
    assert starts[-1].at == pytest.approx(sim.now + 6)
    for _ in range(2):
        n = len(sim.plays)
        sim.advance(6.01)
        sim.settle()
        assert sim.names(n) == ["no_input", "demo_main_menu"]
    sim.advance(6.01)
    sim.settle()
    assert sim.enqueued.queue == "operator"
    timeouts = [i for i in sim.session.trace()["inputs"] if i.get("reason") == "timeout"]
    assert len(timeouts) == 3


def test_back_to_main_menu_from_submenu():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("2")
    assert sim.session.node.id == "support_menu"
    sim.press("*")
    assert sim.session.node.id == "main_menu"
    sim.press("2")
    sim.press("2")
    assert sim.enqueued.skills == {"mobile": 1}
    assert sim.enqueued.data["menu_path"] == ["main_menu:2", "support_menu:*", "main_menu:2",
                                              "support_menu:2"]


def test_transfer_to_outage_line():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("2")
    sim.press("3")
    assert sim.of_type(Transfer) == [Transfer("+18005550199")]
    assert sim.session.outcome == Outcome.TRANSFERRED


# ------------------------------------------------------------------ hours, holidays


@pytest.mark.parametrize("now,first", [
    (EVENING, "demo_closed"), (SATURDAY, "demo_closed"), (CHRISTMAS, "demo_holiday"),
    (THANKSGIVING, "demo_holiday"), (OPEN, None),
])
def test_business_hours_and_holidays(now, first):
    backend = FakeBackend()
    sim = at_menu(UNKNOWN_ANI, backend, now=now)
    if first is None:
        assert sim.session.node.id == "main_menu" and backend.queries
    else:
        assert first in sim.names()
        assert sim.session.node.id == "after_hours" and backend.queries == []


def test_after_hours_callback_keeps_place():
    sim = at_menu(GOLD_ANI, now=EVENING)
    n = len(sim.plays)
    sim.press("1")
    offers = sim.of_type(OfferCallback)
    assert len(offers) == 1
    offer = offers[0]
    assert offer.queue == "support" and offer.number == GOLD_ANI
    assert offer.arrival == EVENING                # the place is kept from call arrival
    assert sim.names(n) == ["callback_confirmed", "goodbye"]
    assert isinstance([a for a in sim.actions if not isinstance(a, (Trace, CancelTimer))][-1],
                      HangUp)
    assert sim.session.outcome == Outcome.CALLBACK


def test_after_hours_message_becomes_a_contact():
    sim = at_menu(UNKNOWN_ANI, now=EVENING)
    sim.press("2")
    assert sim.session.node.id == "leave_message" and sim.session.phase == RECORD
    rec = sim.of_type(RecordMessage)[-1]
    assert rec.max_seconds == 120 and rec.beep
    sim.recorded("/var/ipcc/msg/abc.wav", 14.2)
    enq = sim.enqueued
    assert enq.channel == "message" and enq.queue == "support"
    assert enq.data["recording"] == "/var/ipcc/msg/abc.wav" and enq.data["duration"] == 14.2
    assert sim.names()[-2:] == ["message_thanks", "goodbye"]
    assert sim.session.outcome == Outcome.MESSAGE


def test_message_survives_hangup_while_recording():
    sim = at_menu(UNKNOWN_ANI, now=EVENING)
    sim.press("2")
    sim.hangup()
    assert not sim.session.ended
    sim.feed(MessageRecorded("/tmp/m.wav", 9.0))
    assert sim.session.ended and sim.session.outcome == Outcome.MESSAGE
    assert sim.enqueued.channel == "message"
    assert not sim.of_type(HangUp)


def test_empty_message_is_not_a_contact():
    sim = at_menu(UNKNOWN_ANI, now=EVENING)
    sim.press("2")
    sim.recorded("/tmp/m.wav", 0.4)
    assert sim.enqueued is None
    assert sim.names()[-1] == "goodbye" and sim.session.outcome == Outcome.HUNG_UP


def test_recording_that_never_arrives_times_out():
    sim = at_menu(UNKNOWN_ANI, now=EVENING)
    sim.press("2")
    sim.advance(120 + 15.1)
    sim.settle()
    assert sim.enqueued is None and sim.session.ended
    assert any(w["message"].startswith("no MessageRecorded") for w in
               sim.session.trace()["warnings"])


def test_withheld_number_skips_callback_offer():
    sim = at_menu("", now=EVENING)
    assert sim.session.node.id == "leave_message"
    assert "callback_offer" not in sim.names()


# ------------------------------------------------------------------ abandon, stale events


def test_caller_hanging_up_in_menu_is_abandoned_there():
    sim = at_menu(UNKNOWN_ANI)
    sim.press("2")
    sim.hangup()
    trace = sim.session.trace()
    assert trace["outcome"] == Outcome.ABANDONED and trace["last_node"] == "support_menu"
    assert sim.session.ended_at == sim.now


def test_hangup_cancels_the_pending_timer():
    sim = at_menu(UNKNOWN_ANI)
    timer = [a for a in sim.actions if isinstance(a, StartTimer)][-1]
    out = sim.feed(CallerHungUp())
    assert CancelTimer(timer.key) in out


def test_stale_and_late_events_are_ignored():
    sim = at_menu(UNKNOWN_ANI)
    old_play = sim.plays[0].play_id
    timer = next(a for a in sim.actions if isinstance(a, StartTimer))
    for ev in (PromptFinished(old_play), TimerExpired(("ivr", "s1", "input", -1)),
               LookupResult("nope", {})):
        out = sim.feed(ev)
        assert all(isinstance(a, Trace) and a.event == "ignored" for a in out), (ev, out)
    assert sim.session.node.id == "main_menu" and sim.session.phase == INPUT
    sim.press("1")
    assert sim.session.ended
    out = sim.feed(TimerExpired(timer.key))
    assert len(out) == 1 and out[0].event == "ignored"


def test_lookup_result_for_the_current_request_only():
    sim = call(TREE, ani=GOLD_ANI, backend=None)
    sim.lookup = None                       # answer by hand
    sim.start()
    sim.press("1", settle=False)
    lookup = sim.of_type(Lookup)[-1]
    assert lookup.kind == "crm.customer_by_ani" and lookup.params["ani"] == GOLD_ANI
    assert sim.feed(LookupResult("other", {"segment": "business"}))[0].event == "ignored"
    sim.feed(LookupResult(lookup.request_id, {"segment": "business"}))
    sim.settle()
    assert "demo_welcome_business" in sim.names()


# ------------------------------------------------------------------ second tenant


def test_acme_tenant_has_its_own_greeting_and_queues():
    acme = load_tree(ACME)
    sim = call(acme, ani=UNKNOWN_ANI, dnis="1100", now=OPEN)  # 15:00 in London: open
    sim.start()
    assert sim.names()[:2] == ["acme_welcome", "acme_main_menu"]
    sim.press("2")
    assert sim.enqueued.queue == "acme-returns" and sim.enqueued.data["tenant"] == "acme"


def test_acme_after_hours_takes_a_message():
    acme = load_tree(ACME)
    sim = call(acme, ani=UNKNOWN_ANI, dnis="1100", now=EVENING)  # 00:30 in London
    sim.start()
    assert sim.names()[:3] == ["acme_welcome", "acme_closed", "leave_message"]
    assert sim.session.phase == RECORD

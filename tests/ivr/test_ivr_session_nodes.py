"""Node kinds one by one, on small trees, with exact action sequences."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.calendar import CalendarError, parse_calendar
from ivr.conditions import describe, evaluate, parse_condition
from ivr.events import (
    CallStarted,
    CancelTimer,
    DtmfReceived,
    Enqueue,
    HangUp,
    Lookup,
    LookupResult,
    OfferCallback,
    Outcome,
    Play,
    PromptFinished,
    StartTimer,
    TimerExpired,
    Trace,
)
from ivr.session import IDLE, INPUT, CallInfo, IvrSession
from ivr.simulate import CallSimulator, LookupFailed

from .ivr_helpers import tree_from

T0 = 1_000_000.0


def non_trace(actions):
    return [a for a in actions if not isinstance(a, Trace)]


MENU_TREE = """
tenant: t
languages: [en, zh]
entry: menu
nodes:
  menu:
    kind: menu
    prompt: demo_main_menu
    options: {"1": q, "2": bye}
    timeout: 5
    retries: 1
    invalid_prompt: invalid_option
  q:
    kind: queue
    queue: "sales-${language}"
    skills: {"lang_${language}": 2, sales: 1}
    priority: "${customer.priority}"
    data: {note: "caller ${ANI}"}
  bye:
    kind: hangup
    prompt: goodbye
"""


def test_menu_exact_action_sequence():
    tree = tree_from(MENU_TREE)
    s = IvrSession(tree, CallInfo(ani="42", dnis="9"), T0, session_id="x")
    out = s.start(T0)
    play = non_trace(out)
    assert len(play) == 1 and isinstance(play[0], Play)
    assert play[0].play_id == "x:p1" and play[0].barge_in is True
    assert play[0].files == (tree.library.path("demo_main_menu", "en"),)
    out = non_trace(s.handle(PromptFinished("x:p1"), T0 + 3))
    assert out == [StartTimer(("ivr", "x", "input", 2), T0 + 8)]
    out = non_trace(s.handle(DtmfReceived("2"), T0 + 4))
    assert out[0] == CancelTimer(("ivr", "x", "input", 2))
    assert isinstance(out[1], Play) and out[1].barge_in is False
    out = non_trace(s.handle(PromptFinished(out[1].play_id), T0 + 5))
    assert out == [HangUp()]
    assert s.ended and s.outcome == Outcome.HUNG_UP


def test_call_started_event_is_the_same_as_start():
    tree = tree_from(MENU_TREE)
    a = IvrSession(tree, CallInfo(), T0, session_id="a")
    b = IvrSession(tree, CallInfo(), T0, session_id="a")
    assert a.start(T0) == b.handle(CallStarted(), T0)


def test_events_before_start_are_ignored():
    s = IvrSession(tree_from(MENU_TREE), {"ani": "1", "dnis": "2"}, T0)
    out = s.handle(DtmfReceived("1"), T0)
    assert len(out) == 1 and out[0].event == "ignored" and s.phase == IDLE


def test_queue_fields_from_variables():
    tree = tree_from(MENU_TREE)
    s = IvrSession(tree, CallInfo(ani="42", language="zh"), T0)
    s.variables["customer"] = {"priority": "7"}
    sim = CallSimulator(s)
    sim.start()
    sim.press("1")
    enq = sim.enqueued
    assert enq == Enqueue("sales-zh", {"lang_zh": 2, "sales": 1}, 7, enq.data)
    assert enq.data["note"] == "caller 42"


def test_unusable_priority_falls_back_to_zero_with_warning():
    sim = CallSimulator(IvrSession(tree_from(MENU_TREE), CallInfo(ani="42"), T0))
    sim.start()
    sim.press("1")
    assert sim.enqueued.priority == 0
    messages = [w["message"] for w in sim.session.trace()["warnings"]]
    assert "variable 'customer.priority' has no value" in messages
    assert any("is not an integer" in m for m in messages)


def test_retry_limit_then_implicit_hangup():
    sim = CallSimulator(IvrSession(tree_from(MENU_TREE), CallInfo(), T0))
    sim.start()
    sim.press("9")
    assert sim.session.phase == INPUT
    sim.press("9")          # retries: 1 -> second invalid fails; no on_failure: hang up
    assert sim.names()[-1] == "invalid_option"
    assert isinstance(non_trace(sim.actions)[-1], HangUp)
    assert sim.session.outcome == Outcome.HUNG_UP


SAY_TREE = """
tenant: t
languages: [en, zh]
entry: hello
nodes:
  hello:
    kind: say
    prompt:
      en:
        - demo_welcome
        - {text: "Hello ${customer.name}, your plan is ${customer.plan}."}
        - {number: "${customer.points}"}
        - {digits: "${ANI}"}
        - {file: "/srv/prompts/${tenant}/jingle.wav"}
        - {date: "${customer.since}", year: true}
      zh: [demo_welcome, {currency: "${customer.owed}", code: CNY}]
    next: setzh
  setzh:
    kind: language
    set: zh
    next: again
  again:
    kind: say
    prompt: [demo_welcome]
"""


def test_say_items_render_into_segments_with_tts_and_warnings():
    s = IvrSession(tree_from(SAY_TREE), CallInfo(ani="12"), T0, session_id="y")
    s.variables["customer"] = {"name": "Ann", "points": 1500, "since": "2019-06-01",
                               "owed": "2.20"}
    sim = CallSimulator(s)
    sim.start()
    plays = sim.plays
    assert plays[0].files[0].endswith("en/demo_welcome.wav") and len(plays[0].files) == 1
    assert plays[1].text == "Hello Ann, your plan is ." and plays[1].lang == "en"
    assert plays[1].files == ()
    names = [f.rsplit("/", 1)[1][:-4] for f in plays[2].files]
    assert names[:4] == ["one", "thousand", "five", "hundred"]
    assert names[4:6] == ["one", "two"]
    assert plays[2].files[6] == "/srv/prompts/t/jingle.wav"
    assert names[7:] == ["june", "first", "twenty", "nineteen"]
    assert any("customer.plan" in w["message"] for w in s.trace()["warnings"])
    # the language node switched to Mandarin without a prompt; the next say is Mandarin
    assert s.language == "zh" and plays[-1].files[0].endswith("zh/demo_welcome.wav")
    assert s.ended and isinstance(non_trace(sim.actions)[-1], HangUp)


def test_mandarin_specific_prompt_list():
    s = IvrSession(tree_from(SAY_TREE), CallInfo(language="zh"), T0)
    s.variables["customer"] = {"owed": "2.20"}
    sim = CallSimulator(s)
    sim.start()
    assert sim.heard("zh").startswith("欢迎致电演示电信。两元两角")


COLLECT_TREE = """
tenant: t
entry: pin
nodes:
  pin:
    kind: collect
    prompt: demo_enter_account
    var: policy
    min: 5
    max: 6
    terminator: "*"
    validator: mod11
    mask: all
    timeout: 7
    retries: 0
    next: look
    on_failure: bye
  look:
    kind: lookup
    query: policy.status
    params: {policy: "${policy}", fixed: 3}
    into: policy_info
    timeout: 2
    next: ok
    on_error: bye
  ok:
    kind: say
    prompt: [{text: "Status ${policy_info.status}"}]
    served: true
  bye:
    kind: hangup
"""


def test_collect_with_mod11_and_star_terminator_then_lookup():
    seen = []

    def provider(kind, params):
        seen.append((kind, params))
        return {"status": "active"}

    sim = CallSimulator(IvrSession(tree_from(COLLECT_TREE), CallInfo(), T0), provider)
    sim.start()
    sim.press("12343*")
    assert seen == [("policy.status", {"policy": "12343", "fixed": 3})]
    assert sim.plays[-1].text == "Status active"
    assert sim.session.outcome == Outcome.SELF_SERVED
    assert sim.session.trace()["inputs"][0]["value"] == "*****"
    assert sim.session.variables["policy_verified"] is True


def test_collect_first_digit_timeout_without_retries_fails():
    sim = CallSimulator(IvrSession(tree_from(COLLECT_TREE), CallInfo(), T0))
    sim.start()
    starts = [a for a in sim.actions if isinstance(a, StartTimer)]
    assert starts[-1].at == pytest.approx(sim.now + 7)
    sim.advance(7.5)
    assert sim.session.ended and sim.session.outcome == Outcome.HUNG_UP
    assert sim.session.trace()["last_node"] == "bye"


def test_collect_pound_is_invalid_when_star_terminates():
    sim = CallSimulator(IvrSession(tree_from(COLLECT_TREE), CallInfo(), T0))
    sim.start()
    sim.press("123#")
    assert sim.session.ended and sim.session.trace()["inputs"][0]["valid"] is False


def test_lookup_error_sets_error_variable():
    def provider(kind, params):
        raise LookupFailed("backend 503")

    sim = CallSimulator(IvrSession(tree_from(COLLECT_TREE), CallInfo(), T0), provider)
    sim.start()
    sim.press("12343*")
    assert sim.session.variables["policy_info_error"] == "backend 503"
    assert "policy_info" not in sim.session.variables
    assert sim.session.trace()["lookups"][0] == {"node": "look", "query": "policy.status",
                                                 "ok": False, "error": "backend 503",
                                                 "at": sim.session.trace()["lookups"][0]["at"]}


def test_lookup_timeout_then_late_answer_ignored():
    s = IvrSession(tree_from(COLLECT_TREE), CallInfo(), T0, session_id="z")
    sim = CallSimulator(s)            # no provider: lookups stay unanswered
    sim.start()
    sim.press("12343*", settle=False)
    req = sim.of_type(Lookup)[-1]
    timer = [a for a in sim.actions if isinstance(a, StartTimer)][-1]
    assert timer.at == pytest.approx(sim.now + 2)
    sim.feed(TimerExpired(timer.key))
    assert s.ended and s.variables["policy_info_error"] == "timeout"
    out = sim.feed(LookupResult(req.request_id, {"status": "late"}))
    assert out[0].event == "ignored"


CALLBACK_TREE = """
tenant: t
entry: cb
nodes:
  cb:
    kind: callback
    prompt: callback_offer
    queue: "cb-${tenant}"
    priority: {var: tier, map: {gold: 9}, default: 1}
    skills: {callback: 1}
    on_decline: bye
  bye:
    kind: hangup
    prompt: goodbye
"""


@pytest.mark.parametrize("digit,offered", [("1", True), ("2", False)])
def test_callback_accept_or_decline(digit, offered):
    s = IvrSession(tree_from(CALLBACK_TREE), CallInfo(ani="+4470000"), T0)
    s.variables["tier"] = "gold"
    sim = CallSimulator(s)
    sim.start()
    sim.press(digit)
    offers = sim.of_type(OfferCallback)
    if offered:
        assert offers == [OfferCallback("cb-t", "+4470000", T0, {"callback": 1}, 9,
                                        offers[0].data)]
        assert s.outcome == Outcome.CALLBACK and isinstance(non_trace(sim.actions)[-1], HangUp)
    else:
        assert offers == [] and sim.names()[-1] == "goodbye" and s.outcome == Outcome.HUNG_UP


def test_trace_shape():
    sim = CallSimulator(IvrSession(tree_from(MENU_TREE), CallInfo(ani="5", dnis="6"), T0,
                                   session_id="tr"))
    sim.start()
    sim.press("1")
    t = sim.session.trace()
    assert set(t) >= {"session", "tree", "tenant", "ani", "dnis", "language", "started_at",
                      "ended_at", "outcome", "last_node", "nodes", "inputs", "lookups",
                      "menu_path"}
    assert [n["node"] for n in t["nodes"]] == ["menu", "q"]
    assert t["nodes"][0]["at"] == T0 and t["ended_at"] > t["started_at"]
    assert t["menu_path"] == ["menu:1"] and t["outcome"] == "queued"


# ------------------------------------------------------------------ conditions, calendars


CAL = {"office": parse_calendar("office", {
    "timezone": "Europe/London", "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]},
    "holidays": [{"every": "12-25"}, dt.date(2025, 5, 5), {"date": "2025-08-25"}]})}


def london(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=ZoneInfo("Europe/London")).timestamp()


@pytest.mark.parametrize("when,expect", [
    (london(2025, 7, 1, 9, 0), True),       # BST: local time, not UTC
    (london(2025, 7, 1, 8, 59), False),
    (london(2025, 7, 1, 12, 30), False),    # lunch
    (london(2025, 7, 1, 16, 59), True),
    (london(2025, 7, 1, 17, 0), False),
    (london(2025, 7, 5, 10), False),        # Saturday
    (london(2025, 5, 5, 10), False),        # dated holiday
    (london(2025, 8, 25, 10), False),
    (london(2030, 12, 25, 10), False),      # yearly holiday
])
def test_calendar_open(when, expect):
    assert CAL["office"].is_open(when) is expect


def test_calendar_holiday_vs_hours():
    when = london(2025, 5, 5, 10)
    assert CAL["office"].is_holiday(when) and CAL["office"].in_hours(when)


@pytest.mark.parametrize("spec,problem", [
    ({"timezone": "Nowhere/City"}, "unknown timezone"),
    ({"hours": {"funday": "09:00-10:00"}}, "unknown day"),
    ({"hours": {"mon": "9-10"}}, "bad hours"),
    ({"holidays": ["2025-13-01"]}, "bad holiday date"),
    ({"holidays": [{"every": "02-30"}]}, "bad yearly holiday"),
    ({"hour": {}}, "unknown field"),
])
def test_calendar_errors(spec, problem):
    with pytest.raises(CalendarError, match=problem):
        parse_calendar("c", spec)


VARS = {"customer": {"segment": "business", "services": ["internet", "tv"], "balance": "120.5",
                     "tier": "gold"}, "language": "zh", "tenant": "demo"}


@pytest.mark.parametrize("raw,expect", [
    ({"var": "customer.segment", "eq": "business"}, True),
    ({"var": "customer.segment", "ne": "business"}, False),
    ({"var": "customer.services", "contains": "tv"}, True),
    ({"var": "customer.services", "contains": "mobile"}, False),
    ({"var": "customer.tier", "in": ["gold", "platinum"]}, True),
    ({"var": "customer.tier", "not_in": ["gold"]}, False),
    ({"var": "customer.balance", "gt": 100}, True),
    ({"var": "customer.balance", "le": 100}, False),
    ({"var": "customer.missing", "ne": "x"}, False),      # missing is never equal or unequal
    ({"var": "customer.missing", "exists": False}, True),
    ({"var": "customer", "exists": True}, True),
    ({"all": [{"var": "language", "eq": "zh"}, {"var": "tenant", "eq": "demo"}]}, True),
    ({"any": [{"var": "language", "eq": "en"}, {"not": {"var": "tenant", "eq": "x"}}]}, True),
    ({"all": [{"open": "office"}, {"var": "language", "eq": "zh"}]}, False),
])
def test_conditions(raw, expect):
    cond = parse_condition(raw, CAL)
    assert evaluate(cond, VARS, CAL, london(2025, 7, 5, 10)) is expect


def test_condition_descriptions_for_diagrams():
    assert describe(parse_condition({"var": "a.b", "in": [1, 2]}, CAL)) == "a.b in [1, 2]"
    assert describe(parse_condition({"not": {"holiday": "office"}}, CAL)) == "not holiday(office)"
    assert describe(parse_condition(
        {"any": [{"open": "office"}, {"all": [{"var": "x", "eq": 1}, {"var": "y", "gt": 2}]}]},
        CAL)) == "open(office) or (x == 1 and y > 2)"

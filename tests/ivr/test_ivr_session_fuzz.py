"""Property: whatever the media plane and the backends send, in any order, the
interpreter never raises, keeps at most one timer, never leaks a collected value into
traces, and ends with a known outcome once the caller hangs up."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.events import (
    CallerHungUp,
    CancelTimer,
    DtmfReceived,
    Lookup,
    LookupResult,
    MessageRecorded,
    Outcome,
    Play,
    PromptFinished,
    StartTimer,
    TimerExpired,
    Trace,
)
from ivr.session import CallInfo, IvrSession

from .ivr_helpers import ACCOUNT, BILLS, CUSTOMERS, EVENING, GOLD_ANI, OPEN, demo_tree

TREE = demo_tree()

STEP = st.one_of(
    st.tuples(st.just("digit"), st.sampled_from(list("0123456789*#"))),
    st.tuples(st.just("account"), st.just(ACCOUNT)),
    st.tuples(st.sampled_from(["finish", "stale_finish", "fire", "stale_fire", "lookup_ok",
                               "lookup_none", "lookup_err", "stale_lookup", "recorded"]),
              st.just("")),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=40), st.sampled_from([OPEN, EVENING]), st.booleans())
def test_random_event_orders_are_survived(steps, start, known):
    s = IvrSession(TREE, CallInfo(ani=GOLD_ANI if known else "+1999", dnis="1000"), start,
                   session_id="f")
    now = start
    play = None
    timers: set = set()
    lookup = None
    seen = []

    def apply(actions):
        nonlocal play, lookup
        for a in actions:
            seen.append(a)
            if isinstance(a, Play):
                play = a.play_id
            elif isinstance(a, StartTimer):
                timers.add(a.key)
            elif isinstance(a, CancelTimer):
                timers.discard(a.key)
            elif isinstance(a, Lookup):
                lookup = a
        assert len(timers) <= 1

    apply(s.start(now))
    for kind, value in steps:
        now += 0.7
        if kind == "digit":
            ev = DtmfReceived(value)
        elif kind == "account":
            for d in value + "#":
                apply(s.handle(DtmfReceived(d), now))
            continue
        elif kind == "finish":
            ev = PromptFinished(play or "none")
        elif kind == "stale_finish":
            ev = PromptFinished("f:p0")
        elif kind == "fire":
            if not timers:
                continue
            key = next(iter(timers))
            timers.discard(key)
            ev = TimerExpired(key)
        elif kind == "stale_fire":
            ev = TimerExpired(("ivr", "f", "input", -5))
        elif kind.startswith("lookup") and lookup is not None:
            if kind == "lookup_ok":
                data = CUSTOMERS[GOLD_ANI] if lookup.kind.startswith("crm") else BILLS[ACCOUNT]
                ev = LookupResult(lookup.request_id, data)
            elif kind == "lookup_none":
                ev = LookupResult(lookup.request_id, None)
            else:
                ev = LookupResult(lookup.request_id, None, "boom")
        elif kind == "stale_lookup":
            ev = LookupResult("f:q0", {"x": 1})
        elif kind == "recorded":
            ev = MessageRecorded("/tmp/m.wav", 3.0)
        else:
            continue
        apply(s.handle(ev, now))
    apply(s.handle(CallerHungUp(), now + 1))
    if s.phase == "record":        # a hang-up while recording waits for the file
        apply(s.handle(MessageRecorded("/tmp/m.wav", 2.0), now + 2))
    assert s.ended and s.outcome in Outcome.ALL
    trace = s.trace()
    assert trace["outcome"] == s.outcome
    assert ACCOUNT not in repr(trace)
    assert ACCOUNT not in repr([a for a in seen if isinstance(a, Trace)])

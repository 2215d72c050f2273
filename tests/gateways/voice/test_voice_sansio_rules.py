"""Sans-I/O parts of the voice gateway: call phases, CDRs, dial plan, announcements."""

from __future__ import annotations

import pytest

from gateways.voice import announce
from gateways.voice.callstate import TRANSITIONS, CallStateError, Leg, Phase, VoiceCall, advance
from gateways.voice.cdr import OUTCOMES, build_cdr, default_outcome
from gateways.voice.dialplan import (
    DialError,
    device_uri,
    dnis_clashes,
    number_uri,
    resolve_dnis,
    uri_user,
)
from ivr.prompts import builtin_library


class Trunk:
    uri_template = "sip:{number}@gw.example:5060"
    from_uri = None


# ------------------------------------------------------------------ phases


def test_every_live_phase_can_end_and_ended_is_final() -> None:
    for phase in Phase:
        if phase in (Phase.ENDED,):
            assert not any(p is phase for p, _ in TRANSITIONS)
        else:
            assert advance(phase, "end") is Phase.ENDING
    assert advance(Phase.ENDING, "finish") is Phase.ENDED


@pytest.mark.parametrize("phase,event", [
    (Phase.ARRIVING, "answer"), (Phase.QUEUED, "answer"), (Phase.ENDED, "end"),
    (Phase.CONNECTED, "offer"), (Phase.GREETING, "offer"), (Phase.ENDING, "enqueue")])
def test_illegal_moves_raise(phase: Phase, event: str) -> None:
    with pytest.raises(CallStateError):
        advance(phase, event, "v-1")


def test_the_normal_inbound_path() -> None:
    call = VoiceCall("v-1", "t", "w1", 0.0)
    for event, phase in [("enqueue", Phase.QUEUED), ("offer", Phase.RINGING),
                         ("requeue", Phase.QUEUED), ("offer", Phase.RINGING),
                         ("answer", Phase.CONNECTED), ("end", Phase.ENDING),
                         ("finish", Phase.ENDED)]:
        assert call.move(event) is phase
    assert not call.live


# ------------------------------------------------------------------ CDRs


def _answered_call() -> VoiceCall:
    call = VoiceCall("v-1", "t", "w1", 100.0, ani="+1555", dnis="2000")
    call.add_leg(Leg("w1-L1", "caller", "in", created_at=100.0, answered_at=100.1,
                     stats={"rx_packets": 990, "rx_lost": 10}))
    call.add_leg(Leg("w1-L2", "agent", "out", agent_id="a1", created_at=101.0,
                     answered_at=103.0, stats={"rx_packets": 1000, "rx_lost": 0}))
    call.caller_leg = "w1-L1"
    call.answered_at, call.queued_at, call.offered_at = 100.1, 100.2, 101.0
    call.add_contact("c-1", "sales")
    call.agent_answered_at = 103.0
    call.add_agent("a1")
    call.end_leg("w1-L1", 133.0, code=200, reason="Normal call clearing", by="remote")
    call.end_leg("w1-L2", 133.1, code=200, reason="OK", by="local")
    call.set_outcome(default_outcome(call), "caller", "200 Normal call clearing")
    call.ended_at = 133.1
    return call


def test_cdr_of_an_answered_call() -> None:
    cdr = build_cdr(_answered_call())
    assert cdr["outcome"] == "answered" and cdr["outcome"] in OUTCOMES
    assert cdr["contact_id"] == "c-1" and cdr["agent_id"] == "a1" and cdr["queue"] == "sales"
    assert cdr["hangup_side"] == "caller" and cdr["hangup_cause"].startswith("200")
    assert cdr["durations"] == {"total_s": 33.1, "ivr_s": None, "wait_s": 2.8,
                                "talk_s": 30.1}
    assert cdr["media"] == {"rx_packets": 1990, "rx_lost": 10, "rx_loss_pct": 0.5}
    assert [leg["role"] for leg in cdr["legs"]] == ["caller", "agent"]


def test_first_outcome_wins_and_defaults_follow_the_call() -> None:
    call = VoiceCall("v-2", "t", "w1", 0.0)
    assert default_outcome(call) == "failed"
    call.add_contact("c-2", "q")
    assert default_outcome(call) == "abandoned"
    call.agent_answered_at = 5.0
    assert default_outcome(call) == "answered"
    call.set_outcome("lost_on_crash", "system", "worker w1 lost")
    call.set_outcome("answered", "caller", "BYE")
    assert (call.outcome, call.hangup_side) == ("lost_on_crash", "system")
    out = VoiceCall("v-3", "t", "w1", 0.0, direction="outbound")
    assert default_outcome(out) == "no_answer"


# ------------------------------------------------------------------ dial plan


TENANTS = {"b": {"dnis": {"2000": {"queue": "sales"}}},
           "a": {"dnis": {"1000": {"ivr": "main", "queue": "support", "greeting": "hi"},
                          "2000": {"queue": "other"}}}}


def test_dnis_resolution_and_clashes() -> None:
    e = resolve_dnis(TENANTS, "1000")
    assert e is not None and (e.tenant, e.ivr, e.queue, e.greeting) == \
        ("a", "main", "support", "hi")
    assert resolve_dnis(TENANTS, "+1000") is not None
    assert resolve_dnis(TENANTS, "2000").tenant == "a"     # first tenant id wins
    assert resolve_dnis(TENANTS, "9999") is None
    assert dnis_clashes(TENANTS) == {"2000": ["a", "b"]}


def test_uri_user() -> None:
    assert uri_user('"Bob" <sip:+1555@host;user=phone>;tag=1') == "+1555"
    assert uri_user("sip:alice@example.com") == "alice"
    assert uri_user("<sip:example.com>") == ""


def test_devices_and_numbers() -> None:
    assert device_uri("sip:a@1.2.3.4:5062", None) == "sip:a@1.2.3.4:5062"
    assert device_uri("tel:+1-555-0100", Trunk()) == "sip:+15550100@gw.example:5060"
    with pytest.raises(DialError) as e1:
        device_uri("tel:+15550100", None)
    assert e1.value.code == "no_trunk"
    with pytest.raises(DialError) as e2:
        device_uri("webrtc", Trunk())
    assert e2.value.code == "webrtc_unsupported"
    with pytest.raises(DialError) as e3:
        number_uri("12;evil@host", Trunk())
    assert e3.value.code == "bad_number"


# ------------------------------------------------------------------ announcements


def test_announcements_in_both_languages_use_shipped_fragments() -> None:
    lib = builtin_library()
    en = announce.announcement_names(3, 240, "en")
    assert en == ["queue_position_pre", "three", "queue_position_post", "wait_pre", "four",
                  "minutes"]
    zh = announce.announcement_names(2, 30, "zh")
    assert zh[0] == "queue_position_pre" and zh[-1] == "wait_under_minute"
    for lang, names in (("en", en), ("zh", zh)):
        files = announce.announcement_files(*((3, 240) if lang == "en" else (2, 30)), lang,
                                            lib)
        assert len(files) == len(names)
    assert announce.announcement_names(None, None, "en") == []


def test_wait_estimate_and_languages() -> None:
    assert announce.estimate_wait(3, 2, 100.0) == 150.0
    assert announce.estimate_wait(1, 1, None) == announce.DEFAULT_HANDLE_S
    assert announce.estimate_wait(2, 0, 100.0) is None
    assert announce.staffed_agents({"agents": {"ready": 1, "busy": 2, "not_ready": 4}}) == 3
    assert announce.speech_language("zh-TW") == "zh"
    assert announce.speech_language("en-US") == "en"


def test_greeting_lookup_falls_back_to_the_tenant_prefixed_prompt() -> None:
    lib = builtin_library()
    files = announce.prompt_files("welcome", "demo", "en", lib)
    assert len(files) == 1 and files[0].endswith("en/demo_welcome.wav")
    assert announce.prompt_files("no-such-prompt", "demo", "en", lib) == []


def test_shipped_music_on_hold_is_music_not_silence() -> None:
    samples = announce.moh_samples(4.0)
    assert len(samples) == 4 * 16000
    assert 3000 < abs(samples).max() <= 32767 * 0.26
    assert announce.MOH_FILE.is_file()

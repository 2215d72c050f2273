"""Who hears whom: bridges, monitor modes, plays, recordings, mute and hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.sip.mixer import Mixer, MixError, Recording


def L(x: str) -> tuple[str, str]:
    return ("leg", x)


def hears(m: Mixer, listener: str) -> set[str]:
    return {src[1] for src, dst in m.edges() if dst == L(listener)}


def mixer(*legs: str) -> Mixer:
    m = Mixer()
    m.media_up.update(legs)
    return m


def test_bridge_is_two_way() -> None:
    m = mixer("a", "b")
    m.bridge("B1", ["a", "b"])
    assert m.edges() == {(L("a"), L("b")), (L("b"), L("a"))}


def test_legs_without_media_are_left_out_until_up() -> None:
    m = mixer("a")
    m.bridge("B1", ["a", "b"])
    assert m.edges() == frozenset()
    m.media_up.add("b")
    assert len(m.edges()) == 2


@pytest.mark.parametrize("mode, caller_hears, agent_hears, sup_hears", [
    ("silent", {"agent"}, {"caller"}, {"caller", "agent"}),
    ("whisper", {"agent"}, {"caller", "sup"}, {"caller", "agent"}),
    ("barge", {"agent", "sup"}, {"caller", "sup"}, {"caller", "agent"}),
])
def test_monitor_modes(mode: str, caller_hears: set, agent_hears: set, sup_hears: set) -> None:
    m = mixer("caller", "agent", "sup")
    m.bridge("B1", ["caller", "agent"])
    m.monitor("sup", "B1", mode, whisper_to="agent")
    assert hears(m, "caller") == caller_hears
    assert hears(m, "agent") == agent_hears
    assert hears(m, "sup") == sup_hears


def test_monitor_mode_can_change_and_whisper_needs_a_member() -> None:
    m = mixer("caller", "agent", "sup")
    m.bridge("B1", ["caller", "agent"])
    with pytest.raises(MixError):
        m.monitor("sup", "B1", "whisper")
    with pytest.raises(MixError):
        m.monitor("sup", "B1", "whisper", whisper_to="sup")
    m.monitor("sup", "B1", "silent")
    m.monitor("sup", "B1", "barge")
    assert "sup" in hears(m, "caller")
    m.unmonitor("sup")
    assert hears(m, "caller") == {"agent"}


def test_busy_legs_cannot_join_twice() -> None:
    m = mixer("a", "b", "c")
    m.bridge("B1", ["a", "b"])
    with pytest.raises(MixError) as err:
        m.bridge("B2", ["b", "c"])
    assert err.value.code == "bad_state"
    with pytest.raises(MixError):
        m.monitor("a", "B1", "silent")
    with pytest.raises(MixError):
        m.bridge("B3", ["c", "c"])


def test_mute_and_hold() -> None:
    m = mixer("a", "b")
    m.bridge("B1", ["a", "b"])
    m.plays["P1"] = "a"
    m.recordings["R1"] = Recording({"a", "b"})
    m.muted.add("a")
    assert hears(m, "b") == set()
    assert hears(m, "a") == {"b", "P1"}
    assert {s[1] for s, d in m.edges() if d == ("rec", "R1")} == {"b"}
    m.muted.clear()
    m.held.add("a")
    assert hears(m, "b") == set()
    assert hears(m, "a") == {"P1"}            # music on hold still reaches a held leg


def test_paused_recording_gets_nothing() -> None:
    m = mixer("a", "b")
    m.recordings["R1"] = Recording({"a", "b"})
    assert {s for s, d in m.edges() if d == ("rec", "R1")} == {L("a"), L("b")}
    m.recordings["R1"].paused = True
    assert not [e for e in m.edges() if e[1] == ("rec", "R1")]


def test_leg_leaving_dissolves_two_party_bridge_and_its_monitor() -> None:
    m = mixer("a", "b", "s")
    m.bridge("B1", ["a", "b"])
    m.monitor("s", "B1", "silent")
    m.plays["P1"] = "a"
    m.recordings["R1"] = Recording({"a"})
    m.recordings["R2"] = Recording({"a", "b"})
    gone = m.remove_leg("a")
    assert gone.bridges == ("B1",) and gone.monitors == ("s",)
    assert gone.plays == ("P1",) and gone.recordings == ("R1",)
    assert m.recordings["R2"].legs == {"b"}
    assert m.edges() == {(L("b"), ("rec", "R2"))}


def test_conference_survives_one_leaving_and_whisper_falls_back() -> None:
    m = mixer("a", "b", "c", "s")
    m.bridge("B1", ["a", "b", "c"])
    m.monitor("s", "B1", "whisper", whisper_to="c")
    gone = m.remove_leg("c")
    assert gone.bridges == ()
    assert m.monitors["s"].mode == "silent"
    assert hears(m, "a") == {"b"}


ops = st.lists(st.tuples(st.sampled_from(["bridge", "monitor", "mute", "hold", "unhold",
                                          "remove", "unbridge"]),
                         st.sampled_from("abcde"), st.sampled_from("abcde"),
                         st.sampled_from(["silent", "whisper", "barge"])), max_size=25)


@given(ops)
@settings(max_examples=300, deadline=None)
def test_invariants_hold_under_any_sequence(seq: list) -> None:
    m = mixer(*"abcde")
    n = 0
    for op, x, y, mode in seq:
        try:
            if op == "bridge":
                n += 1
                m.bridge(f"B{n}", [x, y])
            elif op == "monitor" and m.bridge_of(y):
                m.monitor(x, m.bridge_of(y), mode, whisper_to=y)
            elif op == "mute":
                m.muted.add(x)
            elif op == "hold":
                m.held.add(x)
            elif op == "unhold":
                m.held.discard(x)
            elif op == "remove":
                m.remove_leg(x)
            elif op == "unbridge" and m.bridge_of(x):
                m.unbridge(m.bridge_of(x))
        except MixError:
            pass
        edges = m.edges()
        for src, dst in edges:
            assert src != dst
            if src[0] == "leg":
                assert src[1] in m.media_up and src[1] not in m.muted | m.held
            if dst[0] == "leg" and src[0] == "leg":
                assert dst[1] not in m.held
        # a leg is in at most one bridge, never both member and monitor
        members = [x for b in m.bridges.values() for x in b]
        assert len(members) == len(set(members))
        assert not set(members) & set(m.monitors)

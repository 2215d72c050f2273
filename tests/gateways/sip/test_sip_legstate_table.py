"""The leg state table: legal moves, illegal ones, and that every state can end."""

from __future__ import annotations

import pytest

from gateways.sip.legstate import TRANSITIONS, IllegalTransition, LegState, can, next_state


def test_inbound_path() -> None:
    s = LegState.INCOMING
    for ev, want in [("ring", LegState.INCOMING), ("answer", LegState.ANSWERING),
                     ("confirmed", LegState.ANSWERED), ("hold", LegState.HELD),
                     ("resume", LegState.ANSWERED), ("hangup", LegState.ENDING),
                     ("disconnected", LegState.ENDED)]:
        s = next_state(s, ev)
        assert s is want


def test_outbound_path() -> None:
    s = next_state(LegState.CALLING, "progress")
    assert s is LegState.EARLY
    assert next_state(s, "confirmed") is LegState.ANSWERED


@pytest.mark.parametrize("state, event", [
    (LegState.ANSWERED, "answer"), (LegState.CALLING, "hold"), (LegState.INCOMING, "resume"),
    (LegState.ENDED, "hangup"), (LegState.ENDED, "disconnected"), (LegState.HELD, "hold"),
])
def test_illegal_moves_raise(state: LegState, event: str) -> None:
    assert not can(state, event)
    with pytest.raises(IllegalTransition):
        next_state(state, event)


def test_every_state_but_ended_reaches_ended() -> None:
    for state in LegState:
        if state is LegState.ENDED:
            assert TRANSITIONS[state] == {}
        else:
            assert TRANSITIONS[state]["disconnected"] is LegState.ENDED

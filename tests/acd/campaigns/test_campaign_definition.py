"""The campaign definition: life-cycle table, validation, script and survey."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from acd.campaigns.model import (
    TRANSITIONS,
    CampaignError,
    CampaignSpec,
    CampaignState,
    editable,
    fill,
    next_state,
)
from acd.dialer.model import Mode, Outcome

BASE = {"name": "Spring", "queue": "sales", "caller_id": "+14155550100",
        "company": "Acme", "callback_number": "+1 415 555 0100"}

SURVEY = {
    "survey": [
        {"id": "interested", "text": "Interested?", "type": "yes_no"},
        {"id": "plan", "text": "Which plan?", "type": "choice", "options": ["basic", "pro"]},
        {"id": "seats", "text": "How many seats?", "type": "number"},
    ],
    "script": [
        {"id": "hello", "text": "Hello {first_name}, this is {agent}.", "next": "ask"},
        {"id": "ask", "text": "Would you like to hear about {product}?",
         "question": "interested", "branches": {"yes": "plan", "no": "bye"}},
        {"id": "plan", "text": "Which plan suits you?", "question": "plan", "next": "bye"},
        {"id": "bye", "text": "Thank you, {first_name}."},
    ],
}


def test_life_cycle_table() -> None:
    s = CampaignState
    assert next_state(s.DRAFT, "start") is s.RUNNING
    assert next_state(s.RUNNING, "pause") is s.PAUSED
    assert next_state(s.PAUSED, "resume") is s.RUNNING
    assert next_state(s.PAUSED, "stop") is s.STOPPED
    for state, action in [(s.DRAFT, "pause"), (s.RUNNING, "start"), (s.STOPPED, "resume"),
                          (s.STOPPED, "start"), (s.DRAFT, "resume")]:
        with pytest.raises(CampaignError) as e:
            next_state(state, action)
        assert e.value.error_id == "illegal_transition" and e.value.status == 409
    assert TRANSITIONS[s.STOPPED] == {}
    assert not editable(s.RUNNING) and editable(s.PAUSED) and editable(s.DRAFT)


def test_spec_maps_to_the_pacer_config() -> None:
    spec = CampaignSpec.model_validate({
        **BASE, "mode": "predictive", "max_attempts": 5,
        "retry_delays_s": {"busy": 120, "no_answer": 600},
        "windows": [{"start": "09:00", "end": "18:30", "weekdays": [0, 1, 2, 3, 4]}]})
    cfg = spec.pacer_config("demo/c1")
    assert cfg.id == "demo/c1" and cfg.mode is Mode.PREDICTIVE
    assert cfg.retry.max_attempts == 5
    assert cfg.retry.delays_s[Outcome.BUSY] == 120
    assert cfg.retry.delays_s[Outcome.MACHINE] == 4 * 3600   # default kept
    assert cfg.windows[0].start.hour == 9 and cfg.windows[0].end.minute == 30
    assert cfg.windows[0].weekdays == frozenset(range(5))


@pytest.mark.parametrize("bad", [
    {"windows": [{"start": "21:00", "end": "08:00"}]},
    {"windows": [{"start": "25:00", "end": "26:00"}]},
    {"ring_timeout_s": 5},
    {"retry_delays_s": {"connected": 60}},
    {"default_tz": "Nowhere/Land"},
    {"dispositions": []},
    {"script": [{"id": "a", "text": "x", "next": "missing"}]},
    {"script": [{"id": "a", "text": "x", "question": "nope"}]},
    {"survey": [{"id": "q", "text": "?", "type": "choice"}]},
    {"unknown_field": 1},
])
def test_invalid_specs_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        CampaignSpec.model_validate({**BASE, **bad})


def test_script_follows_the_answers() -> None:
    spec = CampaignSpec.model_validate({**BASE, **SURVEY})
    lead = {"first_name": "Ann", "product": "fibre"}
    steps = spec.run_script(lead)
    assert [s["id"] for s in steps] == ["hello", "ask"]        # waits for the answer
    assert steps[0]["text"] == "Hello Ann, this is {agent}."  # unknown fields stay
    assert steps[1]["question"]["type"] == "yes_no"
    assert [s["id"] for s in spec.run_script(lead, {"interested": "yes"})] == \
        ["hello", "ask", "plan"]
    assert [s["id"] for s in spec.run_script(lead, {"interested": "no"})] == \
        ["hello", "ask", "bye"]
    done = spec.run_script(lead, {"interested": "yes", "plan": "pro"})
    assert [s["id"] for s in done] == ["hello", "ask", "plan", "bye"]
    assert done[-1]["text"] == "Thank you, Ann."


def test_answers_are_checked_by_type() -> None:
    spec = CampaignSpec.model_validate({**BASE, **SURVEY})
    assert spec.check_answers({"interested": True, "plan": "pro", "seats": "12"}) == \
        {"interested": "yes", "plan": "pro", "seats": 12.0}
    for bad in ({"plan": "gold"}, {"seats": "many"}, {"interested": "maybe"}, {"x": 1}):
        with pytest.raises(ValueError):
            spec.check_answers(bad)


def test_fill_never_reaches_attributes() -> None:
    assert fill("{a.__class__} {b}", {"b": "ok"}) == "{a.__class__} ok"
    assert fill("{unbalanced", {}) == "{unbalanced"

"""The runner on a fake clock with a fake dialer: agents from the engine, dials, the
do-not-call check at dial time, timers, and the audit and lead rows it writes."""

from __future__ import annotations

import asyncio

from acd import events as ev
from acd.campaigns.model import CampaignSpec
from acd.campaigns.runner import VOICE_UNAVAILABLE
from acd.dialer import events as dev
from acd.dialer.model import AnswerKind

from .conftest import spec_body

LEADS = ("Name,Phone,Prio\n"
         "Ann,+1 415 555 2671,1\n"
         "Dan,+1 212 555 0142,0\n"          # dials first; put on the DNC list after import
         "Eve,+1 312 555 0177,2\n")
MAPPING = {"first_name": "Name", "phone": "Phone", "priority": "Prio"}


async def _campaign(server, runner, clock, **kw):
    repo = runner.repo
    c = await repo.create("demo", CampaignSpec.model_validate(spec_body(**kw)), clock(), "c1")
    report = await repo.import_list("demo", "c1", LEADS.encode(), mapping=MAPPING,
                                    filename="l.csv", now=clock())
    assert report["created"] == 3 and not report["errors"]
    return c


def _ready(server, agent_id: str) -> None:
    server.handle(ev.AgentLoggedIn(agent_id, "webrtc", "taipei"))
    server.handle(ev.AgentWentReady(agent_id))


async def test_dial_connect_dnc_at_dial_time_and_audit_rows(served, dialer, clock) -> None:
    server, runner = served
    repo = runner.repo
    await _campaign(server, runner, clock)
    # listed after the import: only the dial-time check can catch it
    await repo.dnc_add("demo", ["+12125550142"], clock())
    await repo.transition("demo", "c1", "start", clock())
    await runner.activate("demo", "c1")
    runner.dnc_changed("demo", added=("+12125550142",))
    assert dialer.dials == []                    # no agent yet: progressive waits

    _ready(server, "agent1")                     # AgentUpdated -> AgentAvailable
    assert len(dialer.dials) == 1
    dial, caller_id = dialer.dials[0]
    assert caller_id == "+14155550100"
    assert dial.phone == "+14155552671"          # Dan was skipped: do not call

    runner.call_event(dial.call_id, dev.CallAnswered(dial.call_id, AnswerKind.HUMAN))
    assert dialer.connects == [(dial.call_id, "agent1")]
    runner.call_event(dial.call_id, dev.CallConnectedToAgent(dial.call_id, "agent1"))
    clock.t += 90
    runner.call_event(dial.call_id, dev.CallEnded(dial.call_id, disposition="sale"))
    assert runner.progress("demo", "c1")["connected"] == 1
    await runner.flush()

    rows = await repo.audit("demo", "c1")
    by_phone = {r["phone"]: r for r in rows}
    dnc_row = by_phone["+12125550142"]
    assert (dnc_row["outcome"], dnc_row["dnc_checked"], dnc_row["dnc_listed"],
            dnc_row["call_id"]) == ("dnc", True, True, None)
    ok = by_phone["+14155552671"]
    assert (ok["outcome"], ok["dnc_listed"], ok["agent_id"], ok["mode"]) == \
        ("connected", False, "agent1", "progressive")
    assert ok["lead_local_time"].startswith("2026-03-10T11:00:00-07:00")
    assert ok["tz"] == "America/Los_Angeles"

    leads = {r["phone"]: r for r in await repo.leads("demo", "c1")}
    assert (leads["+12125550142"]["status"], leads["+12125550142"]["close_reason"]) == \
        ("closed", "dnc")
    assert (leads["+14155552671"]["status"], leads["+14155552671"]["attempts"]) == \
        ("closed", 1)
    assert leads["+13125550177"]["status"] == "pending"


async def test_ring_timeout_on_tick_schedules_a_retry(served, dialer, clock) -> None:
    server, runner = served
    repo = runner.repo
    await _campaign(server, runner, clock)
    await repo.transition("demo", "c1", "start", clock())
    _ready(server, "agent2")
    await runner.activate("demo", "c1")           # agent already ready: offered at start
    assert len(dialer.dials) == 1
    d = dialer.dials[0][0]
    assert d.phone == "+12125550142"
    clock.t += 10
    runner.tick()
    assert dialer.hangups == []                  # still ringing
    clock.t += 11                                # past the 20 s ring timeout
    runner.tick()
    assert (d.call_id, "no_answer", False) in dialer.hangups
    await runner.flush()
    lead = {r["phone"]: r for r in await repo.leads("demo", "c1")}["+12125550142"]
    assert lead["status"] == "pending" and lead["attempts"] == 1
    assert lead["last_outcome"] == "no_answer"
    assert lead["not_before"] >= clock.t + 2 * 3600 - 1   # the default no-answer delay
    assert [r["outcome"] for r in await repo.audit("demo", "c1")] == ["no_answer"]


async def test_pause_stops_new_dials_and_result_frees_the_agent(served, dialer, clock) -> None:
    server, runner = served
    repo = runner.repo
    await _campaign(server, runner, clock)
    await repo.transition("demo", "c1", "start", clock())
    await runner.activate("demo", "c1")
    _ready(server, "agent1")
    d = dialer.dials[0][0]
    runner.call_event(d.call_id, dev.CallAnswered(d.call_id, AnswerKind.HUMAN))
    runner.call_event(d.call_id, dev.CallEnded(d.call_id, disposition="sale"))
    runner.pause("demo", "c1")
    runner.agent_done("demo", "c1", "agent1")
    runner.tick()
    assert len(dialer.dials) == 1                # paused: nothing new
    await repo.transition("demo", "c1", "pause", clock())
    await repo.transition("demo", "c1", "resume", clock())
    await runner.activate("demo", "c1")
    assert len(dialer.dials) == 2                # agent1 is offered again on resume


async def test_agents_outside_the_campaign_queue_are_ignored(served, dialer, clock) -> None:
    server, runner = served
    await _campaign(server, runner, clock, skills=["support"])
    await runner.repo.transition("demo", "c1", "start", clock())
    await runner.activate("demo", "c1")
    _ready(server, "agent5")                     # sales only: not enough
    assert dialer.dials == []
    _ready(server, "agent3")                     # sales 5 and support 7
    assert len(dialer.dials) == 1
    server.handle(ev.AgentLoggedIn("acme1", "webrtc", "taipei"))
    server.handle(ev.AgentWentReady("acme1"))    # another tenant's agent
    assert runner.progress("demo", "c1")["agents"]["logged_in"] == 1


async def test_without_voice_the_dial_is_audited_and_the_campaign_pauses(
        served_without_voice, clock) -> None:
    server, runner = served_without_voice
    repo = runner.repo
    await _campaign(server, runner, clock)
    await repo.transition("demo", "c1", "start", clock())
    await runner.activate("demo", "c1")
    _ready(server, "agent1")
    for _ in range(20):                          # the pause is written by a task
        await asyncio.sleep(0)
        if (await repo.get("demo", "c1"))["state"] == "paused":
            break
    await runner.flush()
    c = await repo.get("demo", "c1")
    assert (c["state"], c["state_reason"]) == ("paused", "voice_unavailable")
    rows = await repo.audit("demo", "c1")
    notes = [r for r in rows if r["note"] == VOICE_UNAVAILABLE]
    assert len(notes) == 1 and notes[0]["outcome"] == "not_dialed"
    assert any(r["outcome"] == "failed" and r["call_id"] == notes[0]["call_id"] for r in rows)
    assert runner.progress("demo", "c1")["not_dialed"] == 1
    assert runner.health()["voice"] is False


async def test_running_campaigns_resume_after_a_restart(tmp_path, clock, dialer) -> None:
    from acd.campaigns.runner import CampaignRunner
    from acd.server import Server
    from tests.acd.api.conftest import demo_settings

    srv = Server(demo_settings(), tmp_path / "d", clock=clock)
    runner = CampaignRunner(dialer=dialer, clock=clock, ticker=False)
    srv.add_gateway(runner)
    await srv.start()
    try:
        await _campaign(srv, runner, clock)
        await runner.repo.transition("demo", "c1", "start", clock())
    finally:
        await srv.stop()
    srv = Server(demo_settings(), tmp_path / "d", clock=clock)
    runner = CampaignRunner(dialer=dialer, clock=clock, ticker=False)
    srv.add_gateway(runner)
    await srv.start()
    try:
        assert "demo/c1" in runner.live
        _ready(srv, "agent1")
        assert len(dialer.dials) == 1
    finally:
        await srv.stop()


async def test_an_agent_is_offered_to_one_campaign_at_a_time(served, dialer, clock) -> None:
    server, runner = served
    repo = runner.repo
    for cid, prio, csv_text in (("low", 5, "Phone\n+1 415 555 2671\n+1 415 555 2672\n"),
                                ("high", 1, "Phone\n+1 212 555 0142\n+1 212 555 0143\n")):
        await repo.create("demo", CampaignSpec.model_validate(spec_body(priority=prio)),
                          clock(), cid)
        await repo.import_list("demo", cid, csv_text.encode(), mapping={"phone": "Phone"},
                               now=clock())
        await repo.transition("demo", cid, "start", clock())
        await runner.activate("demo", cid)
    _ready(server, "agent1")
    assert [d.phone for d, _ in dialer.dials] == ["+12125550142"]   # "high" only
    assert runner.live["demo/low"].pacer.agent_state("agent1").value == "away"

    d = dialer.dials[0][0]
    runner.call_event(d.call_id, dev.CallAnswered(d.call_id, AnswerKind.HUMAN))
    runner.call_event(d.call_id, dev.CallEnded(d.call_id, disposition="sale"))
    runner.pause("demo", "high")                 # agent1 in wrap-up for "high"
    assert len(dialer.dials) == 1
    runner.agent_done("demo", "high", "agent1")  # result saved: "low" gets him now
    assert [d.phone for d, _ in dialer.dials][1:] == ["+14155552671"]
    assert runner.live["demo/high"].pacer.agent_state("agent1").value == "away"


async def test_an_edit_while_paused_applies_on_resume(served, dialer, clock) -> None:
    server, runner = served
    repo = runner.repo
    await _campaign(server, runner, clock)
    await repo.transition("demo", "c1", "start", clock())
    await runner.activate("demo", "c1")
    await repo.transition("demo", "c1", "pause", clock())
    runner.pause("demo", "c1")
    await repo.update("demo", "c1", CampaignSpec.model_validate(spec_body(mode="manual")),
                      clock())
    await repo.transition("demo", "c1", "resume", clock())
    live = await runner.activate("demo", "c1")
    assert live.pacer.mode.value == "manual"
    _ready(server, "agent1")
    assert dialer.dials == []                    # manual: nothing dialled by itself

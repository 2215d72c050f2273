"""Media primitives end to end: real pjsua2 peers in their own processes, a real worker
driven through the pool, audio proven by FFT of what each side recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gateways.sip.pool import WorkerError, WorkerPool
from tests.support.sip_peer import SipPeer
from tests.support.tone_analysis import analyse, band_share, read_wav, write_tone_wav

from .conftest import EventLog, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

RMS_FLOOR = 500.0       # a tone at pjsua2's default level is ~8000; silence is ~0


async def start_peer(peers: list[SipPeer], **kw: Any) -> SipPeer:
    peer = SipPeer(**kw)
    peers.append(peer)
    return await peer.start()


async def inbound_call(pool: WorkerPool, events: EventLog, caller: SipPeer, port: int,
                       **headers: str) -> tuple[int, str]:
    """Caller dials the worker; returns (peer call number, worker leg id)."""
    before = len(events.find("leg_incoming"))
    n = await caller.call(f"sip:1000@127.0.0.1:{port}", headers=headers or None)
    for _ in range(100):
        if len(events.find("leg_incoming")) > before:
            break
        await events.wait("leg_incoming")
        await asyncio.sleep(0.02)
    return n, events.find("leg_incoming")[before].args["leg"]


def assert_tone(path: Path, freq: float) -> None:
    report = analyse(path, skip_seconds=1.0)
    assert report.seconds > 0.5, f"{path}: only {report.seconds:.2f}s of audio"
    assert abs(report.peak_hz - freq) <= 15, f"{path}: peak {report.peak_hz:.1f} Hz, not {freq}"
    assert report.rms > RMS_FLOOR, f"{path}: rms {report.rms:.0f} is silence"


async def test_bridged_call_carries_both_tones_records_pauses_and_reports_hangups(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer], tmp_path: Path) -> None:
    agent = await start_peer(peers, tone=440, record_dir=tmp_path / "agent", auto_answer=200,
                             user="agent")
    caller = await start_peer(peers, tone=1000, record_dir=tmp_path / "caller", user="caller")
    (tmp_path / "agent").mkdir()
    (tmp_path / "caller").mkdir()

    res = await pool.reserve(2)
    n, cleg = await inbound_call(pool, events, caller, res.sip_port, **{"X-Case": "42"})
    inc = events.find("leg_incoming", leg=cleg)[0].args
    assert inc["dnis"] == "1000" and inc["headers"]["X-Case"] == "42"
    assert inc["reservation"] == res.id and inc["call_id"]
    wid = res.worker_id

    await pool.request(wid, "ring", leg=cleg)
    await pool.request(wid, "answer", leg=cleg)
    await events.wait("leg_answered", leg=cleg)
    _, aleg = await pool.originate(agent.uri, reservation=res, headers={"X-Contact": "c1"})
    await events.wait("leg_answered", leg=aleg)
    bridge = (await pool.request(wid, "bridge", a=cleg, b=aleg))["bridge"]
    wav = tmp_path / "worker-rec.wav"
    rec = (await pool.request(wid, "record_start", legs=[cleg], path=str(wav)))["recording"]
    assert sorted(pool.ledger.legs_of(wid)) == sorted([cleg, aleg])
    assert pool.ledger.free(wid) == 2

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.sleep(2.0)            # real media has to flow for a while
    await pool.request(wid, "record_pause", recording=rec)
    await asyncio.sleep(1.0)            # not recorded: pause skips, it writes no silence
    await pool.request(wid, "record_resume", recording=rec)
    await asyncio.sleep(1.0)
    elapsed = loop.time() - began
    stats = await pool.request(wid, "stats", leg=cleg)
    assert stats["rx_packets"] > 50 and stats["rx_lost"] == 0
    assert (await pool.request(wid, "record_stop", recording=rec))["path"] == str(wav)
    await events.wait("record_stopped", recording=rec)

    # the caller hangs up: the worker reports who and why; the bridge ends with it
    caller.send("hangup", call=n, code=200)
    gone = await events.wait("leg_hungup", leg=cleg)
    assert gone.args["by"] == "remote" and gone.args["code"] == 200
    await events.wait("bridge_ended", bridge=bridge)
    # the server ends the other side
    await pool.leg_request(aleg, "hangup")
    ended = await events.wait("leg_hungup", leg=aleg)
    assert ended.args["by"] == "local"
    await agent.wait_for("disconnected")
    with pytest.raises(WorkerError) as err:
        await pool.leg_request(aleg, "hangup")
    assert err.value.code == "no_such_leg"
    assert pool.ledger.get(res.id) is None          # the contact's booking ended with it
    await eventually(lambda: pool.ledger.free(wid) == 4, what="slots back")

    await asyncio.gather(agent.stop(), caller.stop())
    assert_tone(agent.recording(0), 1000)            # agent heard the caller
    assert_tone(caller.recording(0), 440)            # caller heard the agent
    assert_tone(wav, 1000)                            # worker recorded the caller
    samples, rate = read_wav(wav)
    assert len(samples) / rate <= elapsed - 0.5       # the paused second is not in it


async def test_prompt_playback_dtmf_collection_and_errors(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer], tmp_path: Path) -> None:
    (tmp_path / "caller").mkdir()
    prompt = write_tone_wav(tmp_path / "prompt.wav", 700, 2.5)
    caller = await start_peer(peers, record_dir=tmp_path / "caller", user="caller")
    wid = pool.workers()[0].id
    n, leg = await inbound_call(pool, events, caller, pool.workers()[0].sip_port)
    await pool.request(wid, "answer", leg=leg)
    await events.wait("leg_answered", leg=leg)
    await caller.wait_for("media", call=n)

    play = (await pool.request(wid, "play", leg=leg, file=str(prompt)))["play"]
    done = await events.wait("play_done", play=play)
    assert done.args["reason"] == "done"

    # digits typed during collection: two as RFC 4733 events, then two as SIP INFO
    collect = (await pool.request(wid, "collect_dtmf", leg=leg, max=6, timeout=8.0,
                                  terminator="#"))["collect"]
    caller.send("dtmf", call=n, digits="12")
    await events.wait("dtmf", leg=leg, digit="2")
    caller.send("dtmf", call=n, digits="3#", method="info")
    got = await events.wait("dtmf_collected", collect=collect)
    assert got.args["digits"] == "123" and got.args["reason"] == "terminator"
    methods = {e.args["digit"]: e.args["method"] for e in events.find("dtmf", leg=leg)}
    assert methods == {"1": "rfc4733", "2": "rfc4733", "3": "info", "#": "info"}

    # a short collection with nothing typed times out
    c2 = (await pool.request(wid, "collect_dtmf", leg=leg, max=1, timeout=0.3))["collect"]
    assert (await events.wait("dtmf_collected", collect=c2)).args["reason"] == "timeout"

    # errors name the problem
    for op, args, code in [("play", {"leg": leg}, "bad_args"),
                           ("play", {"leg": leg, "file": str(tmp_path / "none.wav")},
                            "no_such_file"),
                           ("answer", {"leg": leg}, "bad_state"),
                           ("collect_dtmf", {"leg": leg, "max": 0}, "bad_args"),
                           ("answer", {"leg": "w9-L9"}, "no_such_leg"),
                           ("bridge", {"a": leg}, "bad_args"),
                           ("teleport", {}, "unknown_op"),
                           ("hangup", {"leg": leg, "colour": "red"}, "bad_args")]:
        with pytest.raises(WorkerError) as err:
            await pool.request(wid, op, **args)
        assert err.value.code == code, (op, args)

    # the server hangs up with a cause; the caller sees the BYE
    await pool.request(wid, "hangup", leg=leg)
    assert (await events.wait("leg_hungup", leg=leg)).args["by"] == "local"
    await caller.wait_for("disconnected", call=n)
    await caller.stop()
    samples, rate = read_wav(caller.recording(0))
    # The prompt is all the caller hears; on a loaded machine it may start well after the
    # recording does, so analyse the loudest 1.5 s stretch rather than a fixed offset.
    clip = tmp_path / "heard.wav"
    write_clip(clip, loudest(samples, rate, 1.5), rate)
    report = analyse(clip, skip_seconds=0.0)
    assert abs(report.peak_hz - 700) <= 15, f"peak {report.peak_hz:.1f} Hz, not 700"
    assert report.rms > RMS_FLOOR, f"rms {report.rms:.0f} is silence"


def loudest(samples: Any, rate: int, seconds: float) -> Any:
    """The window of ``seconds`` with the most energy (20 ms steps)."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float64)
    width, step = int(seconds * rate), rate // 50
    if len(x) <= width:
        return samples
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    starts = np.arange(0, len(x) - width + 1, step)
    best = int(starts[np.argmax(energy[starts + width] - energy[starts])])
    return samples[best:best + width]


def write_clip(path: Path, samples: Any, rate: int) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


async def test_whisper_lets_agent_hear_supervisor_but_not_caller(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer], tmp_path: Path) -> None:
    for d in ("caller", "agent", "sup"):
        (tmp_path / d).mkdir()
    caller = await start_peer(peers, tone=1000, record_dir=tmp_path / "caller", user="caller")
    agent = await start_peer(peers, tone=440, record_dir=tmp_path / "agent", auto_answer=200,
                             user="agent")
    sup = await start_peer(peers, tone=2000, record_dir=tmp_path / "sup", auto_answer=200,
                           user="sup")
    res = await pool.reserve(2)
    wid = res.worker_id
    _, cleg = await inbound_call(pool, events, caller, res.sip_port)
    await pool.request(wid, "answer", leg=cleg)
    _, aleg = await pool.originate(agent.uri, reservation=res)
    _, sleg = await pool.originate(sup.uri, worker_id=wid)
    for leg in (cleg, aleg, sleg):
        await events.wait("leg_answered", leg=leg)
    bridge = (await pool.request(wid, "bridge", legs=[cleg, aleg]))["bridge"]
    await pool.request(wid, "monitor", leg=sleg, bridge=bridge, mode="whisper",
                       whisper_to=aleg)
    await asyncio.sleep(3.0)
    await asyncio.gather(caller.stop(), agent.stop(), sup.stop())

    agent_heard, caller_heard = agent.recording(0), caller.recording(0)
    sup_heard = sup.recording(0)
    assert band_share(agent_heard, 1000) > 0.1 and band_share(agent_heard, 2000) > 0.1
    assert band_share(caller_heard, 440) > 0.5 and band_share(caller_heard, 2000) < 0.01
    assert band_share(sup_heard, 1000) > 0.1 and band_share(sup_heard, 440) > 0.1
    assert analyse(agent_heard).rms > RMS_FLOOR


async def test_hold_plays_music_to_the_held_leg_and_resume_reconnects(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer], tmp_path: Path) -> None:
    for d in ("caller", "agent"):
        (tmp_path / d).mkdir()
    moh = write_tone_wav(tmp_path / "moh.wav", 600, 1.0)
    caller = await start_peer(peers, tone=1000, record_dir=tmp_path / "caller", user="caller")
    agent = await start_peer(peers, tone=440, record_dir=tmp_path / "agent", auto_answer=200,
                             user="agent")
    res = await pool.reserve(2)
    wid = res.worker_id
    _, cleg = await inbound_call(pool, events, caller, res.sip_port)
    await pool.request(wid, "answer", leg=cleg)
    _, aleg = await pool.originate(agent.uri, reservation=res)
    for leg in (cleg, aleg):
        await events.wait("leg_answered", leg=leg)
    await pool.request(wid, "bridge", a=cleg, b=aleg)
    held = await pool.request(wid, "hold", leg=cleg, moh=str(moh))
    assert held["play"]
    with pytest.raises(WorkerError) as err:
        await pool.request(wid, "hold", leg=cleg)
    assert err.value.code == "bad_state"
    assert (await pool.request(wid, "status"))["legs"][cleg]["state"] == "held"
    await caller.wait_for("media", hold=True)             # the caller's UA saw the re-INVITE
    await asyncio.sleep(2.5)
    await pool.request(wid, "resume", leg=cleg)
    stopped = await events.wait("play_done", play=held["play"])
    assert stopped.args["reason"] == "stopped"            # music ends with the hold
    assert (await pool.request(wid, "status"))["legs"][cleg]["state"] == "answered"
    await pool.request(wid, "send_dtmf", leg=aleg, digits="4")
    await pool.request(wid, "send_dtmf", leg=aleg, digits="2", method="info")
    assert (await agent.wait_for("dtmf", digit="4"))["call"] == 0
    await agent.wait_for("dtmf", digit="2")
    await asyncio.gather(caller.stop(), agent.stop())

    caller_heard = caller.recording(0)
    # on hold the caller hears the music (a looped 600 Hz file), not the agent
    assert band_share(caller_heard, 600) > 0.5 and band_share(caller_heard, 440) < 0.05
    assert analyse(caller_heard).rms > RMS_FLOOR


async def test_originate_ringing_cancel_and_rejection_causes(
        pool: WorkerPool, events: EventLog, peers: list[SipPeer]) -> None:
    ringer = await start_peer(peers, user="ringer")                  # answers 180, no more
    busy = await start_peer(peers, auto_answer=486, user="busy")
    wid, leg = await pool.originate(ringer.uri, **{"from": "sip:queue-sales@ipcc.test"})
    ring = await events.wait("leg_ringing", leg=leg)
    assert ring.args["code"] == 180
    incoming = await ringer.wait_for("incoming")
    assert "queue-sales@ipcc.test" in incoming["from"]              # originate(from=...)
    await pool.leg_request(leg, "hangup")                            # CANCEL while ringing
    cancelled = await events.wait("leg_hungup", leg=leg)
    assert cancelled.args["by"] == "local" and cancelled.args["code"] == 487
    _, leg2 = await pool.originate(busy.uri, worker_id=wid)
    rejected = await events.wait("leg_hungup", leg=leg2)
    assert rejected.args["by"] == "remote" and rejected.args["code"] == 486
    await eventually(lambda: pool.ledger.free(wid) == 4, what="slots back")

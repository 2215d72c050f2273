"""A real SIP peer for tests: a pjsua2 user agent in its own process.

Why a separate process: pjsua2 holds at most 4 calls per process, must own its thread,
and a peer in the test process would share fate (and the GIL) with the code under test.

The peer is driven by JSON lines on stdin and reports JSON lines on stdout::

    {"cmd": "call", "uri": "sip:100@127.0.0.1:5070", "headers": {"X-Foo": "1"}}
    {"cmd": "dtmf", "call": 0, "digits": "12#", "method": "rfc2833"|"info"}
    {"cmd": "hangup", "call": 0, "code": 603}
    {"cmd": "quit"}

    {"ev": "ready", "port": 40123}
    {"ev": "incoming", "call": 0, "from": "...", "to": "..."}
    {"ev": "state", "call": 0, "state": "CONFIRMED", "code": 200, "reason": "OK"}
    {"ev": "media", "call": 0}
    {"ev": "dtmf", "call": 0, "digit": "5"}
    {"ev": "disconnected", "call": 0, "code": 486, "reason": "Busy Here"}
    {"ev": "bye"}

Options: ``--tone HZ`` plays a steady tone into every call, ``--record-dir D`` records
each call's received audio to ``D/call-N.wav``, ``--auto-answer CODE`` answers (or
rejects) incoming calls after ``--answer-delay-ms``.

The test side uses :class:`SipPeer` (asyncio) to start the process, send commands and
wait for events. Run standalone: ``python -m tests.support.sip_peer --tone 440``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any, Self

# --------------------------------------------------------------------------- the peer process


def _peer_main(argv: list[str] | None = None) -> None:
    import pjsua2 as pj

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tone", type=float, default=0.0)
    ap.add_argument("--record-dir", default="")
    ap.add_argument("--auto-answer", type=int, default=0)
    ap.add_argument("--answer-delay-ms", type=int, default=0)
    ap.add_argument("--user", default="peer")
    opts = ap.parse_args(argv)

    def emit(**kw: Any) -> None:
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = 4
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = opts.port
    tcfg.boundAddress = "127.0.0.1"
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])

    calls: dict[int, Any] = {}
    recorders: dict[int, Any] = {}
    tones: dict[int, Any] = {}
    pending_answer: list[tuple[float, int]] = []
    counter = [0]

    class PeerCall(pj.Call):  # type: ignore[misc]
        def __init__(self, acc: Any, n: int, call_id: int = pj.PJSUA_INVALID_ID) -> None:
            super().__init__(acc, call_id)
            self.n = n

        def onCallState(self, prm: Any) -> None:
            ci = self.getInfo()
            emit(ev="state", call=self.n, state=ci.stateText, code=ci.lastStatusCode,
                 reason=ci.lastReason)
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                emit(ev="disconnected", call=self.n, code=ci.lastStatusCode,
                     reason=ci.lastReason)

        def onCallMediaState(self, prm: Any) -> None:
            ci = self.getInfo()
            # REMOTE_HOLD: the far end put us on hold; we still hear (music on hold).
            hearing = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
            for i, mi in enumerate(ci.media):
                if mi.type != pj.PJMEDIA_TYPE_AUDIO or mi.status not in hearing:
                    continue
                am = self.getAudioMedia(i)
                if opts.tone and self.n not in tones:
                    tg = pj.ToneGenerator()
                    tg.createToneGenerator(16000, 1)
                    td = pj.ToneDesc()
                    td.freq1 = int(opts.tone)
                    td.freq2 = 0
                    td.on_msec = 1000
                    td.off_msec = 0
                    tv = pj.ToneDescVector()
                    tv.append(td)
                    tg.play(tv, True)
                    tones[self.n] = tg
                if self.n in tones:
                    tones[self.n].startTransmit(am)
                if opts.record_dir and self.n not in recorders:
                    rec = pj.AudioMediaRecorder()
                    rec.createRecorder(os.path.join(opts.record_dir, f"call-{self.n}.wav"))
                    recorders[self.n] = rec
                if self.n in recorders:
                    am.startTransmit(recorders[self.n])
                emit(ev="media", call=self.n,
                     hold=mi.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)

        def onDtmfDigit(self, prm: Any) -> None:
            emit(ev="dtmf", call=self.n, digit=prm.digit)

    class PeerAccount(pj.Account):  # type: ignore[misc]
        def onIncomingCall(self, prm: Any) -> None:
            n = counter[0]
            counter[0] += 1
            call = PeerCall(self, n, prm.callId)
            calls[n] = call
            ci = call.getInfo()
            emit(ev="incoming", call=n, **{"from": ci.remoteUri, "to": ci.localUri})
            if opts.auto_answer:
                pending_answer.append((time.monotonic() + opts.answer_delay_ms / 1000, n))
            else:
                op = pj.CallOpParam()
                op.statusCode = 180
                call.answer(op)

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{opts.user}@127.0.0.1:{port}"
    acc = PeerAccount()
    acc.create(acfg)
    emit(ev="ready", port=port)

    def handle(cmd: dict[str, Any]) -> bool:
        kind = cmd.get("cmd")
        if kind == "call":
            n = counter[0]
            counter[0] += 1
            call = PeerCall(acc, n)
            calls[n] = call
            op = pj.CallOpParam(True)
            for name, value in (cmd.get("headers") or {}).items():
                h = pj.SipHeader()
                h.hName = name
                h.hValue = value
                op.txOption.headers.append(h)
            call.makeCall(cmd["uri"], op)
            emit(ev="calling", call=n, tag=cmd.get("tag"))
        elif kind == "dtmf":
            call = calls[cmd["call"]]
            if cmd.get("method") == "info":
                dp = pj.CallSendDtmfParam()
                dp.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                dp.digits = cmd["digits"]
                call.sendDtmf(dp)
            else:
                call.dialDtmf(cmd["digits"])
            emit(ev="dtmf_sent", call=cmd["call"])
        elif kind == "hangup":
            op = pj.CallOpParam()
            op.statusCode = int(cmd.get("code", 603))
            calls[cmd["call"]].hangup(op)
        elif kind == "quit":
            return False
        return True

    running = True
    buf = b""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(3))
    while running:
        ep.libHandleEvents(10)
        now = time.monotonic()
        for item in [p for p in pending_answer if p[0] <= now]:
            pending_answer.remove(item)
            op = pj.CallOpParam()
            op.statusCode = opts.auto_answer
            try:
                calls[item[1]].answer(op)
            except pj.Error as exc:
                emit(ev="error", msg=str(exc.info()))
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    try:
                        running = handle(json.loads(line)) and running
                    except Exception as exc:  # noqa: BLE001 - report it; tests read it
                        emit(ev="error", msg=repr(exc))
    # Orderly end: hang up, let BYEs go out, flush recorders (WAV sizes), then exit.
    ep.hangupAllCalls()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(c.isActive() for c in calls.values()):
        ep.libHandleEvents(20)
    ep.libHandleEvents(50)          # let the last BYE / 200 OK go out
    for tg in tones.values():
        tg.stop()
    recorders.clear()
    tones.clear()
    calls.clear()
    emit(ev="bye")
    ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
    os._exit(0)


# --------------------------------------------------------------------------- the test side


class PeerError(RuntimeError):
    pass


class SipPeer:
    """Asyncio handle on one peer process; use ``async with SipPeer(...) as peer``."""

    def __init__(self, *, tone: float = 0.0, record_dir: str | os.PathLike[str] = "",
                 auto_answer: int = 0, answer_delay_ms: int = 0, user: str = "peer") -> None:
        self.args = ["--tone", str(tone), "--auto-answer", str(auto_answer),
                     "--answer-delay-ms", str(answer_delay_ms), "--user", user]
        if record_dir:
            self.args += ["--record-dir", str(record_dir)]
        self.record_dir = Path(record_dir) if record_dir else None
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.user = user
        self.events: list[dict[str, Any]] = []
        self._cond = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._tags = 0

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.port}"

    def recording(self, call: int) -> Path:
        assert self.record_dir is not None
        return self.record_dir / f"call-{call}.wav"

    async def start(self, timeout: float = 10.0) -> SipPeer:
        root = Path(__file__).resolve().parents[2]
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.sip_peer", *self.args, cwd=str(root),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        self._reader = asyncio.create_task(self._read())
        ev = await self.wait_for("ready", timeout=timeout)
        self.port = int(ev["port"])
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            async with self._cond:
                self.events.append(ev)
                self._cond.notify_all()
        async with self._cond:
            self.events.append({"ev": "exited"})
            self._cond.notify_all()

    def send(self, cmd: str, **kw: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **kw}) + "\n").encode())

    async def wait_for(self, ev: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The first event named ``ev`` whose fields equal ``match`` (past or future)."""

        def find() -> dict[str, Any] | None:
            for item in self.events:
                if item.get("ev") == ev and all(item.get(k) == v for k, v in match.items()):
                    return item
            return None

        async def waiter() -> dict[str, Any]:
            async with self._cond:
                while True:
                    found = find()
                    if found is not None:
                        return found
                    if self.events and self.events[-1].get("ev") == "exited":
                        raise PeerError(f"peer exited while waiting for {ev} {match}")
                    await self._cond.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise PeerError(f"timed out waiting for {ev} {match}; saw {self.events}") from None

    async def call(self, uri: str, headers: dict[str, str] | None = None) -> int:
        self._tags += 1
        self.send("call", uri=uri, headers=headers or {}, tag=self._tags)
        ev = await self.wait_for("calling", timeout=5.0, tag=self._tags)
        return int(ev["call"])

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the peer to quit (flushes recordings); kill it by pid if it does not."""
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            self.send("quit")
            await self.proc.stdin.drain()  # type: ignore[union-attr]
            await asyncio.wait_for(self.proc.wait(), timeout)
        except (TimeoutError, ConnectionError, BrokenPipeError):
            self.kill()
            await self.proc.wait()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 2.0)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


if __name__ == "__main__":
    _peer_main()

"""Voice calls through ipcc under load: sipp callers -> SIP front -> workers -> sipp agents.

Why: the media plane is a pool of pjsua2 processes (4 legs each) behind a Python control
process; this measures how many bridged calls one machine carries, how fast calls are set
up, and what each call costs -- against sipp calling sipp directly (the baseline: the same
callers and the same scenario with no ipcc in between) in the same run.

Set-up: an in-process server (SQLite in a temporary directory, no bus) with one queue and
``--agents`` agents whose devices all point at one sipp UAS (``-sn uas -rtp_echo``: it
answers every call and echoes RTP). Callers are sipp UAC runs with a scenario of our own
(INVITE with a PCMA offer, ACK, the ``g711a.pcap`` RTP stream shipped with sipp, a hold,
BYE) sent to the SIP front for DNIS 2000. Workers are started before each step is
measured, so that start-up does not count as call set-up.

* concurrency steps (``--steps``): N calls placed at ``--rate`` calls/s and held until all
  N are up; a step passes when sipp reports no failed call *and* every call was bridged to
  an agent (the gateway's own count) and the peak of simultaneously bridged calls is N.
  ``max_concurrent_calls`` is the largest passing step whose RTP loss is also under 0.5 %
  (stepping stops at the first failure); ``max_concurrent_calls_any_loss`` ignores loss.
* rate steps (``--rates``): calls held 2 s at each rate for ``--rate-seconds``; the
  highest rate with no failure and every call bridged is ``calls_per_s``.
* INVITE->200 p99: sipp's response-time trace over the passing concurrency steps (the 200
  comes when a worker answers the caller, so it covers front + worker + control process).
* RTP loss: from the workers' RTP statistics of every leg (``rx_lost`` / expected) in the
  CDRs of the largest passing step.
* Workers: the pool is grown to ceil(N/2)+1 before each step (each worker polls pjsua2
  every ``worker_poll_ms``, 10 ms: an idle worker costs ~1.5 % of a core).
* RSS per call: (growth of the control process's RSS at the peak of the largest passing
  step + mean worker RSS x the ceil(N/2) workers N bridged calls need) / N -- what a call
  costs including its share of a worker; ``rss_growth_per_call_mb`` is only the growth
  over the idle, pre-started pool. CPU per call: CPU % (control process + all workers,
  idle ones included) from the first INVITE to the last BYE of that step / N.

Targets: >= 100 concurrent bridged calls with 0 failures and < 0.5 % RTP loss, >= 20
calls/s, INVITE->200 p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_CONCURRENT = 100
TARGET_LOSS_PCT = 0.5
TARGET_CPS = 20.0
TARGET_P99_MS = 100.0
PCAP = "/usr/share/sip-tester/g711a.pcap"

_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ipcc held call">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: bench <sip:bench@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:bench@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=bench 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: bench <sip:bench@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
[routes]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  __MEDIA__
  <pause milliseconds="__HOLD__"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: bench <sip:bench@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
[routes]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" crlf="true"/>
  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000"/>
</scenario>
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", default="10,25,50,75,100,125",
                        help="concurrent-call steps (comma separated)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="calls/s used to build up each concurrency step")
    parser.add_argument("--rates", default="10,20,30",
                        help="call-rate steps in calls/s (calls held 2 s)")
    parser.add_argument("--rate-seconds", type=float, default=5.0,
                        help="seconds of calls at each rate step")
    parser.add_argument("--hold", type=float, default=4.0,
                        help="seconds every call of a step stays up after the last one")
    parser.add_argument("--no-rtp", action="store_true", help="callers send no RTP")
    parser.add_argument("--quick", action="store_true",
                        help="small run: steps 10,20; rates 10,20 (a smoke test)")


# --------------------------------------------------------------------------- helpers


def _free_port() -> int:
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])     # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[k]


class _Sipp:
    """One sipp process (by pid), in its own working directory."""

    def __init__(self, workdir: Path, args: list[str]) -> None:
        self.workdir = workdir
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> _Sipp:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "stderr.txt", "wb") as err:   # the child keeps its copy
            self.proc = subprocess.Popen(["sipp", *self.args], cwd=self.workdir,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err)
        return self

    async def wait(self, timeout: float) -> int:
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.proc.poll() is None:
            if loop.time() > deadline:
                self.kill()
                return -1
            await asyncio.sleep(0.1)
        return int(self.proc.returncode)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def rtts_ms(self) -> list[float]:
        out: list[float] = []
        for path in self.workdir.glob("*_rtt.csv"):
            with open(path, newline="") as f:
                for row in csv.reader(f, delimiter=";"):
                    try:
                        out.append(float(row[1]))
                    except (IndexError, ValueError):
                        continue
        return out


def _scenario(workdir: Path, hold_ms: int, rtp: bool) -> Path:
    media = (f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>'
             if rtp and os.path.exists(PCAP) else "")
    path = workdir / f"uac-{hold_ms}-{int(rtp)}.xml"
    path.write_text(_SCENARIO.replace("__MEDIA__", media).replace("__HOLD__", str(hold_ms)))
    return path


async def _run_callers(workdir: Path, target: str, calls: int, rate: float, hold_s: float,
                       rtp: bool) -> tuple[int, list[float]]:
    """sipp UAC placing ``calls`` calls; returns (exit code, INVITE->200 ms)."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = _scenario(workdir, int(hold_s * 1000), rtp)
    budget = calls / rate + hold_s + 25
    sipp = _Sipp(workdir, ["-sf", str(scenario), target, "-s", "2000", "-i", "127.0.0.1",
                           "-p", str(_free_port()), "-mp", str(_free_port()),
                           "-r", f"{rate:g}", "-m", str(calls), "-l", str(calls),
                           "-trace_rtt", "-rtt_freq", "1", "-trace_err",
                           "-timeout", f"{int(budget)}s", "-timeout_error", "-nostdin",
                           "-recv_timeout", "20s"]).start()
    try:
        code = await sipp.wait(budget + 10)
    finally:
        sipp.kill()
    return code, sipp.rtts_ms()


# --------------------------------------------------------------------------- ipcc side


def _settings(front_port: int, uas_port: int, agents: int, workers: int,
              max_workers: int) -> Any:
    """One tenant, one queue, ``agents`` agents without wrap-up, DNIS 2000."""
    from config.schema import Settings

    tenant = {
        "id": "bench", "skills": [{"id": "s"}],
        "queues": [{"id": "q", "skills": {"s": 1}, "ring_timeout_s": 30,
                    "wrapup_s": {"voice": 0}}],
        "agents": [{"id": f"b{i}", "skills": {"s": 5}, "wrapup_s": {"voice": 0}}
                   for i in range(1, agents + 1)],
        "dnis": {"2000": {"queue": "q"}},
    }
    sip = {"host": "127.0.0.1", "port": front_port, "workers": workers,
           "max_workers": max_workers, "announce_every_s": 0, "stats_interval_s": 1.0}
    return Settings.model_validate({"server": {"sip": sip, "bus": {"url": "none"}},
                                    "tenants": [tenant]})


class _Monitor:
    """Samples bridged calls, RSS and CPU of the control process and its workers."""

    def __init__(self, gw: Any) -> None:
        self.gw = gw
        self.peak_bridged = 0
        self.peak_rss_kb = 0
        self.peak_control_kb = 0
        self.peak_worker_kb = 0.0
        self._task: asyncio.Task[None] | None = None

    def pids(self) -> list[int]:
        return [os.getpid(), *[w.pid for w in self.gw.pool.workers() if w.pid]]

    def rss_kb(self) -> int:
        return sum(_rss_kb(p) for p in self.pids())

    def cpu_ticks(self) -> int:
        return sum(_cpu_ticks(p) for p in self.pids())

    def bridged(self) -> int:
        return sum(1 for lv in self.gw.calls.values()
                   if lv.call.bridge and lv.call.phase.value == "connected")

    async def _loop(self) -> None:
        while True:
            n = self.bridged()
            if n >= self.peak_bridged:
                self.peak_bridged = n
                self.peak_rss_kb = max(self.peak_rss_kb, self.rss_kb())
                self.peak_control_kb = max(self.peak_control_kb, _rss_kb(os.getpid()))
                workers = [_rss_kb(p) for p in self.pids()[1:]]
                if workers:
                    self.peak_worker_kb = max(self.peak_worker_kb, sum(workers) / len(workers))
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self.peak_bridged = 0
        self.peak_rss_kb = 0
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _ipcc_run(args: argparse.Namespace, steps: list[int], rates: list[float],
                    workdir: Path) -> dict[str, Any]:
    from acd import events as ev
    from acd.server import Server
    from gateways.voice import VoiceGateway

    front_port, uas_port = _free_port(), _free_port()
    agents = max(steps + [int(r * 2 + 10) for r in rates]) + 10
    settings = _settings(front_port, uas_port, agents, 1,
                         math.ceil(max(max(steps), *[int(r * 3) for r in rates]) / 2) + 2)
    uas = _Sipp(workdir / "uas", ["-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port),
                                  "-mp", str(_free_port()), "-rtp_echo", "-nostdin"]).start()
    server = Server(settings, workdir / "data")
    gw = VoiceGateway(front=True)
    server.add_gateway(gw)
    result: dict[str, Any] = {"steps": [], "rate_steps": []}
    await server.start()
    try:
        for i in range(1, agents + 1):
            server.handle(ev.AgentLoggedIn(f"b{i}", f"sip:b{i}@127.0.0.1:{uas_port}"))
            server.handle(ev.AgentWentReady(f"b{i}"))
        mon = _Monitor(gw)
        target = f"127.0.0.1:{front_port}"
        rtts: list[float] = []
        for n in steps:
            await _grow(gw, math.ceil(n / 2) + 1)
            await asyncio.sleep(1.0)
            idle_rss = mon.rss_kb()
            idle_control = _rss_kb(os.getpid())
            result["workers"] = len(gw.pool.workers())
            result["idle_rss_mb"] = round(idle_rss / 1024, 1)
            hold = n / args.rate + args.hold
            before = gw.counters["bridged"]
            cdr_before = len(await server.store.list_cdrs("bench", limit=100_000))
            mon.start()
            t0, c0 = time.monotonic(), mon.cpu_ticks()
            code, step_rtts = await _run_callers(workdir / f"step-{n}", target, n, args.rate,
                                                 hold, not args.no_rtp)
            t1, c1 = time.monotonic(), mon.cpu_ticks()
            await mon.stop()
            await _settle(gw)
            bridged = gw.counters["bridged"] - before
            cdrs = [r["payload"] for r in
                    (await server.store.list_cdrs("bench", limit=100_000))[cdr_before:]]
            loss = _loss(cdrs)
            ok = code == 0 and bridged == n and mon.peak_bridged == n
            clean = ok and (loss is None or loss < TARGET_LOSS_PCT)
            step = {"calls": n, "sipp_exit": code, "bridged": bridged,
                    "peak_bridged": mon.peak_bridged, "ok": ok, "clean": clean,
                    "rtp_loss_pct": loss, "invite_p99_ms": _percentile(step_rtts, 99),
                    # the control process's growth + the worker share a call needs
                    # (a worker holds 2 bridged calls), per call
                    "rss_per_call_mb": round(((mon.peak_control_kb - idle_control)
                                              + mon.peak_worker_kb * math.ceil(n / 2))
                                             / 1024 / n, 2),
                    "rss_growth_per_call_mb": round((mon.peak_rss_kb - idle_rss) / 1024 / n,
                                                    2),
                    "cpu_pct_per_call": round(100.0 * (c1 - c0) / os.sysconf("SC_CLK_TCK")
                                              / max(t1 - t0, 1e-6) / n, 2),
                    "outcomes": _outcomes(cdrs)}
            result["steps"].append(step)
            if not ok:
                break
            rtts += step_rtts
        for rate in rates:
            await _grow(gw, math.ceil(rate * 3 / 2) + 1)
            before = gw.counters["bridged"]
            calls = max(1, int(rate * args.rate_seconds))
            code, _ = await _run_callers(workdir / f"rate-{rate:g}", target, calls, rate, 2.0,
                                         False)
            await _settle(gw)
            bridged = gw.counters["bridged"] - before
            ok = code == 0 and bridged == calls
            result["rate_steps"].append({"rate": rate, "calls": calls, "sipp_exit": code,
                                         "bridged": bridged, "ok": ok})
            if not ok:
                break
        result["invite_rtts"] = rtts
    finally:
        await server.stop()
        uas.kill()
    return result


async def _grow(gw: Any, workers: int) -> None:
    """Start workers (before measuring) until the pool has ``workers``: a step's calls
    need ceil(N/2) of them; idle extra ones would only burn CPU polling."""
    held = []
    try:
        while len(gw.pool.workers()) < workers:
            held.append(await gw.pool.reserve(4))     # a whole worker: forces a new one
    finally:
        for r in held:
            gw.pool.release(r)


async def _settle(gw: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while gw.calls and loop.time() < deadline:
        await asyncio.sleep(0.1)


def _loss(cdrs: list[dict[str, Any]]) -> float | None:
    rx = lost = 0
    for c in cdrs:
        media = c.get("media") or {}
        rx += int(media.get("rx_packets") or 0)
        lost += int(media.get("rx_lost") or 0)
    return round(100.0 * lost / (rx + lost), 3) if rx + lost else None


def _outcomes(cdrs: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cdrs:
        out[c.get("outcome", "?")] = out.get(c.get("outcome", "?"), 0) + 1
    return out


async def _baseline(args: argparse.Namespace, steps: list[int], workdir: Path
                    ) -> dict[str, Any]:
    """sipp UAC straight to a sipp UAS: what the callers and the loopback can do."""
    port = _free_port()
    uas = _Sipp(workdir / "base-uas", ["-sn", "uas", "-i", "127.0.0.1", "-p", str(port),
                                       "-mp", str(_free_port()), "-rtp_echo",
                                       "-nostdin"]).start()
    rtts: list[float] = []
    passed = 0
    try:
        await asyncio.sleep(0.5)
        for n in steps:
            code, step_rtts = await _run_callers(workdir / f"base-{n}", f"127.0.0.1:{port}", n,
                                                 args.rate, n / args.rate + args.hold,
                                                 not args.no_rtp)
            if code != 0:
                break
            passed = n
            rtts += step_rtts
    finally:
        uas.kill()
    return {"max_concurrent_calls": passed, "invite_p99_ms": _percentile(rtts, 99)}


# --------------------------------------------------------------------------- entry points


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("sipp") is None:
        raise SystemExit("ipcc bench sip needs sipp (Debian package sip-tester)")
    if args.quick:
        steps, rates = [10, 20], [10.0, 20.0]
    else:
        steps = [int(x) for x in str(args.steps).split(",") if x.strip()]
        rates = [float(x) for x in str(args.rates).split(",") if x.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="ipcc-bench-sip-"))
    try:
        base = asyncio.run(_baseline(args, steps, workdir))
        ipcc = asyncio.run(_ipcc_run(args, steps, rates, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # the target counts calls carried with 0 failures *and* RTP loss under 0.5 %
    passing = [s for s in ipcc["steps"] if s["clean"]]
    best = passing[-1] if passing else None
    no_fail = [s["calls"] for s in ipcc["steps"] if s["ok"]]
    rate_ok = [r["rate"] for r in ipcc["rate_steps"] if r["ok"]]
    p99 = _percentile(ipcc.pop("invite_rtts"), 99)
    return {
        "max_concurrent_calls": best["calls"] if best else 0,
        "calls_per_s": max(rate_ok) if rate_ok else 0.0,
        "invite_p99_ms": p99,
        "rtp_loss_pct": best["rtp_loss_pct"] if best else None,
        "rss_per_call_mb": best["rss_per_call_mb"] if best else None,
        "cpu_pct_per_call": best["cpu_pct_per_call"] if best else None,
        "max_concurrent_calls_any_loss": max(no_fail) if no_fail else 0,
        "baseline_max_concurrent_calls": base["max_concurrent_calls"],
        "baseline_invite_p99_ms": base["invite_p99_ms"],
        "workers": ipcc.get("workers"), "idle_rss_mb": ipcc.get("idle_rss_mb"),
        "steps": ipcc["steps"], "rate_steps": ipcc["rate_steps"], "cpus": os.cpu_count(),
        "rtp": not args.no_rtp,
    }


def render(result: dict[str, Any]) -> str:
    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} ms"

    loss = result["rtp_loss_pct"]
    p99, base_p99 = result["invite_p99_ms"], result["baseline_invite_p99_ms"]
    lines = [(f"ipcc bench sip: {result['workers']} media workers on {result['cpus']} CPUs, "
              f"callers {'with' if result['rtp'] else 'without'} RTP (g711a.pcap)")]
    for s in result["steps"]:
        lines.append(f"  {s['calls']:>4} calls: {'ok ' if s['ok'] else 'FAIL'} sipp exit "
                     f"{s['sipp_exit']}, bridged {s['bridged']}, peak {s['peak_bridged']}, "
                     f"loss {s['rtp_loss_pct']}%, p99 {ms(s['invite_p99_ms'])}, "
                     f"{s['rss_per_call_mb']} MB/call, {s['cpu_pct_per_call']}% CPU/call")
    for r in result["rate_steps"]:
        lines.append(f"  {r['rate']:>5g} calls/s: {'ok ' if r['ok'] else 'FAIL'} "
                     f"({r['calls']} calls, bridged {r['bridged']}, sipp exit {r['sipp_exit']})")
    # sipp measures in whole milliseconds: a loopback baseline is often "0 ms"
    ratio = (f"{p99 / base_p99:.1f}x" if base_p99 else f">= {p99:.0f}x (baseline < 1 ms)") \
        if p99 is not None and base_p99 is not None else "-"
    concurrent_ok = (result["max_concurrent_calls"] >= TARGET_CONCURRENT
                     and loss is not None and loss < TARGET_LOSS_PCT)
    lines += [
        (f"  max concurrent bridged calls, 0 failures, loss < {TARGET_LOSS_PCT}%: "
         f"{result['max_concurrent_calls']} (0 failures at any loss: "
         f"{result['max_concurrent_calls_any_loss']}; baseline sipp->sipp: "
         f"{result['baseline_max_concurrent_calls']})"),
        f"  sustained calls/s: {result['calls_per_s']:g}",
        f"  INVITE->200 p99: {ms(p99)} (baseline {ms(base_p99)}, ratio {ratio})",
        (f"  RTP loss: {loss if loss is not None else '-'}%   RSS per call: "
         f"{result['rss_per_call_mb']} MB   CPU per call: {result['cpu_pct_per_call']}%"),
        (f"  target >= {TARGET_CONCURRENT} concurrent with loss < {TARGET_LOSS_PCT}%: "
         f"{yes(concurrent_ok)}"),
        f"  target >= {TARGET_CPS:g} calls/s: {yes(result['calls_per_s'] >= TARGET_CPS)}",
        (f"  target INVITE->200 p99 < {TARGET_P99_MS:g} ms: "
         f"{yes(p99 is not None and p99 < TARGET_P99_MS)}"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    ap = argparse.ArgumentParser()
    add_arguments(ap)
    ap.add_argument("--json", action="store_true")
    ns = ap.parse_args(sys.argv[1:])
    res = run(ns)
    print(json.dumps(res) if ns.json else render(res))

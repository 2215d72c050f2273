"""Web chat: server memory per visitor connection and message round trips.

What is measured
----------------
The server runs in a child process: a control process (SQLite store in a temporary
directory, no bus) with the chat gateway on a free loopback port and a bench tenant. This
process is the client: it opens ``--connections`` visitor WebSockets (compression off),
each saying hello, so each holds a real waiting conversation - a stored conversation row
and a queued ACD contact - not just a socket.

* **kib_per_connection** = (server RSS with every visitor connected and idle - RSS before,
  after 20 warm-up visitors) / connections. RSS from ``/proc/<pid>/status`` after a GC.
* **rtt_p50_ms / rtt_p99_ms** (nearest rank): ``--active`` other visitors are connected to
  auto-reply agents (in the server process: they accept every offer and answer each
  visitor message through ``ChatGateway.post``, the call behind the agents' REST endpoint,
  so the answer is stored before it is sent). The client sends ``--rate`` messages/s in
  total, spread over the active visitors, for ``--seconds``; the round trip is from the
  visitor's send to the agent's answer arriving at the visitor: visitor -> server (store,
  ack) -> agent -> server (store) -> visitor. The idle visitors stay connected meanwhile.
* **messages_per_s** = answers received / seconds of the sending phase.

Baseline, same run, same client code: a bare ``websockets`` echo server in a child
process (what a connection costs with no chat at all, and an echo's round trip).
Ratios: kib_per_connection / baseline, rtt_p99 / baseline.

Targets: 5,000 visitors at <= 30 KiB each; p99 < 50 ms at 1,000 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_KIB = 30.0
TARGET_P99_MS = 50.0
WARMUP = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connections", type=int, default=5000, help="idle visitors")
    parser.add_argument("--active", type=int, default=50, help="visitors talking to agents")
    parser.add_argument("--rate", type=float, default=1000.0, help="visitor messages/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the RTT phase")
    parser.add_argument("--no-baseline", action="store_true", help="skip the echo baseline")


# ------------------------------------------------------------------ server side

def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _serve_chat(data_dir: str, agents: int) -> Any:
    from acd import events as ev
    from acd.server import Server
    from config.schema import (
        AgentDef,
        ChatSettings,
        QueueDef,
        ServerSettings,
        Settings,
        SkillDef,
        TenantDef,
    )
    from gateways.chat import ChatGateway

    bots = [AgentDef(id=f"bot{i}", skills={"talk": 5}, capacity={"chat": 100})
            for i in range(agents)]
    tenant = TenantDef(id="bench", skills=[SkillDef(id="talk"), SkillDef(id="wait")],
                       queues=[QueueDef(id="talk", skills={"talk": 1}),
                               QueueDef(id="wait", skills={"wait": 1})],
                       agents=bots + [AgentDef(id="parked", skills={"wait": 5})])
    chat = ChatSettings(port=0, allowed_origins={"*": ["*"]}, connection_burst=1_000_000,
                        connections_per_ip_per_min=1e9, messages_per_s=1e6,
                        message_burst=1_000_000)
    settings = Settings(server=ServerSettings(chat=chat).model_copy(
        update={"bus": ServerSettings().bus.model_copy(update={"url": "none"})}),
        tenants=[tenant])
    server = Server(settings, data_dir)
    gw = ChatGateway()
    server.add_gateway(gw)

    class AutoAnswer:
        """Accepts every offer made to a bot."""

        def on_decision(self, d: Any) -> None:
            if isinstance(d, ev.Offer) and d.agent_id.startswith("bot"):
                asyncio.get_running_loop().call_soon(
                    lambda: server.handle(ev.OfferAccepted(d.contact_id, d.agent_id)))

    server.add_gateway(AutoAnswer())
    await server.start()
    for b in bots:
        server.handle(ev.AgentLoggedIn(b.id, "webrtc"))
        server.handle(ev.AgentWentReady(b.id))
    server.handle(ev.AgentLoggedIn("parked", "webrtc"))  # logged in, not ready: visitors wait
    inbox = server.listen("bench", maxsize=1_000_000)

    async def answer() -> None:
        while True:
            msg = await inbox.get()
            d = msg["data"]
            if msg["event"] != "chat.message" or d.get("sender") != "visitor":
                continue
            conv = gw.find("bench", d["conversation"])
            if conv is not None and conv.agent_id:
                asyncio.ensure_future(gw.post(conv, "agent", "re:" + d["text"],
                                              agent_id=conv.agent_id))

    task = asyncio.create_task(answer())
    return server, gw, task


async def _server_main(mode: str, data_dir: str, agents: int) -> None:
    if mode == "chat":
        server, gw, task = await _serve_chat(data_dir, agents)
        port = gw.port
    else:
        from websockets.asyncio.server import serve

        async def echo(ws: Any) -> None:
            async for m in ws:
                await ws.send(m)

        ws_server = await serve(echo, "127.0.0.1", 0, compression=None)
        port = ws_server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "rss":
            gc.collect()
            print(f"RSS {_rss_kib()}", flush=True)
        elif line in ("quit", ""):
            break
    if mode == "chat":
        task.cancel()
        await server.stop()
    os._exit(0)


# ------------------------------------------------------------------ client side

class _Child:
    def __init__(self, mode: str, data_dir: str, agents: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "acd.bench.chat", "--role", "server", "--mode", mode,
             "--data-dir", data_dir, "--agents", str(agents)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=str(Path(__file__).resolve().parents[2]))
        line = self._line()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def rss(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("rss\n")
        self.proc.stdin.flush()
        return int(self._line().split()[1])

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


async def _open_many(url: str, n: int, hello: dict[str, Any] | None) -> list[Any]:
    from websockets.asyncio.client import connect

    conns: list[Any] = []
    sem = asyncio.Semaphore(100)

    async def one() -> None:
        async with sem:
            ws = await connect(url, compression=None, open_timeout=30, ping_interval=None,
                               max_queue=4)
            if hello is not None:
                await ws.send(json.dumps(hello))
                await ws.recv()  # the welcome
            conns.append(ws)

    await asyncio.gather(*(one() for _ in range(n)))
    return conns


async def _rtt(conns: list[Any], rate: float, seconds: float, chat: bool) -> dict[str, Any]:
    """Send ``rate`` messages/s round-robin over ``conns``; time each answer."""
    sent: dict[str, float] = {}
    rtts: list[float] = []
    done = asyncio.Event()

    async def reader(ws: Any) -> None:
        try:
            async for raw in ws:
                f = json.loads(raw)
                if chat:
                    if f.get("type") != "message" or f["message"]["sender"] != "agent":
                        continue
                    key = f["message"]["text"][3:]
                else:
                    key = f.get("client_id")
                t0 = sent.pop(key, None)
                if t0 is not None:
                    rtts.append((time.perf_counter() - t0) * 1000.0)
                    if done.is_set() and not sent:
                        return
        except Exception:  # noqa: BLE001 - connection closed at the end
            return

    readers = [asyncio.create_task(reader(ws)) for ws in conns]
    interval = 1.0 / rate
    start = time.perf_counter()
    i = 0
    while True:
        now = time.perf_counter()
        if now - start >= seconds:
            break
        due = int((now - start) / interval) + 1
        while i < due:
            key = f"k{i}"
            frame = {"type": "message", "client_id": key, "text": key}
            sent[key] = time.perf_counter()
            await conns[i % len(conns)].send(json.dumps(frame))
            i += 1
        await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
    elapsed = time.perf_counter() - start
    done.set()
    try:
        async with asyncio.timeout(10):
            while sent:
                await asyncio.sleep(0.05)
    except TimeoutError:
        pass
    for t in readers:
        t.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    rtts.sort()
    return {"sent": i, "answered": len(rtts), "seconds": elapsed,
            "rtt_p50_ms": _pct(rtts, 50), "rtt_p99_ms": _pct(rtts, 99),
            "messages_per_s": round(len(rtts) / elapsed, 1) if elapsed else 0.0}


def _pct(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return round(sorted_values[k], 3)


async def _measure(mode: str, args: argparse.Namespace, data_dir: str) -> dict[str, Any]:
    chat = mode == "chat"
    child = _Child(mode, data_dir, max(1, args.active // 50 + 1))
    url = f"ws://127.0.0.1:{child.port}/bench" if chat else f"ws://127.0.0.1:{child.port}/"
    idle_hello = {"type": "hello", "entry": "wait"} if chat else None
    conns: list[Any] = []
    try:
        conns += await _open_many(url, WARMUP, idle_hello)
        before = child.rss()
        conns += await _open_many(url, args.connections, idle_hello)
        await asyncio.sleep(1.0)
        after = child.rss()
        active = await _open_many(url, args.active,
                                  {"type": "hello", "entry": "talk"} if chat else None)
        conns += active
        if chat:  # every active visitor has an agent before the clock starts
            await asyncio.sleep(0.5)
        rtt = await _rtt(active, args.rate, args.seconds, chat)
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
        child.close()
    return {"connections": args.connections,
            "kib_per_connection": round((after - before) / max(1, args.connections), 2),
            **rtt}


def run(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + args.active + WARMUP + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    with tempfile.TemporaryDirectory(prefix="ipcc-bench-chat-") as tmp:
        chat = asyncio.run(_measure("chat", args, str(Path(tmp) / "chat")))
        base = None if args.no_baseline else asyncio.run(_measure("echo", args, tmp))
    out: dict[str, Any] = {
        "connections": chat["connections"], "kib_per_connection": chat["kib_per_connection"],
        "rtt_p50_ms": chat["rtt_p50_ms"], "rtt_p99_ms": chat["rtt_p99_ms"],
        "messages_per_s": chat["messages_per_s"], "rate_asked": args.rate,
        "sent": chat["sent"], "answered": chat["answered"], "active": args.active,
    }
    if base is not None:
        out["baseline"] = {k: base[k] for k in ("kib_per_connection", "rtt_p50_ms",
                                                 "rtt_p99_ms", "messages_per_s")}
        out["kib_ratio"] = (round(chat["kib_per_connection"] / base["kib_per_connection"], 2)
                            if base["kib_per_connection"] else None)
        out["rtt_p99_ratio"] = (round(chat["rtt_p99_ms"] / base["rtt_p99_ms"], 2)
                                if chat["rtt_p99_ms"] and base["rtt_p99_ms"] else None)
    out["target_met"] = bool(
        chat["kib_per_connection"] <= TARGET_KIB and chat["rtt_p99_ms"] is not None
        and chat["rtt_p99_ms"] < TARGET_P99_MS and chat["answered"] >= 0.99 * chat["sent"]
        and args.connections >= 5000 and args.rate >= 1000)
    return out


def render(r: dict[str, Any]) -> str:
    b = r.get("baseline") or {}
    lines = [
        (f"web chat: {r['connections']} idle visitors (each with a waiting conversation), "
         f"{r['active']} talking to auto-reply agents at {r['rate_asked']:.0f} msg/s"),
        (f"  memory per visitor:  {r['kib_per_connection']:.1f} KiB"
         f"   baseline (bare websockets echo): {b.get('kib_per_connection', '-')} KiB"
         f"   ratio {r.get('kib_ratio', '-')}"),
        (f"  round trip visitor->agent->visitor: p50 {r['rtt_p50_ms']} ms, "
         f"p99 {r['rtt_p99_ms']} ms   baseline echo p50 {b.get('rtt_p50_ms', '-')} ms, "
         f"p99 {b.get('rtt_p99_ms', '-')} ms   ratio p99 {r.get('rtt_p99_ratio', '-')}"),
        f"  answers: {r['answered']}/{r['sent']} ({r['messages_per_s']} msg/s)",
        (f"  target (5,000 visitors <= {TARGET_KIB:.0f} KiB each; p99 < {TARGET_P99_MS:.0f} ms "
         f"at 1,000 msg/s): {'met' if r['target_met'] else 'NOT met'}"),
    ]
    return "\n".join(lines)


def _main() -> None:
    p = argparse.ArgumentParser(prog="python -m acd.bench.chat")
    p.add_argument("--role", choices=["server", "client"], default="client")
    p.add_argument("--mode", choices=["chat", "echo"], default="chat")
    p.add_argument("--data-dir", default=".")
    p.add_argument("--agents", type=int, default=1)
    p.add_argument("--json", action="store_true")
    add_arguments(p)
    args = p.parse_args()
    if args.role == "server":
        asyncio.run(_server_main(args.mode, args.data_dir, args.agents))
        return
    result = run(args)
    print(json.dumps(result) if args.json else render(result))


if __name__ == "__main__":
    _main()

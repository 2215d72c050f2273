"""Helpers for the SIP front tests: message builders, choosers, sipp processes.

Everything that starts a process here stops it by pid; every port is a free one picked
by the kernel; every wait is bounded.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
from collections import Counter
from pathlib import Path

from gateways.sip.front.message import SipMessage, parse_message

FRONT = ("127.0.0.1", 5060)
CALLER = ("127.0.0.1", 5070)
W1 = ("127.0.0.1", 6001)
W2 = ("127.0.0.1", 6002)


def request(method: str = "INVITE", *, call_id: str = "call-1", cseq: int = 1,
            branch: str = "z9hG4bKcaller1", to_tag: str | None = None,
            via_host: str = "127.0.0.1", via_port: int = 5070, rport: bool = False,
            transport: str = "UDP", max_forwards: int | None = 70,
            uri: str = "sip:1000@127.0.0.1:5060", route: str | None = None,
            cseq_method: str | None = None, body: bytes = b"",
            extra: str = "") -> bytes:
    to = "<sip:1000@127.0.0.1:5060>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{transport} {via_host}:{via_port};branch={branch}"
        + (";rport" if rport else ""),
        "From: \"Caller\" <sip:caller@127.0.0.1:5070>;tag=from-1",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        "Contact: <sip:caller@127.0.0.1:5070>",
    ]
    if max_forwards is not None:
        lines.append(f"Max-Forwards: {max_forwards}")
    if route:
        lines.append(f"Route: {route}")
    if extra:
        lines.append(extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response_to(forwarded: bytes, status: int, reason: str = "OK",
                to_tag: str | None = "worker-tag") -> bytes:
    """What a UAS answers to a request it received: Vias, From, To(+tag), Call-ID, CSeq."""
    req = parse_message(forwarded)
    headers = [("Via", v) for v in req.values("via")]
    to = req.get("to") or ""
    if to_tag and req.tag("to") is None and status > 100:
        to += f";tag={to_tag}"
    headers += [("From", req.get("from") or ""), ("To", to), ("Call-ID", req.call_id),
                ("CSeq", req.get("cseq") or "")]
    for rr in req.get_all("record-route"):
        headers.append(("Record-Route", rr))
    return SipMessage(status=status, reason=reason, headers=headers).to_bytes()


class CountingChooser:
    """Round-robin over workers, each with ``capacity`` concurrent dialogs.

    ``choose`` returns None when every worker is full, like the pool's reserve();
    ``release`` gives the slot back (the front calls it when a dialog ends).
    """

    def __init__(self, workers: list[tuple[str, int]], capacity: int = 1000) -> None:
        self.workers = list(workers)
        self.capacity = capacity
        self.load: Counter[tuple[str, int]] = Counter()
        self.chosen: Counter[tuple[str, int]] = Counter()
        self.released: list[tuple[str, tuple[str, int]]] = []
        self._rr = itertools.cycle(range(len(self.workers)))

    def choose(self, call_id: str) -> tuple[str, int] | None:
        for _ in range(len(self.workers)):
            w = self.workers[next(self._rr)]
            if self.load[w] < self.capacity:
                self.load[w] += 1
                self.chosen[w] += 1
                return w
        return None

    def release(self, call_id: str, worker: tuple[str, int]) -> None:
        self.load[worker] -= 1
        self.released.append((call_id, worker))


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for UDP and TCP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError("no free port")


def sipp_binary() -> str | None:
    return shutil.which("sipp")


class Sipp:
    """One sipp process (foreground, no stdin), stopped by pid."""

    def __init__(self, args: list[str], workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self._out = open(self.log, "wb")  # noqa: SIM115 - the child writes it
        self.proc = subprocess.Popen(["sipp", *args, "-nostdin"], cwd=workdir,
                                     stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._out.close()

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:]


def uas(port: int, workdir: Path, name: str, timeout_s: int = 60) -> Sipp:
    """A sipp UAS 'media worker' answering every call on 127.0.0.1:port (-aa: OPTIONS)."""
    return Sipp(["-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-aa",
                 "-timeout", f"{timeout_s}s", "-trace_err",
                 "-error_file", str(workdir / f"{name}.err"),
                 "-trace_msg", "-message_file", str(workdir / f"{name}.msg")], workdir, name)


def received_requests(workdir: Path, name: str, method: str) -> set[str]:
    """Call-IDs of the ``method`` requests a sipp uas logged as received (-trace_msg)."""
    path = workdir / f"{name}.msg"
    if not path.exists():
        return set()
    call_ids: set[str] = set()
    for chunk in path.read_text(errors="replace").split("message received")[1:]:
        lines = [ln.strip() for ln in chunk.splitlines()[1:] if ln.strip()]
        if not lines or not lines[0].startswith(method + " "):
            continue
        for ln in lines:
            if ln.lower().startswith(("call-id:", "i:")):
                call_ids.add(ln.split(":", 1)[1].strip())
                break
    return call_ids


def uac(target: tuple[str, int], workdir: Path, name: str, *, calls: int, rate: int = 20,
        limit: int = 10, hold_ms: int = 100, timeout_s: int = 60, transport: str = "u1",
        stat_csv: bool = False) -> Sipp:
    """A sipp UAC placing ``calls`` calls to ``target``, exiting 0 only if all succeed."""
    args = ["-sn", "uac", f"{target[0]}:{target[1]}", "-i", "127.0.0.1",
            "-p", str(free_port()), "-m", str(calls), "-r", str(rate), "-l", str(limit),
            "-d", str(hold_ms), "-t", transport, "-timeout", f"{timeout_s}s",
            "-timeout_error", "-trace_err", "-error_file", str(workdir / f"{name}.err")]
    if stat_csv:
        args += ["-trace_stat", "-stf", str(workdir / f"{name}.csv")]
    return Sipp(args, workdir, name)

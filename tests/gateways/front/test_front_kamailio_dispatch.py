"""The shipped Kamailio config (config/kamailio/) in front of sipp uas "media workers".

Kamailio runs as a child process (-DD -E) on a free port with the config's defines
overridden on the command line and a generated worker list; it is stopped by pid.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateways.sip.front.kamailio import dispatcher_list, kamailio_binary, kamailio_command
from gateways.sip.front.message import parse_message
from tests.gateways.front.front_harness import (
    Sipp,
    free_port,
    received_requests,
    sipp_binary,
    uac,
    uas,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(kamailio_binary() is None,
                       reason="kamailio not installed (Debian kamailio; "
                              "scripts/install-test-deps.sh installs it)"),
    pytest.mark.skipif(sipp_binary() is None, reason="sipp not installed (sip-tester)"),
    pytest.mark.timeout(120),
]


class Kamailio:
    def __init__(self, workdir: Path, workers: list[tuple[str, int]], maxload: int,
                 **options: int) -> None:
        self.port = free_port()
        self.workdir = workdir
        (workdir / "run").mkdir(exist_ok=True)
        list_file = workdir / "dispatcher.list"
        list_file.write_text(dispatcher_list(workers, maxload=maxload))
        argv = kamailio_command(list_file, port=self.port, runtime_dir=workdir / "run",
                                log_level=2, **options)
        self.log = workdir / "kamailio.log"
        self._out = open(self.log, "wb")  # noqa: SIM115 - the child writes it
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def options_ping(self, timeout: float = 1.0) -> int | None:
        """Status of an OPTIONS to Kamailio itself (None: no answer)."""
        import socket
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(timeout)
            me = s.getsockname()[1]
            s.sendto((f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKping{time.time_ns()}\r\n"
                      "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n"
                      f"Call-ID: ping-{time.time_ns()}\r\nCSeq: 1 OPTIONS\r\n"
                      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), self.address)
            try:
                data, _ = s.recvfrom(65535)
            except OSError:
                return None
        return parse_message(data).status

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"kamailio exited: {self.output()}")
            if self.options_ping(0.3) == 200:
                return
        raise AssertionError(f"kamailio did not answer OPTIONS: {self.output()}")

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: children too
                self.proc.wait(5)
        self._out.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[tuple[str, int]]]:
    ports = [free_port(), free_port()]
    procs = [uas(p, tmp_path, f"uas{i}") for i, p in enumerate(ports)]
    try:
        yield [("127.0.0.1", p) for p in ports]
    finally:
        for p in procs:
            p.stop()


async def run_calls(target: tuple[str, int], workdir: Path, name: str,
                    **kw: int) -> tuple[int, Sipp]:
    caller = uac(target, workdir, name, **kw)
    try:
        rc = await asyncio.to_thread(caller.wait, 90)
    finally:
        caller.stop()
    return rc, caller


async def test_calls_through_kamailio_spread_with_affinity_and_probing(
        tmp_path: Path, workers: list[tuple[str, int]]) -> None:
    kam = Kamailio(tmp_path, workers, maxload=10, ping_interval=1)
    try:
        kam.wait_ready()
        rc, caller = await run_calls(kam.address, tmp_path, "uac", calls=20, rate=20,
                                     limit=8)
        err = tmp_path / "uac.err"
        assert rc == 0, (caller.output(), err.read_text() if err.exists() else "",
                         kam.output())
        invites = [received_requests(tmp_path, f"uas{i}", "INVITE") for i in (0, 1)]
        assert all(invites) and not invites[0] & invites[1]
        assert len(invites[0] | invites[1]) == 20
        for i in (0, 1):  # in-dialog requests reached the worker holding the call
            assert received_requests(tmp_path, f"uas{i}", "BYE") == invites[i]
            # and Kamailio probes every worker with OPTIONS
            assert received_requests(tmp_path, f"uas{i}", "OPTIONS")
    finally:
        kam.stop()


async def test_kamailio_answers_503_with_retry_after_when_workers_are_full(
        tmp_path: Path, workers: list[tuple[str, int]]) -> None:
    kam = Kamailio(tmp_path, workers, maxload=1, ping_interval=5)
    try:
        kam.wait_ready()
        # 4 simultaneous long calls, capacity 2: two of them must be turned away
        rc, _ = await run_calls(kam.address, tmp_path, "uac_full", calls=4, rate=50,
                                     limit=4, hold_ms=1500)
        assert rc != 0, "every call succeeded though the workers were full"
        errors = (tmp_path / "uac_full.err").read_text(errors="replace")
        assert "SIP/2.0 503" in errors and "Retry-After: 5" in errors
        answered = [received_requests(tmp_path, f"uas{i}", "INVITE") for i in (0, 1)]
        assert [len(a) for a in answered] == [1, 1]
    finally:
        kam.stop()


async def test_silent_worker_is_probed_and_calls_fail_over(tmp_path: Path) -> None:
    live_port = free_port()
    live = uas(live_port, tmp_path, "uas0")
    silent = SocketSink()
    try:
        kam = Kamailio(tmp_path, [silent.addr, ("127.0.0.1", live_port)], maxload=10,
                       ping_interval=1, fr_timer_ms=1500)
        try:
            kam.wait_ready()
            rc, caller = await run_calls(kam.address, tmp_path, "uac_fo", calls=6, rate=5,
                                         limit=1, hold_ms=100)
            assert rc == 0, (caller.output(), kam.output())
            seen = silent.drain()
            assert any(m.startswith(b"OPTIONS ") for m in seen)  # it is being probed
            invites = {parse_message(m).call_id for m in seen if m.startswith(b"INVITE ")}
            # at most the first call tried it before it was marked down; never again
            assert len(invites) <= 1
            assert len(received_requests(tmp_path, "uas0", "INVITE")) == 6
        finally:
            kam.stop()
    finally:
        live.stop()
        silent.close()


class SocketSink:
    """A UDP port that takes everything and answers nothing: a hung worker."""

    def __init__(self) -> None:
        import socket
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.addr = ("127.0.0.1", int(self.sock.getsockname()[1]))

    def drain(self) -> list[bytes]:
        out: list[bytes] = []
        while True:
            try:
                out.append(self.sock.recv(65535))
            except BlockingIOError:
                return out

    def close(self) -> None:
        self.sock.close()

"""A real mosquitto for tests: the machine's own if one answers, else a private process.

Why both: on a developer or CI machine of this project's kind a mosquitto already runs on
127.0.0.1:1883 (reusing it is free); on a bare machine ``make test`` installs the binary
and we start ``mosquitto -p FREEPORT`` ourselves (local-only mode: loopback, anonymous).
Tests that kill and restart the broker always get a private process - never the
system's.

Fixtures (import them into a conftest.py, or list this module in ``pytest_plugins``):

``mosquitto_url``      session-scoped ``mqtt://127.0.0.1:PORT`` of a running mosquitto.
``mosquitto_process``  function-scoped private :class:`MosquittoProcess`, started; the
                       test may ``kill()`` and ``start()`` it again on the same port.

Both skip the test, with the reason, when no mosquitto binary exists. Every process
started here is stopped by pid when its fixture ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Self

import pytest

SHARED_HOST = "127.0.0.1"
SHARED_PORT = 1883
START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(path, os.X_OK):
            return path
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _connect_packet(client_id: str) -> bytes:
    """An MQTT 3.1.1 CONNECT with a clean session and a 10 s keepalive."""
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02\x00\x0a"
    payload = len(cid).to_bytes(2, "big") + cid
    body = var + payload
    assert len(body) < 128  # one-byte remaining length is enough for a probe
    return bytes([0x10, len(body)]) + body


def mqtt_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if an MQTT 3.1.1 broker accepts a connection at host:port (CONNACK rc 0).

    A bare TCP connect is not enough: something else could hold the port.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(_connect_packet(f"ipcc-probe-{os.getpid()}-{time.monotonic_ns()}"))
            data = b""
            while len(data) < 4:
                chunk = s.recv(4 - len(data))
                if not chunk:
                    return False
                data += chunk
            ok = data[0] == 0x20 and data[1] == 0x02 and data[3] == 0x00
            if ok:
                s.sendall(b"\xe0\x00")  # DISCONNECT
            return ok
    except OSError:
        return False


class MosquittoProcess:
    """A private mosquitto: ``mosquitto -p PORT`` as a child process.

    ``start()`` waits until the broker answers a CONNECT; ``kill()`` sends SIGKILL (a
    crash, nothing flushed); ``stop()`` asks politely first. The port stays the same
    across restarts so clients can reconnect to the same URL.
    """

    def __init__(self, port: int | None = None, binary: str | None = None,
                 host: str = "127.0.0.1") -> None:
        self.binary = binary or mosquitto_binary()
        if self.binary is None:
            raise FileNotFoundError("mosquitto binary not found")
        self.host = host
        self.port = port or free_port(host)
        self._fixed_port = port is not None
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start the process and wait (bounded) until it accepts MQTT connections."""
        if self.running():
            return
        for _attempt in range(3):
            self.proc = subprocess.Popen([self.binary, "-p", str(self.port)],  # type: ignore[list-item]
                                         stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # exited: most likely the port was taken meanwhile
                if mqtt_ping(self.host, self.port, timeout=0.5):
                    return
                time.sleep(0.02)
            self._reap()
            if self._fixed_port:
                break
            self.port = free_port(self.host)
        raise RuntimeError(f"mosquitto did not start on port {self.port}:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL the process (a crash) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; always reaps."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not yet delivered
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            self.proc = None

    def log_text(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.fixture(scope="session")
def mosquitto_url() -> Iterator[str]:
    """URL of a running mosquitto: the shared one on 1883 if it answers, else our own."""
    if mqtt_ping(SHARED_HOST, SHARED_PORT):
        yield f"mqtt://{SHARED_HOST}:{SHARED_PORT}"
        return
    if mosquitto_binary() is None:
        pytest.skip("no mosquitto on 127.0.0.1:1883 and no mosquitto binary "
                    "(run scripts/install-test-deps.sh)")
    proc = MosquittoProcess()
    try:
        proc.start()
        yield proc.url
    finally:
        proc.close()


@pytest.fixture
def mosquitto_process() -> Iterator[MosquittoProcess]:
    """A private mosquitto on a free port, started; stopped by pid afterwards."""
    if mosquitto_binary() is None:
        pytest.skip("no mosquitto binary (run scripts/install-test-deps.sh)")
    proc = MosquittoProcess()
    try:
        proc.start()
        yield proc
    finally:
        proc.close()

"""Starting `ipcc serve` as a real process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class IpccProcess:
    """`python -m acd.cli serve ...` in a subprocess; stopped (by its pid) on exit."""

    def __init__(self, data_dir: Path, *extra: str, config: str = "config/demo.yaml") -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.args = [sys.executable, "-m", "acd.cli", "serve", "--config", config,
                     "--data-dir", str(data_dir), "--http-port", str(self.port), *extra]
        self.proc: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / f"ipcc-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "IpccProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "a")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ipcc exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"ipcc did not become healthy: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def client(self, username: str, password: str, tenant: str | None = None) -> httpx.Client:
        body: dict[str, Any] = {"username": username, "password": password}
        if tenant:
            body["tenant"] = tenant
        r = httpx.post(self.url + "/api/v1/auth/token", json=body, timeout=10)
        r.raise_for_status()
        return httpx.Client(base_url=self.url + "/api/v1", timeout=10,
                            headers={"Authorization": f"Bearer {r.json()['access_token']}"})

"""A contact reported saved survives the process being killed (SIGKILL) right after."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from acd.store import Store

ROOT = Path(__file__).resolve().parents[3]

WRITER = r"""
import asyncio, sys
from acd.store import Store

async def main(url: str) -> None:
    store = await Store.open(url)
    print("ready", flush=True)
    i = 0
    while True:  # until killed
        seq = await store.save_contact({
            "id": f"d{i}", "tenant": "t1", "channel": "sms", "queue": "q",
            "priority": i % 7, "arrival": 1000.0 + i * 0.5, "data": {"i": i}})
        store.append(float(i), "t1", "contact.accepted", f"d{i}", {"seq": seq})
        print(f"saved {i} {seq}", flush=True)
        i += 1

asyncio.run(main(sys.argv[1]))
"""

KILL_AFTER = 40
TIMEOUT_S = 60.0


def _run_and_kill(url: str, script: Path) -> list[tuple[int, int]]:
    """Start the writer, SIGKILL it after KILL_AFTER acknowledgements, return (i, seq)s."""
    proc = subprocess.Popen([sys.executable, str(script), url], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    saved: list[tuple[int, int]] = []
    buf = b""
    try:
        deadline = time.monotonic() + TIMEOUT_S
        assert proc.stdout is not None
        while len(saved) < KILL_AFTER and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line.startswith(b"saved "):
                    _, i, seq = line.split()
                    saved.append((int(i), int(seq)))
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")[-2000:]
    for line in (buf + rest).split(b"\n"):  # acknowledged before the kill landed
        if line.startswith(b"saved "):
            _, i, seq = line.split()
            saved.append((int(i), int(seq)))
    return saved


async def test_saved_contacts_survive_sigkill(store_url: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    saved = _run_and_kill(store_url, script)
    assert len(saved) >= KILL_AFTER
    assert [i for i, _ in saved] == list(range(len(saved)))
    assert [s for _, s in saved] == sorted(s for _, s in saved)

    store = await Store.open(store_url)
    try:
        opened = await store.open_contacts("t1")
        ids = [c["id"] for c in opened]
        # every acknowledged contact is there, in acceptance order; at most the one being
        # saved when the kill landed was committed without being acknowledged
        assert ids[: len(saved)] == [f"d{i}" for i, _ in saved]
        assert len(ids) <= len(saved) + 1
        assert [c["seq"] for c in opened] == sorted(c["seq"] for c in opened)
        for contact, (i, seq) in zip(opened, saved):
            assert contact["seq"] == seq
            assert contact["priority"] == i % 7
            assert contact["arrival"] == 1000.0 + i * 0.5
            assert contact["data"] == {"i": i}
        # acceptance continues after the crash with a higher seq
        new_seq = await store.save_contact({"id": "after", "tenant": "t1", "channel": "sms",
                                            "queue": "q", "arrival": 5000.0})
        assert new_seq > opened[-1]["seq"]
    finally:
        await store.close()

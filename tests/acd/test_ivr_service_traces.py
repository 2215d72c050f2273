"""IvrService: reload (request and poll), refused edits, traces stored, published,
counted and replayed after a restart."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acd.ivr_service import IvrService
from acd.store import Store
from ivr.loader import DEFAULT_DIR

FIXED_NOW = 1_764_000_000.0


class FakeBus:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def publish(self, topic: str, payload: dict[str, Any], qos: int = 1,
                retain: bool = False) -> None:
        self.sent.append((topic, payload))


def trace(tree: str = "demo-main", session: str = "s1", outcome: str = "self_served",
          last: str = "bill_menu", tenant: str = "demo") -> dict[str, Any]:
    return {"session": session, "tree": tree, "tenant": tenant, "ani": "+12125550101",
            "dnis": "1000", "language": "en", "started_at": FIXED_NOW - 60,
            "ended_at": FIXED_NOW, "outcome": outcome, "last_node": last,
            "nodes": [{"node": "choose_language", "at": FIXED_NOW - 60},
                      {"node": last, "at": FIXED_NOW - 5}],
            "inputs": [], "lookups": [], "menu_path": [], "warnings": []}


@pytest.fixture
def tree_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ivr"
    shutil.copytree(DEFAULT_DIR, d)
    return d


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}")
    try:
        yield s
    finally:
        await s.close()


async def started(tree_dir: Path, store: Store, bus: Any = None) -> tuple[IvrService, Any]:
    server = SimpleNamespace(settings=None, store=store, bus=bus)
    svc = IvrService(tree_dir, poll_interval=0, clock=lambda: FIXED_NOW)
    await svc.start(server)
    return svc, server


async def test_start_loads_trees_and_sets_server_attribute(tree_dir: Path, store: Store) -> None:
    svc, server = await started(tree_dir, store)
    assert server.ivr is svc
    assert [t["name"] for t in svc.trees("demo")] == ["demo-main"]
    assert [t["name"] for t in svc.trees("acme")] == ["acme-main"]
    assert svc.trees("nobody") == []
    assert svc.health()["ok"] and svc.health()["trees"] == ["acme-main", "demo-main"]
    assert svc.tree("acme", "demo-main") is None      # another tenant's tree
    await svc.stop()


async def test_poll_reloads_only_on_change_and_keeps_old_tree_on_bad_edit(
        tree_dir: Path, store: Store) -> None:
    svc, _ = await started(tree_dir, store)
    old = svc.tree("demo", "demo-main")
    assert await svc.poll_once() is None                      # nothing changed

    path = tree_dir / "demo-main.yaml"
    good = path.read_text()
    path.write_text(good.replace("entry: choose_language", "entry: no_such_node"))
    report = await svc.poll_once()
    assert report is not None and report["ok"] is False and report["trigger"] == "poll"
    assert "demo-main" in report["refused"] and report["refused"]["demo-main"]
    assert svc.tree("demo", "demo-main") is old               # still in force
    assert svc.health()["ok"] is False and "demo-main" in svc.health()["refused"]
    assert await svc.poll_once() is None                      # reported once, not per tick

    path.write_text(good.replace("label: Main menu\n", "label: Main menu (new)\n"))
    report = await svc.poll_once()
    assert report["ok"] and report["applied"] == ["demo-main"]
    assert svc.tree("demo", "demo-main") is not old
    assert svc.tree("demo", "demo-main").node("main_menu").label == "Main menu (new)"

    (tree_dir / "acme-main.yaml").unlink()
    report = await svc.poll_once()
    assert report["removed"] == ["acme-main"] and svc.trees("acme") == []


async def test_record_trace_stores_publishes_and_counts(tree_dir: Path, store: Store) -> None:
    bus = FakeBus()
    svc, _ = await started(tree_dir, store, bus)
    seq = await svc.record_trace("demo", "demo-main", trace(), contact_id="c-1")
    assert isinstance(seq, int)
    await svc.record_trace("demo", "demo-main", trace("demo-main", "s2", "abandoned",
                                                      "bill_account"), contact_id="c-2")
    await svc.record_trace("demo", "demo-main", trace("demo-main", "s3", "queued",
                                                      "billing_queue"), contact_id=None)
    assert [t for t, _ in bus.sent] == ["demo/ivr/demo-main/trace"] * 3
    first = bus.sent[0][1]
    assert first["event"] == "ivr.trace" and first["contact_id"] == "c-1"
    assert first["outcome"] == "self_served" and first["trace"]["session"] == "s1"

    stats = svc.stats("demo", "demo-main").to_dict()
    assert stats["sessions"] == 3
    assert stats["containment_rate"] == round(1 / 3, 4)
    assert stats["drop_offs"] == {"bill_account": 1}
    assert stats["visits"]["choose_language"] == 3
    assert svc.stats("acme", "demo-main").sessions == 0       # per tenant

    rows = await svc.traces_for_contact("demo", "c-2")
    assert [r["trace"]["session"] for r in rows] == ["s2"]
    assert await svc.traces_for_contact("acme", "c-2") == []

    with pytest.raises(ValueError):
        await svc.record_trace("demo", "demo-main", trace(outcome=None))   # unfinished
    with pytest.raises(ValueError):
        await svc.record_trace("demo", "acme-main", trace())               # wrong tree
    assert svc.traces_recorded == 3

    # A restart rebuilds the statistics from the stored traces.
    again, _ = await started(tree_dir, store)
    assert again.stats("demo", "demo-main").to_dict() == stats


async def test_trace_kept_in_stats_when_the_store_fails(tree_dir: Path, store: Store) -> None:
    svc, server = await started(tree_dir, store)
    await store.engine.dispose()

    class Broken:
        @property
        def engine(self) -> Any:
            raise RuntimeError("database gone")

    server.store = Broken()
    assert await svc.record_trace("demo", "demo-main", trace()) is None
    assert svc.trace_write_errors == 1 and svc.stats("demo", "demo-main").sessions == 1


class SteppedSleep:
    """Stands in for asyncio.sleep in the poll loop: each call waits for one step()."""

    def __init__(self) -> None:
        self.ticks: asyncio.Queue[None] = asyncio.Queue()
        self.waiting = asyncio.Event()
        self.intervals: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.intervals.append(seconds)
        self.waiting.set()
        await self.ticks.get()

    async def step(self) -> None:
        """Let the loop run one poll and come back to sleep."""
        self.waiting.clear()
        self.ticks.put_nowait(None)
        await asyncio.wait_for(self.waiting.wait(), 10)


async def test_poll_task_picks_up_an_edit(tree_dir: Path, store: Store) -> None:
    sleep = SteppedSleep()
    svc = IvrService(tree_dir, poll_interval=2.5, clock=lambda: FIXED_NOW, sleep=sleep)
    await svc.start(SimpleNamespace(settings=None, store=store, bus=None))
    try:
        await asyncio.wait_for(sleep.waiting.wait(), 10)
        generation = svc.registry.generation
        await sleep.step()
        assert svc.polls == 1 and svc.registry.generation == generation
        path = tree_dir / "acme-main.yaml"
        path.write_text(path.read_text() + "\n# a comment only: same tree\n")
        await sleep.step()
        assert svc.polls == 2 and svc.last_reload["unchanged"] == ["acme-main", "demo-main"]
        path.write_text(path.read_text().replace("a voice message after hours",
                                                 "a message after hours"))
        await sleep.step()
        assert svc.polls == 3 and svc.last_reload["trigger"] == "poll"
        assert svc.last_reload["applied"] == ["acme-main"]
        assert sleep.intervals[0] == 2.5
    finally:
        await svc.stop()

"""The journal: group commit, flush, no loss on close, retries after failures."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

import pytest

from acd.model import Presence
from acd.store import Store, StoreClosedError, StoreError
from acd.store.journal import JournalWriter, Row

# ------------------------------------------------------------- writer, no database


class FakeDB:
    """Commits batches into a list; fails the next ``fail`` commits."""

    def __init__(self, fail: int = 0) -> None:
        self.rows: list[Row] = []
        self.batches: list[int] = []
        self.fail = fail
        self.gate: asyncio.Event | None = None

    async def commit(self, batch: Sequence[Row]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        if self.fail:
            self.fail -= 1
            raise OSError("database is locked")
        self.rows.extend(batch)
        self.batches.append(len(batch))


async def test_rows_arriving_during_a_commit_form_the_next_batch() -> None:
    db = FakeDB()
    db.gate = asyncio.Event()
    w = JournalWriter(db.commit, max_batch=1000, retry_delays=(0.0,))
    w.start()
    w.append(1.0, "t", "k", "e0", {})
    await asyncio.sleep(0)  # the writer takes row 0 and blocks in commit
    for i in range(1, 251):
        w.append(1.0, "t", "k", f"e{i}", {"i": i})
    db.gate.set()
    await w.flush()
    assert db.batches == [1, 250]
    assert [r[3] for r in db.rows] == [f"e{i}" for i in range(251)]
    await w.close()


async def test_batches_are_capped() -> None:
    db = FakeDB()
    w = JournalWriter(db.commit, max_batch=100, retry_delays=(0.0,))
    for i in range(350):
        w.append(float(i), "t", "k", str(i), {})
    w.start()
    await w.flush()
    assert db.batches == [100, 100, 100, 50]
    await w.close()


async def test_failed_commits_are_retried_in_order_and_reported() -> None:
    db = FakeDB(fail=3)
    w = JournalWriter(db.commit, retry_delays=(0.0,))
    w.start()
    for i in range(10):
        w.append(float(i), "t", "k", str(i), {"i": i})
    await asyncio.sleep(0.01)
    await w.flush()
    assert [r[3] for r in db.rows] == [str(i) for i in range(10)]
    stats = w.stats()
    assert stats["committed"] == 10 and stats["pending"] == 0 and not stats["failing"]
    await w.close()


async def test_close_gives_up_on_a_dead_database_and_says_how_many_rows() -> None:
    db = FakeDB(fail=10**6)
    w = JournalWriter(db.commit, retry_delays=(0.0,), close_attempts=3)
    w.start()
    for i in range(7):
        w.append(float(i), "t", "k", str(i), {})
    waiter = asyncio.ensure_future(w.flush())
    await asyncio.sleep(0.01)
    assert w.stats()["failing"] and "locked" in w.stats()["last_error"]
    with pytest.raises(StoreError) as err:
        await w.close()
    assert err.value.error_id == "journal_unwritten" and err.value.details["pending"] == 7
    with pytest.raises(StoreError):
        await waiter


async def test_bad_rows_fail_at_append_not_in_the_writer() -> None:
    db = FakeDB()
    w = JournalWriter(db.commit)
    w.start()
    with pytest.raises(TypeError):
        w.append(1.0, "t", "k", "e", {"obj": object()})
    with pytest.raises(ValueError):
        w.append(1.0, "t", "k", "e", {"x": float("nan")})
    with pytest.raises(TypeError):
        w.append(1.0, None, "k", "e", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        w.append(float("inf"), "t", "k", "e", {})
    w.append(1.0, "t", "k", "ok", {"m": MappingProxyType({"a": (1, 2)}),
                                   "p": Presence.READY})
    await w.flush()
    assert [r[3] for r in db.rows] == ["ok"]
    assert db.rows[0][4] == '{"m":{"a":[1,2]},"p":"ready"}'
    await w.close()
    with pytest.raises(StoreClosedError):
        w.append(1.0, "t", "k", "late", {})


# ----------------------------------------------------------------- with the store


async def test_append_flush_and_cursor(store: Store) -> None:
    for i in range(30):
        store.append(1000.0 + i, "t1" if i % 3 else "t2", "contact.updated", f"c{i}",
                     {"i": i, "state": "queued"})
    await store.flush()
    rows = await store.journal()
    assert [r["payload"]["i"] for r in rows] == list(range(30))
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert rows[5]["at"] == 1005.0 and rows[5]["kind"] == "contact.updated"
    t2 = await store.journal(tenant="t2")
    assert [r["entity_id"] for r in t2] == [f"c{i}" for i in range(0, 30, 3)]
    page1 = await store.journal(limit=12)
    page2 = await store.journal(since_seq=page1[-1]["seq"], limit=100)
    assert [r["payload"]["i"] for r in page1 + page2] == list(range(30))


async def test_close_writes_every_appended_row(store_url: str) -> None:
    store = await Store.open(store_url, journal_batch=200)
    for i in range(3000):
        store.append(float(i), "t1", "k", f"e{i}", {"i": i})
    await store.close()  # no flush: close must drain
    with pytest.raises(StoreClosedError):
        store.append(0.0, "t1", "k", "late", {})
    reopened = await Store.open(store_url)
    try:
        rows = await reopened.journal(limit=5000)
        assert [r["payload"]["i"] for r in rows] == list(range(3000))
    finally:
        await reopened.close()


async def test_appends_while_flushing_are_not_lost(store: Store) -> None:
    async def producer(n: int, tag: str) -> None:
        for i in range(n):
            store.append(float(i), "t1", "k", f"{tag}{i}", {})
            if i % 25 == 0:
                await asyncio.sleep(0)

    flushes = []
    for _ in range(3):
        flushes.append(asyncio.ensure_future(store.flush()))
        await producer(200, "x")
    await asyncio.gather(producer(300, "y"), *flushes)
    await store.flush()
    assert len(await store.journal(limit=10_000)) == 900
    assert store.journal_stats()["pending"] == 0


async def test_sqlite_locked_by_another_process_delays_but_does_not_lose_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=20)
    try:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another writer holds the lock
        for i in range(50):
            store.append(float(i), "t1", "k", str(i), {})
        for _ in range(200):
            await asyncio.sleep(0.01)
            if store.journal_stats()["failing"]:
                break
        health = await store.health()
        assert store.journal_stats()["failing"] and health["ok"] is False
        other.execute("ROLLBACK")
        other.close()
        await asyncio.wait_for(store.flush(), 30)
        assert [r["entity_id"] for r in await store.journal()] == [str(i) for i in range(50)]
        assert (await store.health())["ok"] is True
    finally:
        await store.close()

"""Journal write throughput and event-loop lag, group commit vs. one commit per event.

What is measured
----------------
A SQLite store (WAL, ``synchronous=NORMAL``, the defaults of ``ipcc serve``) in a temporary
directory. A producer task on the event loop appends ``--rows`` journal rows (a payload
shaped like a ``contact.updated`` notice) as fast as it can, ``--chunk`` rows at a time,
yielding to the loop between chunks - the way the server's translate loop journals the
decisions of a burst of events. Meanwhile a ticker task asks to wake every ``--tick-ms``
and records how late it woke (actual - expected, from ``loop.time()``): the event-loop lag
the rest of the server (SIP dispatch, WebSocket pushes, timers) would see.

* **rows/s** = rows appended / seconds from the first append until ``flush()`` returned
  (every row committed).
* **loop lag p50/p99/max** = nearest-rank percentiles of the ticker's lateness, in ms.
  ``idle_lag_p99_ms`` is the same ticker with nothing else running (the floor: epoll
  timeouts have millisecond granularity).

Baseline, same run, fresh store with the same settings: the naive way - one INSERT + COMMIT
per event, each awaited before the next (``--baseline-rows`` rows, or fewer if
``--baseline-seconds`` runs out first; its rate is over the rows written).
**ratio** = rows/s / baseline rows/s.

Target: >= 5,000 rows/s committed with loop lag p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from acd.store import Store
from acd.store.tables import journal

TARGET_ROWS_PER_S = 5_000.0
TARGET_LAG_P99_MS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=50_000, help="journal rows to append")
    parser.add_argument("--chunk", type=int, default=50,
                        help="rows appended between two yields to the loop")
    parser.add_argument("--batch", type=int, default=1000, help="max rows per commit")
    parser.add_argument("--tick-ms", type=float, default=1.0, help="lag ticker period")
    parser.add_argument("--baseline-rows", type=int, default=3_000)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--dir", default=None, help="where to put the databases (temp dir)")


def _payload(i: int) -> dict[str, Any]:
    return {"contact_id": f"c{i}", "queue": "sales", "state": "queued", "agent_id": None,
            "outcome": None, "reason": None, "details": {"priority": i % 5, "channel": "chat"}}


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``, 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


async def _with_ticker(work: Callable[[], Awaitable[int]],
                       tick_s: float) -> tuple[int, float, list[float]]:
    """Run ``work`` while measuring loop lag; return (rows, seconds, lags in ms)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    lags: list[float] = []

    async def ticker() -> None:
        expected = loop.time() + tick_s
        while not stop.is_set():
            await asyncio.sleep(max(0.0, expected - loop.time()))
            now = loop.time()
            lags.append(max(0.0, now - expected) * 1000.0)
            expected = now + tick_s

    task = asyncio.create_task(ticker())
    await asyncio.sleep(tick_s * 2)  # let the ticker settle
    started = time.perf_counter()
    rows = await work()
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return rows, elapsed, lags


async def _idle(tick_s: float, seconds: float = 0.3) -> list[float]:
    async def nothing() -> int:
        await asyncio.sleep(seconds)
        return 0

    return (await _with_ticker(nothing, tick_s))[2]


async def _group_commit(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    store = await Store.open(f"sqlite+aiosqlite:///{path}", journal_batch=args.batch)
    try:
        async def work() -> int:
            for start in range(0, args.rows, args.chunk):
                now = time.time()
                for i in range(start, min(start + args.chunk, args.rows)):
                    store.append(now, "bench", "contact.updated", f"c{i}", _payload(i))
                await asyncio.sleep(0)
            await store.flush()
            return int(args.rows)

        rows, elapsed, lags = await _with_ticker(work, args.tick_ms / 1000.0)
        stats = store.journal_stats()
        stored = len(await store.journal(since_seq=rows - 1, limit=10))
        if stats["committed"] != rows or stored != 1:
            raise RuntimeError(f"journal lost rows: {stats}")
    finally:
        await store.close()
    return {"rows": rows, "seconds": elapsed, "lags": lags, "batches": stats["batches"]}


async def _naive(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    stmt = sa.insert(journal)
    try:
        async def work() -> int:
            deadline = time.perf_counter() + args.baseline_seconds
            done = 0
            for i in range(args.baseline_rows):
                async with store.engine.begin() as conn:  # one transaction per event
                    await conn.execute(stmt, {"at": time.time(), "tenant": "bench",
                                              "kind": "contact.updated", "entity_id": f"c{i}",
                                              "payload": _payload(i)})
                done += 1
                if time.perf_counter() > deadline:
                    break
            return done

        rows, elapsed, lags = await _with_ticker(work, args.tick_ms / 1000.0)
    finally:
        await store.close()
    return {"rows": rows, "seconds": elapsed, "lags": lags}


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="ipcc-bench-store-", dir=args.dir))
    try:
        idle = await _idle(args.tick_ms / 1000.0)
        fast = await _group_commit(tmp / "group.db", args)
        naive = await _naive(tmp / "naive.db", args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows_per_s = fast["rows"] / fast["seconds"]
    base_per_s = naive["rows"] / naive["seconds"]
    return {
        "rows_per_s": round(rows_per_s, 1),
        "loop_lag_p50_ms": round(_pct(fast["lags"], 50), 3),
        "loop_lag_p99_ms": round(_pct(fast["lags"], 99), 3),
        "loop_lag_max_ms": round(max(fast["lags"], default=0.0), 3),
        "baseline_rows_per_s": round(base_per_s, 1),
        "baseline_loop_lag_p50_ms": round(_pct(naive["lags"], 50), 3),
        "baseline_loop_lag_p99_ms": round(_pct(naive["lags"], 99), 3),
        "ratio": round(rows_per_s / base_per_s, 2) if base_per_s else None,
        "idle_lag_p99_ms": round(_pct(idle, 99), 3),
        "rows": fast["rows"],
        "batches": fast["batches"],
        "mean_batch": round(fast["rows"] / max(1, fast["batches"]), 1),
        "baseline_rows": naive["rows"],
        "chunk": args.chunk,
        "tick_ms": args.tick_ms,
        "backend": "sqlite (WAL, synchronous=NORMAL)",
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "target_loop_lag_p99_ms": TARGET_LAG_P99_MS,
        "target_met": rows_per_s >= TARGET_ROWS_PER_S
        and _pct(fast["lags"], 99) < TARGET_LAG_P99_MS,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(_run(args))


def render(result: dict[str, Any]) -> str:
    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    r = result
    lines = [
        (f"ipcc bench store: {r['rows']:,} journal rows into {r['backend']}, "
         f"appended {r['chunk']} per loop turn"),
        (f"  group commit : {r['rows_per_s']:>10,.0f} rows/s committed   loop lag p50 "
         f"{r['loop_lag_p50_ms']:.2f} ms, p99 {r['loop_lag_p99_ms']:.2f} ms, max "
         f"{r['loop_lag_max_ms']:.2f} ms   ({r['batches']:,} commits, "
         f"{r['mean_batch']:.0f} rows each)"),
        (f"  baseline     : {r['baseline_rows_per_s']:>10,.0f} rows/s committed   loop lag "
         f"p50 {r['baseline_loop_lag_p50_ms']:.2f} ms, p99 "
         f"{r['baseline_loop_lag_p99_ms']:.2f} ms   ({r['baseline_rows']:,} rows, "
         "one INSERT + COMMIT per event, awaited)"),
        f"  ratio        : {r['ratio']}x rows/s",
        (f"  idle loop lag p99 {r['idle_lag_p99_ms']:.2f} ms (ticker every "
         f"{r['tick_ms']} ms, nothing else running)"),
        (f"  target >= {TARGET_ROWS_PER_S:,.0f} rows/s: "
         f"{yes(r['rows_per_s'] >= TARGET_ROWS_PER_S)}"),
        (f"  target loop lag p99 < {TARGET_LAG_P99_MS:.0f} ms: "
         f"{yes(r['loop_lag_p99_ms'] < TARGET_LAG_P99_MS)}"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(_parser)
    _parser.add_argument("--json", action="store_true")
    _args = _parser.parse_args()
    _result = run(_args)
    print(json.dumps(_result) if _args.json else render(_result))

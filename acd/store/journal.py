"""Group-commit writer for the event journal.

The control loop journals every state change; awaiting one INSERT + COMMIT per event would
put a database round trip (and, with ``synchronous=FULL``, an fsync) on the hot path. So
:meth:`JournalWriter.append` only validates the row, serializes its payload and enqueues it;
one background task takes everything queued so far (up to ``max_batch`` rows) and commits
it in a single transaction. While that commit is in flight, new rows pile up and form the
next batch: the busier the loop, the bigger the batches, the cheaper each row.

Ordering and loss:

* Rows are committed in append order; a failed batch goes back to the head of the queue
  and is retried with backoff (a locked or briefly unreachable database must not drop
  events). The error is visible in :meth:`stats` meanwhile.
* :meth:`flush` waits until everything appended before the call is committed.
* :meth:`close` drains the queue before returning; only if the database keeps failing
  does it give up, raising with the number of rows it could not write.

Payloads are serialized to JSON text in :meth:`append`, on the caller's stack: a payload
that cannot be stored fails there, at the call that made it, instead of poisoning a batch
later; and the writer's per-row work on the event loop stays small.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .errors import StoreClosedError, StoreError
from .records import plain

log = logging.getLogger("ipcc.store.journal")

#: One queued journal row: (at, tenant, kind, entity_id, payload as JSON text).
Row = tuple[float, str, str, str, str]

CommitBatch = Callable[[Sequence[Row]], Awaitable[None]]


def _default(value: Any) -> Any:
    # Only reached for what json cannot encode itself (read-only mappings, dataclasses,
    # sets); plain dicts, lists and str enums take json's C fast path.
    return plain(value)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, default=_default, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


class JournalWriter:
    """Queues journal rows and commits them in batches from one background task.

    ``commit_batch`` inserts the given rows in one transaction and commits (or raises).
    Use from the event loop thread only.
    """

    def __init__(
        self,
        commit_batch: CommitBatch,
        *,
        max_batch: int = 1000,
        retry_delays: Sequence[float] = (0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
        close_attempts: int = 5,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._retry_delays = tuple(retry_delays) or (0.0,)
        self._close_attempts = close_attempts
        self._queue: list[Row] = []
        self._appended = 0
        self._committed = 0
        self._batches = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._closed = False
        self._failures = 0  # consecutive failed commits
        self._last_error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ producer side

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="ipcc-journal-writer"
            )

    def append(self, at: float, tenant: str, kind: str, entity_id: str, payload: Any) -> None:
        """Enqueue one row; never waits. Raises ``TypeError``/``ValueError`` on a bad row."""
        if self._closing:
            raise StoreClosedError()
        at = float(at)
        if not math.isfinite(at):
            raise ValueError(f"journal time must be finite, got {at!r}")
        for name, value in (("tenant", tenant), ("kind", kind), ("entity_id", entity_id)):
            if not isinstance(value, str):
                raise TypeError(f"journal {name} must be a str, got {type(value).__name__}")
        self._queue.append((at, tenant, kind, entity_id, _dumps(payload)))
        self._appended += 1
        self._wake.set()

    async def flush(self) -> None:
        """Return once every row appended before this call is committed."""
        target = self._appended
        if self._committed >= target:
            return
        if self._task is None or self._task.done():
            raise StoreError("journal_stopped", "the journal writer is not running",
                             pending=target - self._committed)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        await fut

    async def close(self) -> None:
        """Commit everything queued, then stop the writer task."""
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        try:
            if task is not None:
                await task
        finally:
            self._closed = True
            pending = self._appended - self._committed
            self._fail_waiters(pending)
        if pending:
            raise StoreError("journal_unwritten",
                             f"{pending} journal rows could not be written",
                             pending=pending, error=repr(self._last_error))

    def stats(self) -> dict[str, Any]:
        return {
            "appended": self._appended,
            "committed": self._committed,
            "pending": self._appended - self._committed,
            "batches": self._batches,
            "failing": self._failures > 0,
            "last_error": repr(self._last_error) if self._last_error else None,
            "running": self._task is not None and not self._task.done(),
        }

    # ------------------------------------------------------------------- writer task

    def _take_batch(self) -> list[Row]:
        if len(self._queue) <= self._max_batch:
            batch, self._queue = self._queue, []
        else:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        return batch

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take_batch()
            try:
                await self._commit_batch(batch)
            except asyncio.CancelledError:
                self._queue[0:0] = batch
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: keep the rows, back off, retry
                self._queue[0:0] = batch
                self._failures += 1
                self._last_error = exc
                log.warning("journal commit of %d rows failed (attempt %d): %r",
                            len(batch), self._failures, exc)
                if self._closing and self._failures >= self._close_attempts:
                    return
                delay = self._retry_delays[min(self._failures, len(self._retry_delays)) - 1]
                await asyncio.sleep(delay)
                continue
            if self._failures:
                log.info("journal commits recovered after %d failures", self._failures)
            self._failures = 0
            self._last_error = None
            self._committed += len(batch)
            self._batches += 1
            self._release_waiters()
            # Let producers run between two large batches instead of monopolizing the loop.
            await asyncio.sleep(0)

    def _release_waiters(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._committed:
            _, fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    def _fail_waiters(self, pending: int) -> None:
        self._release_waiters()
        while self._waiters:
            _, fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(StoreError(
                    "journal_unwritten", f"{pending} journal rows could not be written",
                    pending=pending))

"""The IVR's server side: trees in force, their reload, statistics and stored traces.

    server.add_gateway(IvrService())          # before server.start(); sets server.ivr
    server.ivr.registry.start_session(dnis, ani, now)
    await server.ivr.record_trace(tenant, tree, session.trace(), contact_id)

What it owns, and why here rather than in the voice gateway:

* **The registry** (:class:`ivr.registry.TreeRegistry` on ``settings.server.sip.ivr_dir``,
  default ``config/ivr``). Trees are configuration the REST API lists and reloads even
  when no voice gateway runs (a chat or a test drive of a tree needs them too).
* **Reload**, two ways: ``POST /api/v1/ivr/reload`` and a poll task that compares the
  tree files' ``(mtime, size)`` every ``poll_interval`` seconds. An edit that does not
  validate is refused by the registry: the tree loaded before stays in force, and the
  errors are kept in :attr:`last_reload` for ``/healthz`` and the API. A poll only
  reloads when the files changed, so a refused edit is reported once, not every tick.
* **Statistics** (:class:`ivr.stats.StatsBook` per tenant), fed by every finished
  session and rebuilt from the stored traces at start.
* **Traces**: each finished session's trace is stored (``ivr_traces``, see
  :mod:`acd.ivr_traces`) for ``GET /api/v1/contacts/{id}/ivr`` and published on the bus
  at ``{tenant}/ivr/{tree}/trace``.

Nothing here imports crm_bridge: lookups are the caller's business.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from ivr.events import Outcome
from ivr.loader import tree_files
from ivr.nodes import Tree
from ivr.registry import ReloadResult, TreeRegistry
from ivr.stats import StatsBook, TreeStats

from . import ivr_traces

log = logging.getLogger("ipcc.ivr")

DEFAULT_DIR = "config/ivr"
#: Most stored traces replayed into the statistics at start.
REPLAY_LIMIT = 100_000

Snapshot = dict[str, tuple[int, int]]


def snapshot(directory: Path) -> Snapshot:
    """``{file: (mtime_ns, size)}`` of the tree files: what a poll compares."""
    out: Snapshot = {}
    if not directory.is_dir():
        return out
    for path in tree_files(directory):
        try:
            st = path.stat()
        except OSError:  # deleted between listing and stat: the next poll sees it gone
            continue
        out[path.name] = (st.st_mtime_ns, st.st_size)
    return out


def resolve_dir(directory: str | Path) -> Path:
    """A relative directory that does not exist from the working directory is taken from
    the source tree (``config/ivr`` of a checkout run from elsewhere), as the UI does."""
    d = Path(directory)
    if not d.is_absolute() and not d.exists():
        candidate = Path(__file__).resolve().parents[1] / d
        if candidate.exists():
            return candidate
    return d


def reload_report(result: ReloadResult, registry: TreeRegistry, at: float,
                  trigger: str) -> dict[str, Any]:
    return {
        "ok": result.ok, "at": at, "trigger": trigger, "applied": list(result.applied),
        "unchanged": list(result.unchanged), "removed": list(result.removed),
        "refused": {name: list(errs) for name, errs in result.refused.items()},
        "generation": registry.generation, "trees": registry.names(),
    }


def tree_summary(tree: Tree) -> dict[str, Any]:
    return {"name": tree.name, "tenant": tree.tenant, "description": tree.description.strip(),
            "dnis": list(tree.dnis), "languages": list(tree.languages),
            "default_language": tree.default_language, "entry": tree.entry,
            "nodes": len(tree.nodes), "digest": tree.digest}


class IvrService:
    name = "ivr"

    def __init__(self, ivr_dir: str | Path | None = None, *, poll_interval: float = 3.0,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.ivr_dir = ivr_dir
        #: Seconds between file checks; 0 or less: no poll task (reload on request only).
        self.poll_interval = poll_interval
        self.clock = clock
        self._sleep = sleep             # injectable: tests step the poll loop by hand
        self.polls = 0
        self.registry: TreeRegistry | None = None
        self.server: Any = None
        self.last_reload: dict[str, Any] | None = None
        self.traces_recorded = 0
        self.trace_write_errors = 0
        self._stats: dict[str, StatsBook] = {}
        self._files: Snapshot = {}
        self._poller: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, server: Any) -> None:
        self.server = server
        directory = self.ivr_dir
        if directory is None:
            sip = getattr(getattr(server.settings, "server", None), "sip", None)
            directory = getattr(sip, "ivr_dir", None) or DEFAULT_DIR
        self.registry = TreeRegistry(resolve_dir(directory))
        report = await self.reload(trigger="start")
        if not report["ok"]:
            log.error("ivr: trees refused at start: %s", report["refused"])
        await self._replay_traces()
        server.ivr = self
        if self.poll_interval > 0:
            self._poller = asyncio.create_task(self._poll_loop(), name="ipcc-ivr-poll")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    def health(self) -> dict[str, Any]:
        reg = self.registry
        last = self.last_reload or {}
        return {"ok": reg is not None and bool(last.get("ok", False)),
                "dir": str(reg.directory) if reg else None,
                "trees": reg.names() if reg else [], "generation": reg.generation if reg else 0,
                "refused": last.get("refused", {}), "traces_recorded": self.traces_recorded,
                "trace_write_errors": self.trace_write_errors}

    # ------------------------------------------------------------------ reload

    def _registry(self) -> TreeRegistry:
        if self.registry is None:
            raise RuntimeError("IvrService is not started")
        return self.registry

    async def reload(self, trigger: str = "request") -> dict[str, Any]:
        """Re-read the tree directory now; return what was applied, unchanged, removed
        and refused (with errors). Refused trees keep their previous version in force."""
        reg = self._registry()
        async with self._reload_lock:
            files = snapshot(reg.directory)
            result = reg.reload()
            self._files = files
            report = reload_report(result, reg, self.clock(), trigger)
            self.last_reload = report
        if result.applied or result.removed:
            log.info("ivr: reload (%s) applied=%s removed=%s", trigger, list(result.applied),
                     list(result.removed))
        if result.refused:
            log.warning("ivr: reload (%s) refused %s", trigger, report["refused"])
        return report

    async def poll_once(self) -> dict[str, Any] | None:
        """Reload if the tree files changed since the last reload; the report, or None
        when nothing changed (what the poll task runs every ``poll_interval``)."""
        reg = self._registry()
        if snapshot(reg.directory) == self._files:
            return None
        return await self.reload(trigger="poll")

    async def _poll_loop(self) -> None:
        while True:
            await self._sleep(self.poll_interval)
            self.polls += 1
            try:
                await self.poll_once()
            except Exception:  # a bad file system moment must not end the poll
                log.exception("ivr: poll failed")

    # ------------------------------------------------------------------ queries

    def trees(self, tenant: str) -> list[dict[str, Any]]:
        reg = self._registry()
        return [tree_summary(t) for n, t in sorted(reg.trees.items()) if t.tenant == tenant]

    def tree(self, tenant: str, name: str) -> Tree | None:
        """The tree ``name`` if it is in force and belongs to ``tenant``."""
        t = self._registry().get(name)
        return t if t is not None and t.tenant == tenant else None

    def stats(self, tenant: str, tree: str) -> TreeStats:
        book = self._stats.get(tenant)
        return book.get(tree) if book is not None else TreeStats(tree)

    def stats_trees(self, tenant: str) -> list[str]:
        book = self._stats.get(tenant)
        return book.trees() if book is not None else []

    async def traces_for_contact(self, tenant: str, contact_id: str) -> list[dict[str, Any]]:
        return await ivr_traces.traces_for_contact(self.server.store.engine, tenant, contact_id)

    # ------------------------------------------------------------------ traces

    async def record_trace(self, tenant: str, tree: str, trace: Mapping[str, Any],
                           contact_id: str | None = None) -> int | None:
        """Account one finished IVR session (``IvrSession.trace()``): statistics, the
        ``ivr_traces`` table, and the bus. Returns the stored row's sequence number, or
        None when the store could not take it (logged and counted; statistics and the
        bus still get the trace: a live view must not depend on the database).

        Raises ``ValueError`` for a trace that is not a finished session of ``tree``
        (a wiring mistake, surfaced instead of skewing the figures)."""
        if trace.get("tree") != tree:
            raise ValueError(f"trace of tree {trace.get('tree')!r} recorded as {tree!r}")
        if trace.get("outcome") not in Outcome.ALL:
            raise ValueError(f"trace has no final outcome (got {trace.get('outcome')!r})")
        now = self.clock()
        self._stats.setdefault(tenant, StatsBook()).add(trace)
        self.traces_recorded += 1
        seq: int | None = None
        store = getattr(self.server, "store", None)
        if store is not None:
            try:
                seq = await ivr_traces.save_trace(store.engine, tenant=tenant, tree=tree,
                                                  trace=trace, contact_id=contact_id, at=now)
            except Exception:
                self.trace_write_errors += 1
                log.exception("ivr: trace of session %s not stored", trace.get("session"))
        bus = getattr(self.server, "bus", None)
        if bus is not None:
            bus.publish(f"{tenant}/ivr/{tree}/trace", {
                "event": "ivr.trace", "at": now, "tenant": tenant,
                "correlation_id": contact_id, "contact_id": contact_id, "tree": tree,
                "session": trace.get("session"), "outcome": trace.get("outcome"),
                "trace": dict(trace)})
        return seq

    async def _replay_traces(self) -> None:
        store = getattr(self.server, "store", None)
        if store is None:
            return
        rows = await ivr_traces.all_traces(store.engine, limit=REPLAY_LIMIT)
        for row in rows:
            try:
                self._stats.setdefault(row["tenant"], StatsBook()).add(row["trace"])
            except ValueError as exc:
                log.warning("ivr: stored trace %s skipped: %s", row["seq"], exc)

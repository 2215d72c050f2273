"""Finished IVR session traces: the ``ivr_traces`` table and its queries.

A trace is what :meth:`ivr.session.IvrSession.trace` returns when a call leaves the IVR
(nodes visited, inputs with collected values masked, lookups, outcome). It is kept
because two readers need it after the call: the agent or supervisor looking at one
contact ("what did this caller do in the IVR?", ``GET /api/v1/contacts/{id}/ivr``), and
the per-tree statistics, which are rebuilt from stored traces after a restart.

History, not configuration: no foreign key to tenants or contacts (as with CDRs), so a
trace is written even when the contact row is not there yet or any more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.store.tables import BigSerial, JSONDoc, metadata

ivr_traces = sa.Table(
    "ivr_traces",
    metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("tree", sa.String(128), nullable=False),
    sa.Column("session_id", sa.String(128), nullable=False),
    sa.Column("contact_id", sa.String(128), nullable=True),
    sa.Column("outcome", sa.String(20), nullable=True),
    sa.Column("started_at", sa.Double(), nullable=True),
    sa.Column("ended_at", sa.Double(), nullable=True),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("trace", JSONDoc, nullable=False),
    sa.Index(None, "tenant", "tree", "seq"),
    sa.Index(None, "contact_id"),
    sqlite_autoincrement=True,
)


async def save_trace(engine: AsyncEngine, *, tenant: str, tree: str, trace: Mapping[str, Any],
                     contact_id: str | None, at: float) -> int:
    """Insert one trace; return its sequence number (committed on return)."""
    values = {
        "tenant": tenant, "tree": tree, "session_id": str(trace.get("session") or ""),
        "contact_id": contact_id, "outcome": trace.get("outcome"),
        "started_at": trace.get("started_at"), "ended_at": trace.get("ended_at"),
        "at": at, "trace": dict(trace),
    }
    async with engine.begin() as conn:
        result = await conn.execute(sa.insert(ivr_traces).values(**values)
                                    .returning(ivr_traces.c.seq))
        return int(result.scalar_one())


def _row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"seq": r["seq"], "tenant": r["tenant"], "tree": r["tree"],
            "session_id": r["session_id"], "contact_id": r["contact_id"],
            "outcome": r["outcome"], "at": r["at"], "trace": r["trace"]}


async def traces_for_contact(engine: AsyncEngine, tenant: str,
                             contact_id: str) -> list[dict[str, Any]]:
    """Every IVR trace of one contact, oldest first (a transfer back into the IVR
    makes more than one)."""
    stmt = (sa.select(ivr_traces)
            .where(ivr_traces.c.contact_id == contact_id, ivr_traces.c.tenant == tenant)
            .order_by(ivr_traces.c.seq))
    async with engine.connect() as conn:
        return [_row(r) for r in (await conn.execute(stmt)).mappings()]


async def all_traces(engine: AsyncEngine, *, limit: int = 100_000,
                     since_at: float | None = None) -> list[dict[str, Any]]:
    """Stored traces in insertion order (at most ``limit``, the newest), to rebuild stats."""
    stmt = sa.select(ivr_traces).order_by(ivr_traces.c.seq.desc()).limit(limit)
    if since_at is not None:
        stmt = stmt.where(ivr_traces.c.at >= since_at)
    async with engine.connect() as conn:
        rows = [_row(r) for r in (await conn.execute(stmt)).mappings()]
    rows.reverse()
    return rows

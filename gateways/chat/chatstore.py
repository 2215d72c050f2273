"""Durable chat conversations, messages and attachments, with group commit.

Every message is written before it is acknowledged. To keep that cheap under load the
writer gathers whatever writes are waiting and commits them in one transaction, then
resolves each caller's future: one fsync serves many messages.

The tables live in the control process's database (SQLite or PostgreSQL, through the
store's engine) in their own ``MetaData``, created if missing when the gateway starts;
they reference no other table, so the core schema and its migrations stay untouched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from .conversation import Attachment, Conversation, Message

log = logging.getLogger("ipcc.chat.store")

metadata = sa.MetaData()
JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

conversations = sa.Table(
    "chat_conversations", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False, index=True),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("contact_id", sa.String(64), nullable=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("visitor", JSONDoc, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float, nullable=True),
)

messages = sa.Table(
    "chat_messages", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("conversation", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("sender", sa.String(16), nullable=False),
    sa.Column("client_id", sa.String(100), nullable=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("attachment", JSONDoc, nullable=True),
    sa.UniqueConstraint("conversation", "seq", name="uq_chat_messages_seq"),
)

attachments = sa.Table(
    "chat_attachments", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("conversation", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)


class ChatStore:
    """Writes through one group-commit task; reads straight from the engine."""

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None,
                 max_batch: int = 500) -> None:
        self.engine = engine
        self.lock = lock  # the store's SQLite write lock: one writer per process
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[None]]] = \
            asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.rows = 0

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all, checkfirst=True)
        self._task = asyncio.create_task(self._run(), name="ipcc-chat-writer")

    async def close(self) -> None:
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    # ----------------------------------------------------------------- writes

    def _submit(self, op: str, values: dict[str, Any]) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, values, fut))
        return fut

    def save_conversation(self, c: Conversation) -> asyncio.Future[None]:
        return self._submit("conv", {
            "id": c.id, "tenant": c.tenant, "queue": c.queue, "state": c.state,
            "contact_id": c.contact_id, "agent_id": c.agent_id, "visitor": dict(c.visitor),
            "created_at": c.created_at, "ended_at": c.ended_at})

    def save_message(self, tenant: str, m: Message,
                     data: bytes | None = None) -> asyncio.Future[None]:
        values: dict[str, Any] = {
            "id": m.id, "conversation": m.conversation, "tenant": tenant, "seq": m.seq,
            "sender": m.sender, "client_id": m.client_id, "agent_id": m.agent_id,
            "text": m.text, "at": m.at,
            "attachment": None if m.attachment is None else
            {"name": m.attachment.name, "mime": m.attachment.mime, "size": m.attachment.size}}
        if data is not None:
            values["_data"] = data
        return self._submit("msg", values)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as exc:  # every waiter learns its write failed
                log.exception("chat store commit of %d rows failed", len(batch))
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
            else:
                self.commits += 1
                self.rows += len(batch)
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[tuple[str, dict[str, Any], asyncio.Future[None]]]
                      ) -> None:
        if self.lock is not None:
            async with self.lock:
                await self._commit_tx(batch)
        else:
            await self._commit_tx(batch)

    async def _commit_tx(self, batch: list[tuple[str, dict[str, Any], asyncio.Future[None]]]
                         ) -> None:
        dialect = self.engine.dialect.name
        async with self.engine.begin() as conn:
            msgs: list[dict[str, Any]] = []
            files: list[dict[str, Any]] = []
            for op, values, _ in batch:
                if op == "conv":
                    await self._upsert_conv(conn, dialect, values)
                else:
                    row = {k: v for k, v in values.items() if k != "_data"}
                    msgs.append(row)
                    if "_data" in values:
                        files.append({"message_id": values["id"],
                                      "conversation": values["conversation"],
                                      "tenant": values["tenant"], "data": values["_data"]})
            if msgs:
                await conn.execute(messages.insert(), msgs)
            if files:
                await conn.execute(attachments.insert(), files)

    @staticmethod
    async def _upsert_conv(conn: Any, dialect: str, values: dict[str, Any]) -> None:
        ins: Any = (postgresql.insert if dialect == "postgresql"
                    else sqlite.insert)(conversations).values(**values)
        update = {k: ins.excluded[k] for k in values if k != "id"}
        await conn.execute(ins.on_conflict_do_update(index_elements=["id"], set_=update))

    # ------------------------------------------------------------------ reads

    async def load(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(conversations).where(
                conversations.c.id == conversation_id))).mappings().first()
            if row is None:
                return None
            rows = (await conn.execute(sa.select(messages).where(
                messages.c.conversation == conversation_id).order_by(messages.c.seq))
            ).mappings().all()
        c = Conversation(id=row["id"], tenant=row["tenant"], queue=row["queue"],
                         created_at=row["created_at"], visitor=dict(row["visitor"] or {}),
                         state=row["state"], contact_id=row["contact_id"],
                         agent_id=row["agent_id"], ended_at=row["ended_at"])
        for r in rows:
            att = r["attachment"]
            c.restore_message(Message(
                id=r["id"], conversation=r["conversation"], seq=r["seq"], sender=r["sender"],
                text=r["text"], at=r["at"], client_id=r["client_id"], agent_id=r["agent_id"],
                attachment=Attachment(att["name"], att["mime"], int(att["size"]))
                if att else None))
        return c

    async def attachment(self, message_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(attachments).where(
                attachments.c.message_id == message_id))).mappings().first()
        return dict(row) if row else None

    async def list_open(self, tenant: str | None = None) -> list[str]:
        stmt = sa.select(conversations.c.id).where(conversations.c.ended_at.is_(None))
        if tenant is not None:
            stmt = stmt.where(conversations.c.tenant == tenant)
        async with self.engine.connect() as conn:
            return [r[0] for r in (await conn.execute(stmt)).all()]

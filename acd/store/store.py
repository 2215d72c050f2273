"""The durable store: configuration, contacts, agent sessions, journal, CDRs.

One class, :class:`Store`, over SQLAlchemy's async engine: SQLite through aiosqlite by
default, PostgreSQL through asyncpg when the URL says so. ``Store.open`` creates or migrates
the schema (alembic, programmatically) before returning.

Durability contract
    Every ``save_*``/``upsert_*``/``update_*``/``delete_*`` call has committed when it
    returns, so the API may acknowledge a contact right after ``save_contact``. On SQLite
    with the default ``synchronous=NORMAL`` in WAL mode a commit survives the process being
    killed (it is in the WAL, which the OS holds); only an OS crash or power cut can lose
    the last commits. Open with ``sqlite_synchronous="FULL"`` to fsync every commit.
    The journal is the exception by design: :meth:`Store.append` returns at once and rows
    are group-committed in the background (see :mod:`acd.store.journal`); await
    :meth:`Store.flush` where it matters.

Concurrency
    Use a store from the event loop it was opened in. On SQLite, writes from this process
    are serialized by an ``asyncio.Lock`` (SQLite has one writer at a time anyway; queueing
    here is fair and avoids the busy handler's sleeps); readers never wait (WAL).
    ``sqlite+aiosqlite://`` (in memory) works for tests and backups, but it is one
    shared connection: reads may see another task's transaction in flight.

Users
    A username is unique within a tenant. :meth:`Store.find_user` takes a login name and
    returns every user it may designate: all users with exactly that username in any
    tenant, or, when there are none and the name has the form ``user@tenant``, that user
    of that tenant. The caller logs in the single match, or asks for the tenant when there
    are several.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import backup as _backup
from . import migrate
from .errors import NotFoundError, StoreClosedError, integrity_error
from .journal import JournalWriter, Row
from .records import contact_row, plain, row_contact
from .tables import (
    CONTACT_COLUMNS,
    ROLES,
    SESSION_FIELDS,
    agent_sessions,
    agents,
    cdrs,
    contacts,
    journal,
    queues,
    skills,
    tenants,
    users,
)

log = logging.getLogger("ipcc.store")

_SQLITE_SYNC = ("OFF", "NORMAL", "FULL", "EXTRA")
#: Fields update_contact() may not change: identity and acceptance order.
_FROZEN_CONTACT_FIELDS = frozenset({"id", "tenant", "seq", "extra"})


def normalize_url(url: str) -> URL:
    """Accept a bare file path, ``sqlite:///``, ``postgres://`` and the async URLs alike."""
    if "://" not in url:
        return URL.create("sqlite+aiosqlite", database=str(Path(url).expanduser()))
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _is_sqlite_file(url: URL) -> bool:
    db = url.database or ""
    return bool(db) and db != ":memory:" and not db.startswith("file::memory:") \
        and url.query.get("mode") != "memory"


class Store:
    """Async access to the database. Create with :meth:`open`, end with :meth:`close`."""

    def __init__(self, engine: AsyncEngine, url: URL, *, journal_batch: int) -> None:
        self._engine = engine
        self._url = url
        self.backend: str = engine.dialect.name  # "sqlite" | "postgresql"
        self._write_lock: asyncio.Lock | None = (
            asyncio.Lock() if self.backend == "sqlite" else None
        )
        self._insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        self._journal_insert = self._journal_statement()
        self._contact_seq = sa.Sequence("contacts_seq_seq")
        self._writer = JournalWriter(self._commit_journal, max_batch=journal_batch)
        self._revision: str | None = None
        self._closing = False
        self._closed = False

    @property
    def write_lock(self) -> asyncio.Lock | None:
        """SQLite allows one writer: modules writing their own tables through
        ``engine`` take this lock around their transactions (None on PostgreSQL)."""
        return self._write_lock

    # --------------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        journal_batch: int = 1000,
        sqlite_synchronous: str = "NORMAL",
        busy_timeout_ms: int = 10_000,
        echo: bool = False,
    ) -> Store:
        """Connect, create or migrate the schema to the newest revision, start the journal
        writer. ``url``: ``sqlite+aiosqlite:///path/ipcc.db``, a bare path, or
        ``postgresql+asyncpg://user@host/db``."""
        sync_mode = sqlite_synchronous.upper()
        if sync_mode not in _SQLITE_SYNC:
            raise ValueError(f"sqlite_synchronous must be one of {_SQLITE_SYNC}")
        parsed = normalize_url(url)
        backend = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if backend == "sqlite":
            if _is_sqlite_file(parsed):
                Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        elif backend == "postgresql":
            kwargs["pool_pre_ping"] = True  # survive a database restart between calls
        else:
            raise ValueError(f"unsupported database backend {backend!r}")
        engine = create_async_engine(parsed, **kwargs)
        if backend == "sqlite":
            _install_sqlite_pragmas(engine, sync_mode, busy_timeout_ms)
        store = cls(engine, parsed, journal_batch=journal_batch)
        try:
            store._revision = await migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        store._writer.start()
        log.info("store open: %s at revision %s", store.url, store._revision)
        return store

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        """Write out the journal queue, then release every connection. Idempotent."""
        if self._closing:
            return
        self._closing = True
        try:
            await self._writer.close()  # appends are refused from here on
        finally:
            self._closed = True
            await self._engine.dispose()
            log.info("store closed: %s", self.url)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def health(self) -> dict[str, Any]:
        """Round trip to the database plus the journal writer's state; never raises."""
        result: dict[str, Any] = {
            "ok": False, "backend": self.backend, "url": self.url,
            "revision": self._revision, "journal": self._writer.stats(),
        }
        if self._closed:
            result["error"] = "closed"
            return result
        started = time.perf_counter()
        try:
            async with self._engine.connect() as conn:
                await asyncio.wait_for(conn.execute(sa.text("SELECT 1")), 5.0)
        except Exception as exc:  # noqa: BLE001 - report, never raise: feeds /healthz
            result["error"] = repr(exc)
            return result
        result["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
        result["ok"] = not result["journal"]["failing"]
        if result["journal"]["failing"]:
            result["error"] = result["journal"]["last_error"]
        return result

    # ------------------------------------------------------------------ plumbing

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError()

    @contextlib.asynccontextmanager
    async def _write(self, internal: bool = False) -> AsyncIterator[AsyncConnection]:
        """One write transaction, committed on exit (serialized per process on SQLite).
        ``internal``: the journal writer, which still drains while the store closes."""
        if not internal:
            self._check_open()
        lock = self._write_lock
        if lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with lock, self._engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        self._check_open()
        async with self._engine.connect() as conn:
            yield conn

    # Public access for modules that keep their own tables on this database
    # (crm_bridge, campaigns): the same transaction and read helpers the store uses.
    def transaction(self) -> Any:
        """``async with store.transaction() as conn``: one write transaction."""
        return self._write()

    async def fetch_all(self, stmt: sa.Executable) -> list[dict[str, Any]]:
        return await self._rows(stmt)

    async def fetch_one(self, stmt: sa.Executable) -> dict[str, Any] | None:
        return await self._row(stmt)

    async def _rows(self, stmt: sa.Executable) -> list[dict[str, Any]]:
        async with self._read() as conn:
            result = await conn.execute(stmt)
            return [dict(r) for r in result.mappings()]

    async def _row(self, stmt: sa.Executable) -> dict[str, Any] | None:
        rows = await self._rows(stmt)
        return rows[0] if rows else None

    async def _upsert(self, table: sa.Table, values: Mapping[str, Any],
                      keys: Sequence[str], what: str) -> None:
        stmt = self._insert(table).values(**values)
        update = {k: stmt.excluded[k] for k in values if k not in keys}
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        try:
            async with self._write() as conn:
                await conn.execute(stmt)
        except IntegrityError as exc:
            raise integrity_error(exc, what, tuple(values[k] for k in keys)) from None

    async def _delete(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> bool:
        async with self._write() as conn:
            result = await conn.execute(sa.delete(table).where(*where))
            return bool(result.rowcount)

    # ------------------------------------------------------------------ tenants

    async def upsert_tenant(self, id: str, name: str = "",
                            settings: Mapping[str, Any] | None = None) -> None:
        await self._upsert(tenants, {"id": id, "name": name, "settings": plain(settings or {})},
                           ("id",), "tenant")

    async def list_tenants(self) -> list[dict[str, Any]]:
        return await self._rows(sa.select(tenants).order_by(tenants.c.id))

    async def get_tenant(self, id: str) -> dict[str, Any] | None:
        return await self._row(sa.select(tenants).where(tenants.c.id == id))

    async def delete_tenant(self, id: str) -> bool:
        """Delete the tenant and, by cascade, its skills, queues, agents, users and agent
        sessions. Its contacts, journal and CDRs are history and stay."""
        return await self._delete(tenants, tenants.c.id == id)

    # ------------------------------------------------------------------ skills

    async def upsert_skill(self, tenant: str, id: str, name: str = "") -> None:
        await self._upsert(skills, {"tenant": tenant, "id": id, "name": name},
                           ("tenant", "id"), "skill")

    async def list_skills(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows(
            sa.select(skills).where(skills.c.tenant == tenant).order_by(skills.c.id))

    async def delete_skill(self, tenant: str, id: str) -> bool:
        return await self._delete(skills, skills.c.tenant == tenant, skills.c.id == id)

    # ---------------------------------------------------------- queues and agents
    # Records are {"tenant", "id", "config"}; ``config`` is whatever JSON the caller
    # serialized (the lead stores acd.model.QueueConfig / AgentConfig as dicts).

    async def upsert_queue(self, tenant: str, id: str, config: Mapping[str, Any]) -> None:
        await self._upsert(queues, {"tenant": tenant, "id": id, "config": plain(config)},
                           ("tenant", "id"), "queue")

    async def list_queues(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows(
            sa.select(queues).where(queues.c.tenant == tenant).order_by(queues.c.id))

    async def get_queue(self, tenant: str, id: str) -> dict[str, Any] | None:
        return await self._row(
            sa.select(queues).where(queues.c.tenant == tenant, queues.c.id == id))

    async def delete_queue(self, tenant: str, id: str) -> bool:
        return await self._delete(queues, queues.c.tenant == tenant, queues.c.id == id)

    async def upsert_agent(self, tenant: str, id: str, config: Mapping[str, Any]) -> None:
        await self._upsert(agents, {"tenant": tenant, "id": id, "config": plain(config)},
                           ("tenant", "id"), "agent")

    async def list_agents(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows(
            sa.select(agents).where(agents.c.tenant == tenant).order_by(agents.c.id))

    async def get_agent(self, tenant: str, id: str) -> dict[str, Any] | None:
        return await self._row(
            sa.select(agents).where(agents.c.tenant == tenant, agents.c.id == id))

    async def delete_agent(self, tenant: str, id: str) -> bool:
        return await self._delete(agents, agents.c.tenant == tenant, agents.c.id == id)

    # ------------------------------------------------------------------ users

    async def upsert_user(self, tenant: str, username: str, password_hash: str, role: str,
                          agent_id: str | None = None) -> None:
        role = plain(role)
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        await self._upsert(users, {"tenant": tenant, "username": username,
                                   "password_hash": password_hash, "role": role,
                                   "agent_id": agent_id}, ("tenant", "username"), "user")

    async def get_user(self, tenant: str, username: str) -> dict[str, Any] | None:
        return await self._row(
            sa.select(users).where(users.c.tenant == tenant, users.c.username == username))

    async def list_users(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows(
            sa.select(users).where(users.c.tenant == tenant).order_by(users.c.username))

    async def find_user(self, login: str) -> list[dict[str, Any]]:
        """Users a login name may designate (see the module docstring), by tenant."""
        found = await self._rows(
            sa.select(users).where(users.c.username == login).order_by(users.c.tenant))
        if not found and "@" in login:
            name, _, tenant = login.rpartition("@")
            user = await self.get_user(tenant, name) if name and tenant else None
            found = [user] if user else []
        return found

    async def delete_user(self, tenant: str, username: str) -> bool:
        return await self._delete(users, users.c.tenant == tenant, users.c.username == username)

    # ------------------------------------------------------------------ contacts

    async def save_contact(self, contact: Mapping[str, Any]) -> int:
        """Insert a new contact and commit; return its ``seq`` (acceptance order).

        ``contact`` is a record (see :mod:`acd.store.records`; build one from an engine
        ``Contact`` with ``records.contact_record``). Raises ``ConflictError`` if the id
        exists already.
        """
        row = contact_row(contact, now=time.time())
        if self.backend == "postgresql":
            stmt = (sa.insert(contacts)
                    .values(seq=self._contact_seq.next_value(), **row)
                    .returning(contacts.c.seq))
        else:
            # The new seq is computed inside the INSERT, which runs under SQLite's write
            # lock, so it is the next one even with other processes writing.
            cols = ["seq", *row]
            source = sa.select(
                sa.func.coalesce(sa.func.max(contacts.c.seq), 0) + 1,
                *(sa.literal(v, type_=contacts.c[k].type) for k, v in row.items()),
            )
            stmt = (sa.insert(contacts).from_select(cols, source)
                    .returning(contacts.c.seq))
        try:
            async with self._write() as conn:
                seq = (await conn.execute(stmt)).scalar_one()
        except IntegrityError as exc:
            raise integrity_error(exc, "contact", row["id"]) from None
        return int(seq)

    async def update_contact(self, contact_id: str, **fields: Any) -> None:
        """Change a contact's fields and commit. Column fields (``state``, ``outcome``,
        ``agent_id``, ``queue``, ``priority``, ``data``, ``explanation``, ``ended_at``...)
        are set; other keys are merged into the record's extra fields. Setting
        ``state="ended"`` without ``ended_at`` stamps the current time, which takes the
        contact out of :meth:`open_contacts`. Raises ``NotFoundError``."""
        frozen = _FROZEN_CONTACT_FIELDS.intersection(fields)
        if frozen:
            raise ValueError(f"contact fields {sorted(frozen)} cannot be updated")
        values = plain(fields)
        columns = {k: v for k, v in values.items() if k in CONTACT_COLUMNS}
        extra = {k: v for k, v in values.items() if k not in CONTACT_COLUMNS}
        if columns.get("state") == "ended" and columns.get("ended_at") is None:
            columns["ended_at"] = time.time()
        for key in ("customer", "data"):
            if key in columns and columns[key] is None:
                columns[key] = {}
        async with self._write() as conn:
            if extra:
                current = (await conn.execute(
                    sa.select(contacts.c.extra).where(contacts.c.id == contact_id)
                    .with_for_update())).scalar_one_or_none()
                if current is None:
                    raise NotFoundError("contact", contact_id)
                columns["extra"] = {**current, **extra}
            if not columns:
                return
            result = await conn.execute(
                sa.update(contacts).where(contacts.c.id == contact_id).values(**columns))
            if not result.rowcount:
                raise NotFoundError("contact", contact_id)

    async def get_contact(self, contact_id: str) -> dict[str, Any] | None:
        row = await self._row(sa.select(contacts).where(contacts.c.id == contact_id))
        return row_contact(row) if row is not None else None

    async def open_contacts(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Contacts not ended, oldest acceptance first: what to re-queue after a restart."""
        stmt = sa.select(contacts).where(contacts.c.ended_at.is_(None))
        if tenant is not None:
            stmt = stmt.where(contacts.c.tenant == tenant)
        return [row_contact(r) for r in await self._rows(stmt.order_by(contacts.c.seq))]

    async def list_contacts(self, tenant: str, *, since_seq: int = 0,
                            limit: int = 1000) -> list[dict[str, Any]]:
        """All of a tenant's contacts (open and ended) with ``seq > since_seq``, in order."""
        stmt = (sa.select(contacts)
                .where(contacts.c.tenant == tenant, contacts.c.seq > since_seq)
                .order_by(contacts.c.seq).limit(limit))
        return [row_contact(r) for r in await self._rows(stmt)]

    # ------------------------------------------------------------- agent sessions

    async def save_session(self, tenant: str, agent_id: str, **fields: Any) -> None:
        """Create or update an agent's session; only the given fields change on update.
        Fields: device, site, seat, presence, reason, since."""
        unknown = set(fields) - SESSION_FIELDS
        if unknown:
            raise ValueError(f"unknown session fields {sorted(unknown)}")
        values = {"tenant": tenant, "agent_id": agent_id, **plain(fields)}
        await self._upsert(agent_sessions, values, ("tenant", "agent_id"), "agent session")

    async def get_session(self, tenant: str, agent_id: str) -> dict[str, Any] | None:
        return await self._row(sa.select(agent_sessions).where(
            agent_sessions.c.tenant == tenant, agent_sessions.c.agent_id == agent_id))

    async def delete_session(self, tenant: str, agent_id: str) -> bool:
        return await self._delete(agent_sessions, agent_sessions.c.tenant == tenant,
                                  agent_sessions.c.agent_id == agent_id)

    async def list_sessions(self, tenant: str | None = None) -> list[dict[str, Any]]:
        stmt = sa.select(agent_sessions)
        if tenant is not None:
            stmt = stmt.where(agent_sessions.c.tenant == tenant)
        return await self._rows(stmt.order_by(agent_sessions.c.tenant,
                                              agent_sessions.c.agent_id))

    # ------------------------------------------------------------------ journal

    def append(self, at: float, tenant: str, kind: str, entity_id: str,
               payload: Mapping[str, Any]) -> None:
        """Queue a journal row; returns at once (group commit in the background)."""
        if self._closed:
            raise StoreClosedError()
        self._writer.append(at, tenant, kind, entity_id, payload)

    async def flush(self) -> None:
        """Wait until every journal row appended so far is committed."""
        await self._writer.flush()

    def journal_stats(self) -> dict[str, Any]:
        return self._writer.stats()

    async def journal(self, tenant: str | None = None, since_seq: int = 0,
                      limit: int = 1000) -> list[dict[str, Any]]:
        """Committed journal rows with ``seq > since_seq`` in seq order (a resumable cursor:
        pass the last seq seen)."""
        stmt = sa.select(journal).where(journal.c.seq > since_seq)
        if tenant is not None:
            stmt = stmt.where(journal.c.tenant == tenant)
        return await self._rows(stmt.order_by(journal.c.seq).limit(limit))

    def _journal_statement(self) -> tuple[str, tuple[int, ...]]:
        """The journal INSERT compiled once to the driver's SQL, and the order of its
        parameters within a queued row.

        Batches go through ``exec_driver_sql`` with plain tuples: SQLAlchemy's per-row
        parameter processing costs ~3 us a row on the event loop thread (a 1,000-row
        batch would stall the loop for ~3 ms), the driver path ~0.3 us. Payloads arrive
        as JSON text (serialized in append()) and are bound as text.
        """
        names = ("p_at", "p_tenant", "p_kind", "p_entity", "p_payload")
        payload: sa.ColumnElement[Any] = sa.bindparam("p_payload", type_=sa.Text())
        if self.backend == "postgresql":
            payload = sa.cast(payload, postgresql.JSONB())
        stmt = sa.insert(journal).values(
            at=sa.bindparam("p_at"), tenant=sa.bindparam("p_tenant"),
            kind=sa.bindparam("p_kind"), entity_id=sa.bindparam("p_entity"), payload=payload)
        compiled = stmt.compile(dialect=self._engine.dialect)
        order = compiled.positiontup
        if not order or sorted(order) != sorted(names):
            raise RuntimeError(f"unexpected journal INSERT parameters: {order}")
        return str(compiled), tuple(names.index(n) for n in order)

    async def _commit_journal(self, batch: Sequence[Row]) -> None:
        sql, order = self._journal_insert
        if order == (0, 1, 2, 3, 4):
            params: Sequence[tuple[Any, ...]] = batch
        else:  # pragma: no cover - both supported dialects keep column order
            params = [tuple(row[i] for i in order) for row in batch]
        async with self._write(internal=True) as conn:
            await conn.exec_driver_sql(sql, params)

    # ------------------------------------------------------------------ CDRs

    async def save_cdr(self, tenant: str, contact_id: str, payload: Mapping[str, Any], *,
                       at: float | None = None, id: str | None = None) -> str:
        """Store a call detail record and commit; return its id (generated if not given)."""
        cdr_id = id or uuid.uuid4().hex
        values = {"id": cdr_id, "tenant": tenant, "contact_id": contact_id,
                  "payload": plain(payload), "at": time.time() if at is None else float(at)}
        try:
            async with self._write() as conn:
                await conn.execute(sa.insert(cdrs).values(**values))
        except IntegrityError as exc:
            raise integrity_error(exc, "cdr", cdr_id) from None
        return cdr_id

    async def list_cdrs(self, tenant: str | None = None, *, contact_id: str | None = None,
                        limit: int = 1000) -> list[dict[str, Any]]:
        stmt = sa.select(cdrs)
        if tenant is not None:
            stmt = stmt.where(cdrs.c.tenant == tenant)
        if contact_id is not None:
            stmt = stmt.where(cdrs.c.contact_id == contact_id)
        return await self._rows(stmt.order_by(cdrs.c.at, cdrs.c.id).limit(limit))

    # ------------------------------------------------------------------ backup

    async def backup(self, dest_path: str, *, timeout_s: float | None = None) -> str:
        """Online backup to ``dest_path``; returns its absolute path. Journal rows appended
        before the call are flushed first, so the backup holds them.

        SQLite: a consistent single-file copy (open it as a store). PostgreSQL: a
        ``pg_dump`` custom-format archive (restore with ``pg_restore``)."""
        self._check_open()
        await self._writer.flush()
        if self.backend == "sqlite":
            return await asyncio.wait_for(_backup.backup_sqlite(self._engine, dest_path),
                                          timeout_s)
        return await _backup.backup_postgres(self._url, dest_path, timeout_s=timeout_s)


def _install_sqlite_pragmas(engine: AsyncEngine, synchronous: str, busy_timeout_ms: int) -> None:
    """Set the per-connection SQLite settings on every new pooled connection."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()


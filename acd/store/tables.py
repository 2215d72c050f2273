"""The relational schema of the durable store, as SQLAlchemy Core tables.

This module is what the queries in :mod:`acd.store.store` are written against. The DDL
that creates these tables lives in the alembic migrations
(``acd/store/migrations/versions``), which are frozen snapshots: a change here needs a new
migration, and ``tests/acd/store`` checks that the migrated database and this metadata
agree (alembic's ``compare_metadata``) on SQLite and PostgreSQL.

Conventions, and why:

* Times are ``DOUBLE`` seconds since the epoch (``at``, ``arrival``, ``created_at``...),
  the same floats the engine receives as ``now``; no time-zone conversions on the hot path.
* JSON columns are ``JSONB`` on PostgreSQL (queryable, compact) and JSON text on SQLite.
* Configuration tables reference ``tenants`` with ``ON DELETE CASCADE`` so deleting a tenant
  removes its configuration. History (contacts, journal, CDRs) has no foreign key: it is kept
  when configuration goes away, and the journal's group commit must never fail a whole
  batch on a missing parent row.
* Open contacts (``ended_at IS NULL``) have partial indexes in ``seq`` order, per tenant
  and overall, because the one query that must stay fast after a crash is "what is still
  queued, in acceptance order".
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: JSON document column type: JSONB on PostgreSQL, JSON text elsewhere.
JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: 64-bit surrogate key that autoincrements on both backends (SQLite only autoincrements
#: an ``INTEGER PRIMARY KEY`` column, which is 64-bit there anyway).
BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Roles a user may hold; enforced by a CHECK constraint.
ROLES = ("admin", "supervisor", "agent")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _tenant_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tenants.id", ondelete="CASCADE")


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("settings", JSONDoc, nullable=False),
)

skills = sa.Table(
    "skills",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
)

queues = sa.Table(
    "queues",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("config", JSONDoc, nullable=False),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("config", JSONDoc, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("username", sa.String(200), primary_key=True),
    sa.Column("password_hash", sa.String(500), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'supervisor', 'agent')", name="role"),
    # find_user() looks a login name up across tenants.
    sa.Index(None, "username"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    # Acceptance order: assigned by the store inside the INSERT, never reused.
    sa.Column("seq", sa.BigInteger(), nullable=False, unique=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("arrival", sa.Double(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("customer", JSONDoc, nullable=False),
    sa.Column("data", JSONDoc, nullable=False),
    # Contact fields the schema has no column for (skills, site, value tier...), so a
    # saved contact round-trips whole.
    sa.Column("extra", JSONDoc, nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("ended_at", sa.Double(), nullable=True),
    sa.Column("explanation", JSONDoc, nullable=True),
    sa.Index(
        "ix_contacts_open_tenant_seq",
        "tenant",
        "seq",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
    sa.Index(
        "ix_contacts_open_seq",
        "seq",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
)

agent_sessions = sa.Table(
    "agent_sessions",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("agent_id", sa.String(64), primary_key=True),
    sa.Column("device", sa.String(200), nullable=True),
    sa.Column("site", sa.String(64), nullable=True),
    sa.Column("seat", sa.String(64), nullable=True),
    sa.Column("presence", sa.String(20), nullable=False, server_default="logged_out"),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("since", sa.Double(), nullable=True),
)

journal = sa.Table(
    "journal",
    metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(128), nullable=False),
    sa.Column("payload", JSONDoc, nullable=False),
    sa.Index(None, "tenant", "seq"),
    # AUTOINCREMENT: a seq is never handed out twice, even after the newest rows are
    # pruned, so a reader's since_seq cursor stays valid.
    sqlite_autoincrement=True,
)

cdrs = sa.Table(
    "cdrs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("contact_id", sa.String(128), nullable=False),
    sa.Column("payload", JSONDoc, nullable=False),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Index(None, "tenant", "at"),
    sa.Index(None, "contact_id"),
)

#: Fixed column set of a contact row (anything else goes to ``extra``).
CONTACT_COLUMNS = frozenset(c.name for c in contacts.columns) - {"extra"}
#: Fields of an agent session the caller may set.
SESSION_FIELDS = frozenset(c.name for c in agent_sessions.columns) - {"tenant", "agent_id"}

# Tables owned by other packages share this metadata so the schema check sees one schema;
# importing them here registers them whoever imports the store first.
import acd.campaigns.tables as _campaign_tables  # noqa: F401  (migration 0003)
import acd.ivr_traces as _ivr_traces  # noqa: F401  (migration 0002)
import crm_bridge.tables as _crm_tables  # noqa: F401  (migration 0002)

"""Initial schema: configuration, contacts, agent sessions, journal, CDRs.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

A frozen snapshot: later schema changes go into new revisions, never into this file.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("ended_at IS NULL")
CONTACT_SEQ = "contacts_seq_seq"


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant"], ["tenants.id"], ondelete="CASCADE", name=f"fk_{table}_tenant_tenants"
    )


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("settings", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )
    op.create_table(
        "skills",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_skills"),
        _tenant_fk("skills"),
    )
    for table in ("queues", "agents"):
        op.create_table(
            table,
            sa.Column("tenant", sa.String(64), nullable=False),
            sa.Column("id", sa.String(64), nullable=False),
            sa.Column("config", JSONDoc, nullable=False),
            sa.PrimaryKeyConstraint("tenant", "id", name=f"pk_{table}"),
            _tenant_fk(table),
        )
    op.create_table(
        "users",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(500), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "username", name="pk_users"),
        sa.CheckConstraint("role IN ('admin', 'supervisor', 'agent')", name="ck_users_role"),
        _tenant_fk("users"),
    )
    op.create_index("ix_users_username", "users", ["username"])

    op.create_table(
        "contacts",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("arrival", sa.Double(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("customer", JSONDoc, nullable=False),
        sa.Column("data", JSONDoc, nullable=False),
        sa.Column("extra", JSONDoc, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("explanation", JSONDoc, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("seq", name="uq_contacts_seq"),
    )
    if op.get_context().dialect.name == "postgresql":
        # Acceptance order on PostgreSQL (SQLite computes MAX(seq)+1 under its write lock).
        op.execute(sa.schema.CreateSequence(sa.Sequence(CONTACT_SEQ)))
    op.create_index(
        "ix_contacts_open_tenant_seq", "contacts", ["tenant", "seq"],
        sqlite_where=OPEN, postgresql_where=OPEN,
    )
    op.create_index(
        "ix_contacts_open_seq", "contacts", ["seq"], sqlite_where=OPEN, postgresql_where=OPEN,
    )

    op.create_table(
        "agent_sessions",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("device", sa.String(200), nullable=True),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("seat", sa.String(64), nullable=True),
        sa.Column("presence", sa.String(20), nullable=False, server_default="logged_out"),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("since", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "agent_id", name="pk_agent_sessions"),
        _tenant_fk("agent_sessions"),
    )

    op.create_table(
        "journal",
        sa.Column("seq", BigSerial, nullable=False, autoincrement=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_journal"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_journal_tenant_seq", "journal", ["tenant", "seq"])

    op.create_table(
        "cdrs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cdrs"),
    )
    op.create_index("ix_cdrs_tenant_at", "cdrs", ["tenant", "at"])
    op.create_index("ix_cdrs_contact_id", "cdrs", ["contact_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_cdrs_contact_id", "cdrs"),
        ("ix_cdrs_tenant_at", "cdrs"),
        ("ix_journal_tenant_seq", "journal"),
        ("ix_contacts_open_seq", "contacts"),
        ("ix_contacts_open_tenant_seq", "contacts"),
        ("ix_users_username", "users"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "cdrs", "journal", "agent_sessions", "contacts", "users", "agents", "queues",
        "skills", "tenants",
    ):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence(CONTACT_SEQ)))

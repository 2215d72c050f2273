"""CRM and billing (customers, phones, accounts, invoices, payments) and IVR traces.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A frozen snapshot of crm_bridge/tables.py and acd/ivr_traces.py at the time of writing:
later changes go into new revisions, never into this file.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _parent_fk(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant", column], [f"{parent}.tenant", f"{parent}.id"], ondelete="CASCADE",
        name=f"fk_{table}_tenant_{parent}",
    )


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("segment", sa.String(32), nullable=False, server_default="consumer"),
        sa.Column("value_tier", sa.String(32), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("services", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_customers"),
        sa.ForeignKeyConstraint(["tenant"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_customers_tenant_tenants"),
    )
    op.create_table(
        "customer_phones",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(32), nullable=False, server_default="main"),
        sa.PrimaryKeyConstraint("tenant", "phone", name="pk_customer_phones"),
        _parent_fk("customer_phones", "customer_id", "customers"),
    )
    op.create_index("ix_customer_phones_tenant_customer_id", "customer_phones",
                    ["tenant", "customer_id"])

    op.create_table(
        "accounts",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("opened", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_accounts"),
        sa.UniqueConstraint("tenant", "number", name="uq_accounts_tenant_number"),
        _parent_fk("accounts", "customer_id", "customers"),
    )
    op.create_index("ix_accounts_tenant_customer_id", "accounts", ["tenant", "customer_id"])

    op.create_table(
        "invoices",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issued", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_invoices"),
        sa.CheckConstraint("status IN ('open', 'paid', 'overdue')", name="ck_invoices_status"),
        _parent_fk("invoices", "account_id", "accounts"),
    )
    op.create_index("ix_invoices_tenant_account_id", "invoices", ["tenant", "account_id"])

    op.create_table(
        "payments",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False, server_default="card"),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_payments"),
        _parent_fk("payments", "account_id", "accounts"),
    )
    op.create_index("ix_payments_tenant_account_id", "payments", ["tenant", "account_id"])

    op.create_table(
        "ivr_traces",
        sa.Column("seq", BigSerial, nullable=False, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("tree", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("started_at", sa.Double(), nullable=True),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("trace", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ivr_traces"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ivr_traces_tenant_tree_seq", "ivr_traces", ["tenant", "tree", "seq"])
    op.create_index("ix_ivr_traces_contact_id", "ivr_traces", ["contact_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_ivr_traces_contact_id", "ivr_traces"),
        ("ix_ivr_traces_tenant_tree_seq", "ivr_traces"),
        ("ix_payments_tenant_account_id", "payments"),
        ("ix_invoices_tenant_account_id", "invoices"),
        ("ix_accounts_tenant_customer_id", "accounts"),
        ("ix_customer_phones_tenant_customer_id", "customer_phones"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("ivr_traces", "payments", "invoices", "accounts", "customer_phones",
                  "customers"):
        op.drop_table(table)

"""Outbound campaigns: campaigns, leads, imports, do-not-call numbers, dial audit, results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

A frozen snapshot of acd/campaigns/tables.py at the time of writing: later changes go
into new revisions, never into this file.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _campaign_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant", "campaign_id"], ["campaigns.tenant", "campaigns.id"], ondelete="CASCADE",
        name=f"fk_{table}_tenant_campaigns")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("spec", JSONDoc, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("state_reason", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_campaigns"),
        sa.ForeignKeyConstraint(["tenant"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_campaigns_tenant_tenants"),
    )
    op.create_table(
        "campaign_leads",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("region", sa.String(8), nullable=False, server_default=""),
        sa.Column("segment", sa.String(100), nullable=False, server_default=""),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("not_before", sa.Double(), nullable=False, server_default="0"),
        sa.Column("last_abandoned_at", sa.Double(), nullable=True),
        sa.Column("last_contact_at", sa.Double(), nullable=True),
        sa.Column("last_outcome", sa.String(30), nullable=True),
        sa.Column("close_reason", sa.String(30), nullable=True),
        sa.Column("disposition", sa.String(64), nullable=True),
        sa.Column("import_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False, server_default="0"),
        sa.Column("line", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("data", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "campaign_id", "id", name="pk_campaign_leads"),
        _campaign_fk("campaign_leads"),
        sa.UniqueConstraint("tenant", "campaign_id", "phone",
                            name="uq_campaign_leads_tenant_campaign_id_phone"),
    )
    op.create_index("ix_campaign_leads_tenant_campaign_id_status", "campaign_leads",
                    ["tenant", "campaign_id", "status"])
    op.create_table(
        "campaign_imports",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False, server_default=""),
        sa.Column("report", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name="pk_campaign_imports"),
        _campaign_fk("campaign_imports"),
    )
    op.create_table(
        "dnc_numbers",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("added_at", sa.Double(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("tenant", "phone", name="pk_dnc_numbers"),
    )
    op.create_table(
        "dial_audit",
        sa.Column("seq", BigSerial, nullable=False, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("lead_id", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("lead_local_time", sa.String(40), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("dnc_checked", sa.Boolean(), nullable=False),
        sa.Column("dnc_listed", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("played", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("ended_at", sa.Double(), nullable=False),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.Column("connected_at", sa.Double(), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_dial_audit"),
    )
    op.create_index("ix_dial_audit_tenant_campaign_id_at", "dial_audit",
                    ["tenant", "campaign_id", "at"])
    op.create_table(
        "campaign_results",
        sa.Column("seq", BigSerial, nullable=False, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("disposition", sa.String(64), nullable=False),
        sa.Column("answers", JSONDoc, nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_campaign_results"),
    )
    op.create_index("ix_campaign_results_tenant_campaign_id", "campaign_results",
                    ["tenant", "campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_results_tenant_campaign_id", table_name="campaign_results")
    op.drop_table("campaign_results")
    op.drop_index("ix_dial_audit_tenant_campaign_id_at", table_name="dial_audit")
    op.drop_table("dial_audit")
    op.drop_table("dnc_numbers")
    op.drop_table("campaign_imports")
    op.drop_index("ix_campaign_leads_tenant_campaign_id_status", table_name="campaign_leads")
    op.drop_table("campaign_leads")
    op.drop_table("campaigns")

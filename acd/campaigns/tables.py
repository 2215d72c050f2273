"""The campaign tables, on the store's metadata (DDL in migration ``0003_campaigns``).

They hang on :data:`acd.store.tables.metadata` so that the store's schema check
(alembic ``compare_metadata``) sees them once this module is imported. Same conventions
as the store: epoch-second doubles, JSON documents, tenant foreign keys with cascade on
configuration, none on history (``dial_audit``, ``campaign_results``).

``dnc_numbers.tenant`` is ``"*"`` for the global list.
"""

from __future__ import annotations

import sqlalchemy as sa

from acd.store.tables import BigSerial, JSONDoc, metadata

GLOBAL_DNC = "*"


def _tenant_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tenants.id", ondelete="CASCADE")


campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("spec", JSONDoc, nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.Column("state_reason", sa.String(200), nullable=True),
)

campaign_leads = sa.Table(
    "campaign_leads", metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
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
    sa.Column("line", sa.Integer(), nullable=False, server_default="0"),  # in its file
    sa.Column("data", JSONDoc, nullable=False),
    sa.ForeignKeyConstraint(["tenant", "campaign_id"], ["campaigns.tenant", "campaigns.id"],
                            ondelete="CASCADE"),
    sa.UniqueConstraint("tenant", "campaign_id", "phone"),
    sa.Index(None, "tenant", "campaign_id", "status"),
)

campaign_imports = sa.Table(
    "campaign_imports", metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("campaign_id", sa.String(64), nullable=False),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("filename", sa.String(300), nullable=False, server_default=""),
    sa.Column("report", JSONDoc, nullable=False),
    sa.ForeignKeyConstraint(["tenant", "campaign_id"], ["campaigns.tenant", "campaigns.id"],
                            ondelete="CASCADE"),
)

dnc_numbers = sa.Table(
    "dnc_numbers", metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("added_at", sa.Double(), nullable=False),
    sa.Column("source", sa.String(100), nullable=False, server_default=""),
)

dial_audit = sa.Table(
    "dial_audit", metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
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
    sa.Index(None, "tenant", "campaign_id", "at"),
)

campaign_results = sa.Table(
    "campaign_results", metadata,
    sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("campaign_id", sa.String(64), nullable=False),
    sa.Column("lead_id", sa.String(64), nullable=False),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("disposition", sa.String(64), nullable=False),
    sa.Column("answers", JSONDoc, nullable=False),
    sa.Column("notes", sa.Text(), nullable=True),
    sa.Index(None, "tenant", "campaign_id"),
)

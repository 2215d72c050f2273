"""The built-in CRM and billing tables, on the store's own ``MetaData``.

They live on :data:`acd.store.tables.metadata` (not a metadata of their own) so that the
store's schema check (alembic ``compare_metadata`` in ``tests/acd/store``) sees one schema,
and so the DDL stays in the one migration chain (``0002_crm_billing``).

Why the shapes:

* Every row carries ``tenant`` and every key starts with it: two tenants may use the same
  customer ids and account numbers, and every query is tenant-scoped by construction.
* Phones are a table of their own (``customer_phones``), keyed by the *normalized* number
  (:func:`crm_bridge.phones.normalize_phone`), because the IVR's hottest query is "who is
  calling from this ANI" and it must be an index lookup, not a JSON scan.
* Money is an integer count of minor units (cents): exact on both backends, no Decimal
  support needed from SQLite. The API and the IVR see decimal strings ("123.45").
* Dates are ISO ``DATE``s: the IVR speaks them ("March fifth"), no time zone involved.
"""

from __future__ import annotations

import sqlalchemy as sa

from acd.store.tables import JSONDoc, metadata

#: Invoice states; enforced by a CHECK constraint.
INVOICE_STATUSES = ("open", "paid", "overdue")


def _tenant_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tenants.id", ondelete="CASCADE")


customers = sa.Table(
    "customers",
    metadata,
    sa.Column("tenant", sa.String(64), _tenant_fk(), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("segment", sa.String(32), nullable=False, server_default="consumer"),
    sa.Column("value_tier", sa.String(32), nullable=True),
    sa.Column("language", sa.String(16), nullable=True),
    # Subscribed services, e.g. ["internet", "mobile"]: the IVR branches on membership.
    sa.Column("services", JSONDoc, nullable=False),
)

customer_phones = sa.Table(
    "customer_phones",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(40), primary_key=True),   # normalized (E.164-ish)
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("label", sa.String(32), nullable=False, server_default="main"),
    sa.ForeignKeyConstraint(["tenant", "customer_id"], ["customers.tenant", "customers.id"],
                            ondelete="CASCADE"),
    sa.Index(None, "tenant", "customer_id"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(64), nullable=False),
    # What the caller types: digits ending in a check digit (Luhn in the demo tree).
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("opened", sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(["tenant", "customer_id"], ["customers.tenant", "customers.id"],
                            ondelete="CASCADE"),
    sa.UniqueConstraint("tenant", "number"),
    sa.Index(None, "tenant", "customer_id"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("amount_minor", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued", sa.Date(), nullable=False),
    sa.Column("due_date", sa.Date(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.CheckConstraint("status IN ('open', 'paid', 'overdue')", name="status"),
    sa.ForeignKeyConstraint(["tenant", "account_id"], ["accounts.tenant", "accounts.id"],
                            ondelete="CASCADE"),
    sa.Index(None, "tenant", "account_id"),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("amount_minor", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("paid_on", sa.Date(), nullable=False),
    sa.Column("method", sa.String(32), nullable=False, server_default="card"),
    sa.ForeignKeyConstraint(["tenant", "account_id"], ["accounts.tenant", "accounts.id"],
                            ondelete="CASCADE"),
    sa.Index(None, "tenant", "account_id"),
)

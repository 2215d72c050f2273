"""The demo CRM / billing data set, seeded for tenants ``demo`` and ``acme`` when empty.

Chosen to walk every branch of ``config/ivr/demo-main.yaml`` that depends on a lookup:

=================  =====================================================================
caller / account   what the demo tree does with it
=================  =====================================================================
+1 212 555 0101    Ann Alvarez: consumer, **platinum** (the high-value customer),
                   internet + mobile + tv -> premium greeting, internet menu, priority 20
+1 212 555 0102    Brightside Bakery: **business** segment -> business greeting
+1 212 555 0103    Chen Wei: consumer, silver, speaks Mandarin, mobile only
+1 212 555 0104    Dana Fox: consumer, no tier, mobile -> "welcome back", plain menu
any other number   not found -> general greeting
4001001009         Ann's account: 123.45 USD open, due 2026-12-05, last paid 80.00 on
                   2026-11-10 (the bill inquiry in docs/crm.md)
4001002007         Brightside's account: **overdue** 310.20 + open 155.10 = 465.30, due
                   2026-10-15 (the earliest unpaid invoice)
4001003005         Chen Wei's account: 42.00 open
4001004003         Dana Fox's account: everything paid, balance 0.00
4001005000         Brightside's second account (a shop line), 19.99 open
=================  =====================================================================

Account numbers end in a Luhn check digit (the demo tree's ``validator: luhn``); the
repository refuses a number that fails it, so a typo here cannot ship. Dates are fixed so
what the IVR says about them is reproducible.
"""

from __future__ import annotations

from typing import Any

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "C-1001", "name": "Ann Alvarez", "email": "ann.alvarez@example.com",
        "segment": "consumer", "value_tier": "platinum", "language": "en",
        "services": ["internet", "mobile", "tv"],
        "phones": [{"number": "+1 212 555 0101", "label": "mobile"},
                   {"number": "+1 212 555 0191", "label": "home"}],
        "accounts": [{
            "id": "A-1001", "number": "4001001009", "currency": "USD", "opened": "2019-04-02",
            "invoices": [
                {"id": "INV-1001-10", "amount": "80.00", "issued": "2026-10-01",
                 "due_date": "2026-11-05", "status": "paid"},
                {"id": "INV-1001-11", "amount": "123.45", "issued": "2026-11-01",
                 "due_date": "2026-12-05", "status": "open"},
            ],
            "payments": [
                {"id": "PAY-1001-1", "amount": "80.00", "date": "2026-11-10", "method": "card"},
            ],
        }],
    },
    {
        "id": "C-1002", "name": "Brightside Bakery LLC", "email": "accounts@brightside.example",
        "segment": "business", "value_tier": "gold", "language": "en",
        "services": ["internet", "mobile"],
        "phones": [{"number": "(212) 555-0102", "label": "office"}],
        "accounts": [
            {
                "id": "A-1002", "number": "4001002007", "currency": "USD",
                "opened": "2021-09-15",
                "invoices": [
                    {"id": "INV-1002-08", "amount": "150.00", "issued": "2026-08-01",
                     "due_date": "2026-09-15", "status": "paid"},
                    {"id": "INV-1002-09", "amount": "310.20", "issued": "2026-09-01",
                     "due_date": "2026-10-15", "status": "overdue"},
                    {"id": "INV-1002-10", "amount": "155.10", "issued": "2026-10-01",
                     "due_date": "2026-11-15", "status": "open"},
                ],
                "payments": [
                    {"id": "PAY-1002-1", "amount": "150.00", "date": "2026-09-12",
                     "method": "transfer"},
                ],
            },
            {
                "id": "A-1005", "number": "4001005000", "currency": "USD",
                "opened": "2024-02-01",
                "invoices": [
                    {"id": "INV-1005-11", "amount": "19.99", "issued": "2026-11-01",
                     "due_date": "2026-12-01", "status": "open"},
                ],
                "payments": [
                    {"id": "PAY-1005-1", "amount": "19.99", "date": "2026-10-28"},
                ],
            },
        ],
    },
    {
        "id": "C-1003", "name": "Chen Wei", "email": "chen.wei@example.com",
        "segment": "consumer", "value_tier": "silver", "language": "zh",
        "services": ["mobile"],
        "phones": [{"number": "+12125550103", "label": "mobile"}],
        "accounts": [{
            "id": "A-1003", "number": "4001003005", "currency": "USD", "opened": "2023-06-20",
            "invoices": [
                {"id": "INV-1003-10", "amount": "42.00", "issued": "2026-11-03",
                 "due_date": "2026-12-03", "status": "open"},
                {"id": "INV-1003-09", "amount": "42.00", "issued": "2026-10-03",
                 "due_date": "2026-11-03", "status": "paid"},
            ],
            "payments": [
                {"id": "PAY-1003-1", "amount": "42.00", "date": "2026-10-30"},
            ],
        }],
    },
    {
        "id": "C-1004", "name": "Dana Fox", "email": None,
        "segment": "consumer", "value_tier": None, "language": "en",
        "services": ["mobile"],
        "phones": [{"number": "2125550104", "label": "mobile"}],
        "accounts": [{
            "id": "A-1004", "number": "4001004003", "currency": "USD", "opened": "2025-01-10",
            "invoices": [
                {"id": "INV-1004-11", "amount": "25.00", "issued": "2026-11-01",
                 "due_date": "2026-11-20", "status": "paid"},
            ],
            "payments": [
                {"id": "PAY-1004-1", "amount": "25.00", "date": "2026-11-18"},
            ],
        }],
    },
]

ACME_CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "K-2001", "name": "Elena Rossi", "email": "elena.rossi@example.eu",
        "segment": "consumer", "value_tier": "gold", "language": "en",
        "services": ["internet"],
        "phones": [{"number": "+39 02 555 0201", "label": "mobile"}],
        "accounts": [{
            "id": "A-2001", "number": "5002001005", "currency": "EUR", "opened": "2022-03-01",
            "invoices": [
                {"id": "INV-2001-11", "amount": "59.90", "issued": "2026-11-01",
                 "due_date": "2026-11-30", "status": "open"},
            ],
            "payments": [
                {"id": "PAY-2001-1", "amount": "59.90", "date": "2026-10-29"},
            ],
        }],
    },
    {
        "id": "K-2002", "name": "Nordwind GmbH", "email": "billing@nordwind.example",
        "segment": "business", "value_tier": "platinum", "language": "en",
        "services": ["internet", "mobile"],
        "phones": [{"number": "0049 30 555 0202", "label": "office"}],
        "accounts": [{
            "id": "A-2002", "number": "5002002003", "currency": "EUR", "opened": "2020-07-01",
            "invoices": [
                {"id": "INV-2002-09", "amount": "1200.00", "issued": "2026-09-01",
                 "due_date": "2026-10-01", "status": "overdue"},
            ],
            "payments": [
                {"id": "PAY-2002-1", "amount": "1200.00", "date": "2026-08-30",
                 "method": "transfer"},
            ],
        }],
    },
]

#: Tenant -> data set (the shape :meth:`CrmRepository.import_dataset` takes).
DEMO_DATA: dict[str, dict[str, Any]] = {
    "demo": {"customers": DEMO_CUSTOMERS},
    "acme": {"customers": ACME_CUSTOMERS},
}

"""The demo tree's caller journeys against the real provider and the demo data set."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from crm_bridge.provider import LookupProvider
from ivr.events import Enqueue, Outcome
from ivr.loader import DEFAULT_DIR, load_tree

from .crm_helpers import AsyncCall

TREE = load_tree(DEFAULT_DIR / "demo-main.yaml")
# Tuesday 4 March 2025, 10:00 in New York: the demo office is open.
OPEN = dt.datetime(2025, 3, 4, 10, tzinfo=ZoneInfo("America/New_York")).timestamp()

ANN = "+1 212 555 0101"       # platinum, internet subscriber
BAKERY = "2125550102"         # business segment
DANA = "+12125550104"         # no tier


async def at_main_menu(provider: LookupProvider, ani: str) -> AsyncCall:
    call = AsyncCall(TREE, provider, ani, OPEN)
    await call.start()
    assert call.session.node.id == "choose_language"
    await call.press("1")
    return call


async def test_bill_inquiry_speaks_the_stored_balance(sqlite_provider: LookupProvider) -> None:
    call = await at_main_menu(sqlite_provider, ANN)
    assert call.session.node.id == "main_menu_internet"     # internet in services[]
    assert "demo_welcome_premium" in call.names()            # platinum
    await call.press("3")
    assert call.session.node.id == "bill_account"
    n = len(call.sim.plays)
    await call.press("4001001009#")
    assert call.names(n)[:19] == [
        "bill_balance_is", "one", "hundred", "twenty", "three", "dollars", "and", "forty",
        "five", "cents", "bill_due_on", "december", "fifth", "bill_last_payment", "eighty",
        "dollars", "bill_received_on", "november", "tenth"]
    assert call.session.node.id == "bill_menu"
    kinds = [(k, p) for k, p, _ in call.lookups]
    assert kinds == [("crm.customer_by_ani", {"ani": ANN, "tenant": "demo"}),
                     ("billing.account_summary", {"account": "4001001009", "tenant": "demo"})]
    call.sim.hangup()
    trace = call.session.trace()
    assert trace["outcome"] == Outcome.SELF_SERVED
    assert all(x["ok"] for x in trace["lookups"])


async def test_overdue_account_and_agent_priority(sqlite_provider: LookupProvider) -> None:
    call = await at_main_menu(sqlite_provider, BAKERY)
    assert "demo_welcome_business" in call.names()
    assert call.session.node.id == "main_menu_internet"
    await call.press("3")
    n = len(call.sim.plays)
    await call.press("4001002007#")
    spoken = call.names(n)
    assert spoken[:spoken.index("bill_due_on")] == [
        "bill_balance_is", "four", "hundred", "sixty", "five", "dollars", "and", "thirty",
        "cents"]
    assert spoken[spoken.index("bill_due_on") + 1:][:2] == ["october", "fifteenth"]
    await call.press("1")                                     # talk to billing
    enq = call.sim.of_type(Enqueue)[-1]
    assert enq.queue == "billing" and enq.priority == 10       # gold tier
    assert enq.data["lookups"]["bill"]["overdue"] is True


async def test_unknown_account_is_asked_again(sqlite_provider: LookupProvider) -> None:
    call = await at_main_menu(sqlite_provider, DANA)
    assert "demo_welcome_back" in call.names() and call.session.node.id == "main_menu"
    await call.press("3")
    await call.press("4539578763621486#")                      # Luhn-valid, nobody's
    assert call.session.variables["bill_error"] == "not_found"
    assert "demo_account_not_found" in call.names()
    assert call.session.node.id == "bill_account"


async def test_unknown_caller_gets_the_general_greeting(sqlite_provider: LookupProvider) -> None:
    call = await at_main_menu(sqlite_provider, "+15550009999")
    assert "demo_welcome" in call.names() and call.session.node.id == "main_menu"
    assert call.lookups[0][2].error == "not_found"

"""Contacts: committed on save, acceptance order, updates, open contacts, round trips."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acd.model import Channel, Contact, Customer
from acd.store import ConflictError, NotFoundError, Store, contact_from_record, contact_record


def _contact(cid: str, tenant: str = "t1", **over: Any) -> dict[str, Any]:
    base = {"id": cid, "tenant": tenant, "channel": "chat", "queue": "sales",
            "arrival": 100.0, "priority": 0}
    base.update(over)
    return base


async def test_save_returns_increasing_seq_and_get_returns_the_record(store: Store) -> None:
    seqs = [await store.save_contact(_contact(f"c{i}", priority=i, arrival=100.0 + i))
            for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    got = await store.get_contact("c3")
    assert got is not None
    assert got["seq"] == seqs[3]
    assert (got["priority"], got["arrival"], got["state"]) == (3, 103.0, "queued")
    assert got["customer"] == {} and got["data"] == {} and got["explanation"] is None
    assert got["ended_at"] is None and got["created_at"] > 0
    assert await store.get_contact("missing") is None


async def test_duplicate_contact_id_is_a_conflict(store: Store) -> None:
    first = await store.save_contact(_contact("dup"))
    with pytest.raises(ConflictError) as err:
        await store.save_contact(_contact("dup", priority=9))
    assert err.value.error_id == "conflict"
    assert (await store.get_contact("dup"))["seq"] == first  # the original is untouched
    # the failed save did not break acceptance order for the next one
    assert await store.save_contact(_contact("next")) > first


async def test_missing_required_fields_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="arrival"):
        await store.save_contact({"id": "x", "tenant": "t1", "channel": "chat",
                                  "queue": "q"})


async def test_open_contacts_in_seq_order_per_tenant(store: Store) -> None:
    # arrival order differs from acceptance order on purpose: seq decides
    await store.save_contact(_contact("a", arrival=300.0))
    await store.save_contact(_contact("b", tenant="t2", arrival=100.0))
    await store.save_contact(_contact("c", arrival=200.0))
    await store.save_contact(_contact("d", arrival=50.0))
    await store.update_contact("c", state="ended", outcome="abandoned")
    assert [c["id"] for c in await store.open_contacts()] == ["a", "b", "d"]
    assert [c["id"] for c in await store.open_contacts("t1")] == ["a", "d"]
    assert [c["id"] for c in await store.open_contacts("t2")] == ["b"]
    ended = await store.get_contact("c")
    assert ended["outcome"] == "abandoned" and ended["ended_at"] is not None
    assert [c["id"] for c in await store.list_contacts("t1")] == ["a", "c", "d"]
    assert [c["id"] for c in await store.list_contacts(
        "t1", since_seq=ended["seq"])] == ["d"]


async def test_update_contact_fields_and_extra(store: Store) -> None:
    await store.save_contact(_contact("u", skills={"en": 2}, site="paris"))
    await store.update_contact("u", state="offered", agent_id="a7")
    await store.update_contact("u", state="connected", explanation={"why": ["longest idle"]})
    await store.update_contact("u", queue="support", site="lyon", value_tier="gold")
    got = await store.get_contact("u")
    assert (got["state"], got["agent_id"], got["queue"]) == ("connected", "a7", "support")
    assert got["explanation"] == {"why": ["longest idle"]}
    assert (got["skills"], got["site"], got["value_tier"]) == ({"en": 2}, "lyon", "gold")
    await store.update_contact("u", state="ended", outcome="answered", ended_at=555.5)
    assert (await store.get_contact("u"))["ended_at"] == 555.5


async def test_update_contact_errors(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.update_contact("nope", state="ended")
    with pytest.raises(NotFoundError):
        await store.update_contact("nope", site="x")
    await store.save_contact(_contact("k"))
    with pytest.raises(ValueError):
        await store.update_contact("k", seq=1)
    with pytest.raises(ValueError):
        await store.update_contact("k", tenant="t2")


async def test_engine_contact_roundtrip(store: Store) -> None:
    contact = Contact(id="rt", tenant="t1", channel=Channel.EMAIL, queue="billing",
                      arrival=1234.5, priority=4, skills={"fr": 3}, value_tier="gold",
                      site="nyc", customer=Customer(name="Ann", email="ann@example.com"),
                      data={"subject": "Invoice", "ivr": {"digits": "12"}},
                      preferred_agent="a1")
    await store.save_contact(contact_record(contact, created_at=1234.6))
    record = await store.get_contact("rt")
    assert record["channel"] == "email"
    assert record["customer"] == {"name": "Ann", "phone": None, "email": "ann@example.com",
                                  "id": None}
    assert contact_from_record(record) == contact


async def test_concurrent_saves_get_unique_ordered_seqs(store: Store) -> None:
    seqs = await asyncio.gather(*(store.save_contact(_contact(f"p{i}")) for i in range(40)))
    assert len(set(seqs)) == 40
    opened = await store.open_contacts("t1")
    assert [c["seq"] for c in opened] == sorted(seqs)

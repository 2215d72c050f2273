"""Agent sessions (free seating) and CDRs."""

from __future__ import annotations

import pytest

from acd.model import Presence
from acd.store import ConflictError, Store


async def test_session_upsert_changes_only_given_fields(tenant_store: Store) -> None:
    s = tenant_store
    await s.save_session("t1", "a1", device="sip:1001@pbx", site="paris", seat="P-12",
                         presence=Presence.NOT_READY, reason="login", since=10.0)
    await s.save_session("t1", "a1", presence=Presence.READY, reason=None, since=20.0)
    got = await s.get_session("t1", "a1")
    assert got == {"tenant": "t1", "agent_id": "a1", "device": "sip:1001@pbx",
                   "site": "paris", "seat": "P-12", "presence": "ready", "reason": None,
                   "since": 20.0}


async def test_sessions_list_and_delete(tenant_store: Store) -> None:
    s = tenant_store
    await s.save_session("t2", "z", device="webrtc")
    await s.save_session("t1", "b", device="webrtc")
    await s.save_session("t1", "a", device="tel:+331")
    assert [(x["tenant"], x["agent_id"]) for x in await s.list_sessions()] == [
        ("t1", "a"), ("t1", "b"), ("t2", "z")]
    assert [x["agent_id"] for x in await s.list_sessions("t1")] == ["a", "b"]
    assert (await s.get_session("t1", "a"))["presence"] == "logged_out"  # column default
    assert await s.delete_session("t1", "a") is True
    assert await s.delete_session("t1", "a") is False
    assert [x["agent_id"] for x in await s.list_sessions("t1")] == ["b"]


async def test_session_rejects_unknown_fields_and_tenants(tenant_store: Store) -> None:
    with pytest.raises(ValueError):
        await tenant_store.save_session("t1", "a", colour="red")
    with pytest.raises(ConflictError):
        await tenant_store.save_session("ghost", "a", device="webrtc")


async def test_cdrs(store: Store) -> None:
    first = await store.save_cdr("t1", "c1", {"outcome": "answered", "talk_s": 42}, at=10.0)
    second = await store.save_cdr("t1", "c2", {"outcome": "lost_on_crash"}, at=20.0,
                                  id="cdr-2")
    await store.save_cdr("t2", "c3", {"outcome": "abandoned"}, at=5.0)
    assert second == "cdr-2" and len(first) == 32
    rows = await store.list_cdrs("t1")
    assert [r["contact_id"] for r in rows] == ["c1", "c2"]
    assert rows[0]["payload"] == {"outcome": "answered", "talk_s": 42}
    assert [r["id"] for r in await store.list_cdrs(contact_id="c2")] == ["cdr-2"]
    assert len(await store.list_cdrs()) == 3
    with pytest.raises(ConflictError):
        await store.save_cdr("t1", "c2", {}, id="cdr-2")

"""Configuration tables: tenants, skills, queues, agents, users."""

from __future__ import annotations

import pytest

from acd.model import QueueConfig, Strategy
from acd.store import ConflictError, Store, plain


async def test_tenant_upsert_get_list_delete(store: Store) -> None:
    await store.upsert_tenant("b", "Bee", {"x": 1})
    await store.upsert_tenant("a", "Ay", {})
    await store.upsert_tenant("b", "Bee 2", {"x": 2, "nested": {"y": [1, 2]}})
    assert [t["id"] for t in await store.list_tenants()] == ["a", "b"]
    assert await store.get_tenant("b") == {"id": "b", "name": "Bee 2",
                                           "settings": {"x": 2, "nested": {"y": [1, 2]}}}
    assert await store.get_tenant("zzz") is None
    assert await store.delete_tenant("a") is True
    assert await store.delete_tenant("a") is False
    assert [t["id"] for t in await store.list_tenants()] == ["b"]


async def test_queue_config_roundtrips_a_serialized_queueconfig(tenant_store: Store) -> None:
    qc = QueueConfig(id="sales", tenant="t1", strategy=Strategy.MOST_SKILLED,
                     skills={"en": 3}, max_wait_s=None)
    await tenant_store.upsert_queue("t1", "sales", plain(qc))
    await tenant_store.upsert_queue("t1", "alpha", {"id": "alpha"})
    await tenant_store.upsert_queue("t2", "other", {"id": "other"})
    row = await tenant_store.get_queue("t1", "sales")
    assert row is not None
    assert row["config"]["strategy"] == "most-skilled"
    assert row["config"]["skills"] == {"en": 3}
    assert row["config"]["max_wait_s"] is None
    assert [q["id"] for q in await tenant_store.list_queues("t1")] == ["alpha", "sales"]
    await tenant_store.upsert_queue("t1", "sales", {"id": "sales", "priority": 5})
    assert (await tenant_store.get_queue("t1", "sales"))["config"] == {"id": "sales",
                                                                       "priority": 5}
    assert await tenant_store.delete_queue("t1", "sales") is True
    assert await tenant_store.get_queue("t1", "sales") is None
    assert [q["id"] for q in await tenant_store.list_queues("t2")] == ["other"]


async def test_agents_and_skills(tenant_store: Store) -> None:
    s = tenant_store
    await s.upsert_skill("t1", "en", "English")
    await s.upsert_skill("t1", "de", "German")
    await s.upsert_skill("t1", "en", "English (UK)")
    assert await s.list_skills("t1") == [
        {"tenant": "t1", "id": "de", "name": "German"},
        {"tenant": "t1", "id": "en", "name": "English (UK)"},
    ]
    assert await s.delete_skill("t1", "de") is True
    assert [k["id"] for k in await s.list_skills("t1")] == ["en"]

    await s.upsert_agent("t1", "a2", {"skills": {"en": 5}})
    await s.upsert_agent("t1", "a1", {"skills": {}})
    assert [a["id"] for a in await s.list_agents("t1")] == ["a1", "a2"]
    assert (await s.get_agent("t1", "a2"))["config"] == {"skills": {"en": 5}}
    assert await s.list_agents("t2") == []
    assert await s.delete_agent("t1", "a2") is True
    assert await s.get_agent("t1", "a2") is None


async def test_configuration_needs_an_existing_tenant(store: Store) -> None:
    with pytest.raises(ConflictError) as err:
        await store.upsert_queue("ghost", "q", {})
    assert err.value.error_id == "unknown_tenant"
    with pytest.raises(ConflictError):
        await store.upsert_agent("ghost", "a", {})


async def test_deleting_a_tenant_cascades_to_its_configuration(tenant_store: Store) -> None:
    s = tenant_store
    await s.upsert_skill("t1", "en", "English")
    await s.upsert_queue("t1", "q", {})
    await s.upsert_agent("t1", "a", {})
    await s.upsert_user("t1", "alice", "h", "agent", agent_id="a")
    await s.save_session("t1", "a", presence="ready")
    await s.upsert_queue("t2", "q", {})
    await s.delete_tenant("t1")
    assert await s.list_skills("t1") == []
    assert await s.list_queues("t1") == []
    assert await s.list_agents("t1") == []
    assert await s.get_user("t1", "alice") is None
    assert await s.list_sessions("t1") == []
    assert [q["id"] for q in await s.list_queues("t2")] == ["q"]


async def test_users_and_find_user(tenant_store: Store) -> None:
    s = tenant_store
    await s.upsert_user("t1", "alice", "hash1", "agent", agent_id="a1")
    await s.upsert_user("t2", "alice", "hash2", "supervisor")
    await s.upsert_user("t1", "root", "hash3", "admin")
    await s.upsert_user("t1", "bob@example.com", "hash4", "agent")
    assert await s.get_user("t1", "alice") == {"tenant": "t1", "username": "alice",
                                               "password_hash": "hash1", "role": "agent",
                                               "agent_id": "a1"}
    # same username in two tenants: both, ordered by tenant
    assert [(u["tenant"], u["role"]) for u in await s.find_user("alice")] == [
        ("t1", "agent"), ("t2", "supervisor")]
    # user@tenant picks one
    assert [u["password_hash"] for u in await s.find_user("alice@t2")] == ["hash2"]
    assert [u["tenant"] for u in await s.find_user("root@t1")] == ["t1"]
    # an exact username containing @ wins over the user@tenant reading
    assert [u["password_hash"] for u in await s.find_user("bob@example.com")] == ["hash4"]
    assert await s.find_user("nobody") == []
    assert await s.find_user("root@t2") == []
    # upsert replaces the hash and role
    await s.upsert_user("t1", "alice", "hash9", "supervisor", agent_id=None)
    assert (await s.get_user("t1", "alice"))["password_hash"] == "hash9"
    assert [u["username"] for u in await s.list_users("t1")] == [
        "alice", "bob@example.com", "root"]
    assert await s.delete_user("t1", "root") is True


async def test_user_role_is_checked(tenant_store: Store) -> None:
    with pytest.raises(ValueError):
        await tenant_store.upsert_user("t1", "eve", "h", "superuser")
    assert await tenant_store.get_user("t1", "eve") is None

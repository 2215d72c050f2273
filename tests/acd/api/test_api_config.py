"""CRUD for skills, queues, agents, tenants, with clear errors."""

from __future__ import annotations

from .conftest import Api


async def test_demo_configuration_is_seeded(api: Api) -> None:
    queues = (await api.as_("admin", "GET", "/queues")).json()["queues"]
    assert {q["id"] for q in queues} == {"sales", "support"}
    agents = (await api.as_("admin", "GET", "/agents")).json()["agents"]
    assert {a["id"] for a in agents} == {f"agent{i}" for i in range(1, 11)}
    assert all("password" not in a for a in agents)
    skills = (await api.as_("admin", "GET", "/skills")).json()["skills"]
    assert {s["id"] for s in skills} == {"sales", "support"}


async def test_queue_crud(api: Api) -> None:
    r = await api.as_("admin", "POST", "/skills", json={"id": "billing", "name": "Billing"})
    assert r.status_code == 201
    q = {"id": "billing", "strategy": "round-robin", "skills": {"billing": 2},
         "sl_target_pct": 90, "sl_threshold_s": 15}
    r = await api.as_("admin", "POST", "/queues", json=q)
    assert r.status_code == 201, r.text
    assert (await api.as_("admin", "POST", "/queues", json=q)).json()["error_id"] == "queue_exists"
    r = await api.as_("admin", "GET", "/queues/billing")
    assert r.json()["strategy"] == "round-robin" and r.json()["skills"] == {"billing": 2}
    r = await api.as_("admin", "PUT", "/queues/billing", json=q | {"strategy": "most-skilled"})
    assert r.status_code == 200 and r.json()["strategy"] == "most-skilled"
    r = await api.as_("admin", "GET", "/queues/billing/stats")
    assert r.status_code == 200 and r.json()["waiting"] == 0
    assert (await api.as_("admin", "DELETE", "/queues/billing")).status_code == 204
    assert (await api.as_("admin", "GET", "/queues/billing")).status_code == 404


async def test_queue_validation_errors(api: Api) -> None:
    r = await api.as_("admin", "POST", "/queues", json={"id": "x", "skills": {"nope": 3}})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_skill"
    r = await api.as_("admin", "POST", "/queues", json={"id": "x", "strategy": "random"})
    assert r.status_code == 422 and r.json()["error_id"] == "validation_error"
    assert r.json()["details"]["errors"][0]["where"] == "strategy"
    r = await api.as_("admin", "POST", "/queues", json={"id": "x", "skills": {"sales": 11}})
    assert r.status_code == 422
    r = await api.as_("admin", "POST", "/queues",
                      json={"id": "x", "overflows": [{"after_s": 5, "action": "queue",
                                                      "target": "nowhere"}]})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_queue"
    assert (await api.as_("admin", "GET", "/queues/x")).status_code == 404


async def test_agent_crud_and_login_with_new_user(api: Api) -> None:
    r = await api.as_("admin", "POST", "/agents",
                      json={"id": "agent11", "password": "pw11", "skills": {"sales": 4},
                            "site": "taipei", "capacity": {"voice": 1, "chat": 2}})
    assert r.status_code == 201, r.text
    assert "password" not in r.json()
    r = await api.client.post("/api/v1/auth/token",
                              json={"username": "agent11", "password": "pw11"})
    assert r.status_code == 200
    r = await api.as_("admin", "POST", "/agents", json={"id": "agent12", "site": "mars"})
    assert r.status_code == 422 and r.json()["error_id"] == "unknown_site"
    r = await api.as_("admin", "POST", "/agents", json={"id": "agent12",
                                                        "capacity": {"pigeon": 1}})
    assert r.status_code == 422
    r = await api.as_("admin", "PUT", "/agents/agent11", json={"skills": {"support": 9}})
    assert r.json()["skills"] == {"support": 9}
    assert (await api.as_("admin", "DELETE", "/agents/agent11")).status_code == 204
    assert (await api.as_("admin", "GET", "/agents/agent11")).status_code == 404


async def test_ids_are_unique_across_tenants(api: Api) -> None:
    await api.login("admin", "admin", tenant="acme")
    r = await api.as_("admin@acme", "POST", "/agents", json={"id": "agent1"})
    assert r.status_code == 409 and r.json()["error_id"] == "id_in_use"


async def test_skill_in_use_cannot_be_deleted(api: Api) -> None:
    r = await api.as_("admin", "DELETE", "/skills/sales")
    assert r.status_code == 409 and r.json()["error_id"] == "skill_in_use"


async def test_tenant_crud_by_operator(api: Api) -> None:
    r = await api.as_("admin", "POST", "/tenants", json={"id": "globex", "name": "Globex"})
    assert r.status_code == 201
    r = await api.as_("admin", "PUT", "/tenants/globex", json={"sites": ["hsinchu"]})
    assert r.json()["sites"] == ["hsinchu"]
    await api.login("admin", "admin", tenant="acme")
    r = await api.as_("admin@acme", "POST", "/tenants", json={"id": "initech"})
    assert r.status_code == 403
    assert (await api.as_("admin", "DELETE", "/tenants/globex")).status_code == 204
    assert (await api.as_("admin", "GET", "/tenants/globex")).status_code == 404

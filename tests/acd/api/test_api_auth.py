"""Log-in, tokens, roles and tenant isolation."""

from __future__ import annotations

from .conftest import Api


async def test_token_for_demo_users(api: Api) -> None:
    r = await api.client.post("/api/v1/auth/token", json={"username": "admin", "password": "admin"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert body["role"] == "admin" and body["tenant"] == "demo"
    r = await api.client.post("/api/v1/auth/token",
                              json={"username": "agent7", "password": "agent"})
    assert r.json()["role"] == "agent" and r.json()["agent_id"] == "agent7"


async def test_wrong_password_is_a_json_error(api: Api) -> None:
    r = await api.client.post("/api/v1/auth/token", json={"username": "admin", "password": "x"})
    assert r.status_code == 401
    body = r.json()
    assert body["status"] == 401 and body["error_id"] == "invalid_credentials"
    assert set(body) == {"status", "error_id", "message", "details"}


async def test_every_endpoint_needs_a_token(api: Api) -> None:
    for method, path in [("GET", "/queues"), ("GET", "/agents"), ("POST", "/contacts"),
                         ("GET", "/queues/sales/stats"), ("PUT", "/agents/agent1/state")]:
        r = await api.client.request(method, "/api/v1" + path, json={})
        assert r.status_code == 401, (method, path)
        assert r.json()["error_id"] == "unauthorized"
    r = await api.client.get("/api/v1/queues", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["error_id"] == "invalid_token"


async def test_roles(api: Api) -> None:
    r = await api.as_("agent1", "POST", "/queues", json={"id": "q9", "skills": {}})
    assert r.status_code == 403 and r.json()["error_id"] == "forbidden"
    r = await api.as_("agent1", "PUT", "/agents/agent2/state", json={"state": "ready"})
    assert r.status_code == 403
    r = await api.as_("supervisor", "POST", "/agents/agent2/login", json={"device": "webrtc"})
    assert r.status_code == 200


async def test_tenant_isolation(api: Api) -> None:
    await api.login("admin", "admin", tenant="acme")
    r = await api.as_("admin@acme", "GET", "/agents")
    assert sorted(a["id"] for a in r.json()["agents"]) == ["acme1", "acme2"]
    r = await api.as_("admin@acme", "GET", "/queues/sales/stats")
    assert r.status_code == 404
    r = await api.as_("admin@acme", "POST", "/agents/agent1/login", json={"device": "webrtc"})
    assert r.status_code == 404
    cid = (await api.as_("admin", "POST", "/contacts",
                         json={"channel": "chat", "queue": "sales"})).json()["id"]
    assert (await api.as_("admin@acme", "GET", f"/contacts/{cid}")).status_code == 404
    r = await api.as_("admin@acme", "GET", "/tenants")
    assert [t["id"] for t in r.json()["tenants"]] == ["acme"]
    r = await api.as_("admin", "GET", "/tenants")
    assert sorted(t["id"] for t in r.json()["tenants"]) == ["acme", "demo"]


async def test_user_at_tenant_form(api: Api) -> None:
    r = await api.client.post("/api/v1/auth/token",
                              json={"username": "admin@acme", "password": "admin"})
    assert r.status_code == 200 and r.json()["tenant"] == "acme"


async def test_healthz(api: Api) -> None:
    r = await api.client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["components"]["store"]["ok"] is True
    assert "bus" in body["components"]


async def test_openapi_is_served(api: Api) -> None:
    r = await api.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ["/api/v1/auth/token", "/api/v1/contacts", "/api/v1/contacts/{contact_id}",
              "/api/v1/queues/{queue_id}/contacts", "/api/v1/queues/{queue_id}/stats",
              "/api/v1/agents/{agent_id}/login", "/api/v1/agents/{agent_id}/state"]:
        assert p in paths

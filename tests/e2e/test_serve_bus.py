"""`ipcc serve` as a process: domain events reach a real MQTT subscriber."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlparse

import aiomqtt
import httpx
import pytest

from tests.support.proc import IpccProcess

pytestmark = pytest.mark.timeout(120)


async def _collect(url: str, topic: str, started: asyncio.Event,
                   out: list[tuple[str, dict]], until: str) -> None:
    u = urlparse(url)
    async with aiomqtt.Client(u.hostname or "127.0.0.1", port=u.port or 1883,
                              protocol=aiomqtt.ProtocolVersion.V311) as client:
        await client.subscribe(topic, qos=1)
        started.set()
        async for message in client.messages:
            payload = json.loads(message.payload)
            out.append((str(message.topic), payload))
            if str(message.topic).endswith(until):
                return


async def _flow(proc: IpccProcess, broker_url: str) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    started = asyncio.Event()
    task = asyncio.create_task(_collect(broker_url, "ipcc/demo/#", started, out, "/offer"))
    await asyncio.wait_for(started.wait(), 10)
    async with httpx.AsyncClient(base_url=proc.url + "/api/v1", timeout=10) as c:
        tok = (await c.post("/auth/token", json={"username": "agent5", "password": "agent"})
               ).json()["access_token"]
        h = {"Authorization": f"Bearer {tok}"}
        assert (await c.post("/agents/agent5/login", json={"device": "webrtc"},
                             headers=h)).status_code == 200
        assert (await c.put("/agents/agent5/state", json={"state": "ready"},
                            headers=h)).status_code == 200
        r = await c.post("/contacts", json={"channel": "chat", "queue": "sales",
                                            "customer": {"name": "Bus Test"}}, headers=h)
        cid = r.json()["id"]
    await asyncio.wait_for(task, 10)
    topics = [t for t, _ in out]
    assert "ipcc/demo/agents/agent5/state" in topics
    assert f"ipcc/demo/contacts/{cid}/state" in topics
    offer = [p for t, p in out if t == f"ipcc/demo/contacts/{cid}/offer"][0]
    assert offer["event"] == "contact.offer" and offer["agent"] == "agent5"
    assert offer["tenant"] == "demo" and offer["contact_id"] == cid
    assert offer["customer"]["name"] == "Bus Test" and offer["channel"] == "chat"
    assert offer["correlation_id"] == cid and len(offer["id"]) == 32  # unique message id
    states = [p for t, p in out if t == f"ipcc/demo/contacts/{cid}/state"]
    assert states[0]["event"] == "contact.state" and states[0]["channel"] == "chat"
    agent = [p for t, p in out if t == "ipcc/demo/agents/agent5/state"][-1]
    assert agent["presence"] == "ready" and agent["device"] == "webrtc"
    return out


async def test_events_through_the_embedded_broker(tmp_path: Path) -> None:
    proc = IpccProcess(tmp_path / "data", "--no-voice").start()  # default: embedded broker
    try:
        health = httpx.get(proc.url + "/healthz").json()
        bus = health["components"]["bus"]
        assert bus["url"].startswith("mqtt://127.0.0.1:") and not bus["url"].endswith(":1883")
        await _flow(proc, bus["url"])
    finally:
        proc.stop()


async def test_events_through_mosquitto(tmp_path: Path, mosquitto_url: str) -> None:
    proc = IpccProcess(tmp_path / "data", "--bus-url", mosquitto_url, "--no-voice").start()
    try:
        await _flow(proc, mosquitto_url)
        assert httpx.get(proc.url + "/healthz").json()["components"]["bus"]["connected"]
    finally:
        proc.stop()


async def test_broker_down_contacts_keep_flowing(tmp_path: Path) -> None:
    from tests.support.proc import free_port

    dead = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    proc = IpccProcess(tmp_path / "data", "--bus-url", dead, "--no-voice").start()
    try:
        with proc.client("admin", "admin") as c:
            for _ in range(5):
                assert c.post("/contacts", json={"channel": "email", "queue": "support"}
                              ).status_code == 201
            assert len(c.get("/queues/support/contacts").json()["contacts"]) == 5
        bus = httpx.get(proc.url + "/healthz").json()["components"]["bus"]
        assert bus["connected"] is False and bus["queued"] >= 5
    finally:
        proc.stop()

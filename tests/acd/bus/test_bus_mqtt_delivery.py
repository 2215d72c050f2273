"""The bus against real brokers: the embedded amqtt one and mosquitto.

Each test subscribes with a real aiomqtt client under a topic prefix of its own, so tests
sharing the machine's mosquitto never see each other's messages. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import pytest

from acd.bus import Backoff, Bus, parse_url
from tests.acd.bus.bus_harness import Collector, GatedProxy, unique_prefix, wait_until
from tests.support.mosquitto import free_port

pytestmark = pytest.mark.timeout(60)

FAST = Backoff(initial=0.02, maximum=0.2)
TOPIC = "demo/contacts/c1/state"  # one topic: MQTT orders messages per topic


def _state_event(n: int) -> dict:
    return {"event": "contact.state", "tenant": "demo", "contact_id": "c1", "n": n,
            "state": "queued", "queue": "sales", "correlation_id": f"corr-{n}"}


async def _stopped(bus: Bus) -> None:
    await asyncio.wait_for(bus.stop(flush_timeout=2.0), 10)


async def test_subscriber_receives_events_in_order_with_payloads(broker_url: str) -> None:
    prefix = unique_prefix()
    bus = Bus(broker_url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST)
    async with Collector(broker_url, f"{prefix}/#") as sub:
        await bus.start()
        try:
            for n in range(300):
                bus.publish(TOPIC, _state_event(n))
            bus.publish("demo/agents/a1/state", {"event": "agent.state", "agent_id": "a1"},
                        qos=0)
            got = await sub.wait_for(301)
        finally:
            await _stopped(bus)
    on_topic = [m for m in sub.messages if m.topic.value == f"{prefix}/{TOPIC}"]
    bodies = [json.loads(bytes(m.payload)) for m in on_topic]  # type: ignore[arg-type]
    assert [b["n"] for b in bodies] == list(range(300))
    assert bodies[7]["correlation_id"] == "corr-7" and bodies[7]["tenant"] == "demo"
    assert len({b["id"] for b in got}) == 301  # the bus gave every event an id
    assert all(isinstance(b["at"], float) for b in got)
    assert any(m.topic.value == f"{prefix}/demo/agents/a1/state" for m in sub.messages)
    st = bus.status()
    assert (st["published"], st["queued"], st["dropped"]) == (301, 0, 0)


async def test_retained_state_reaches_a_late_subscriber(broker_url: str) -> None:
    prefix = unique_prefix()
    bus = Bus(broker_url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST)
    await bus.start()
    topic = "demo/agents/a7/state"
    try:
        bus.publish(topic, {"event": "agent.state", "presence": "not_ready"}, retain=True)
        bus.publish(topic, {"event": "agent.state", "presence": "ready"}, retain=True)
        await wait_until(lambda: bus.status()["published"] == 2, 10, "two acks")
        async with Collector(broker_url, f"{prefix}/demo/agents/+/state") as late:
            got = await late.wait_for(1)
            await asyncio.sleep(0.2)  # room for a wrong second retained copy to show up
        assert [g["presence"] for g in late.payloads()] == ["ready"]
        assert got[0]["event"] == "agent.state"
        assert late.messages[0].retain
    finally:
        # clear the retained message (an empty retained payload) so the broker forgets it
        addr = parse_url(broker_url)
        async with aiomqtt.Client(addr.host, addr.port, timeout=5) as c:
            await c.publish(f"{prefix}/{topic}", b"", qos=1, retain=True)
        await _stopped(bus)


async def test_broker_down_at_start_then_queued_events_delivered_in_order(broker_proc) -> None:  # type: ignore[no-untyped-def]
    prefix = unique_prefix()
    gate = GatedProxy("127.0.0.1", broker_proc.port)  # shut: the bus sees a dead broker
    bus = Bus(gate.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST)
    await bus.start()  # returns although nothing listens
    try:
        for n in range(200):
            bus.publish(TOPIC, _state_event(n))  # never blocks, never raises
        await wait_until(lambda: bus.status()["last_error"] is not None, 10,
                         "a failed connect attempt")
        st = bus.status()
        assert (st["connected"], st["queued"], st["published"]) == (False, 200, 0)

        broker_proc.start()
        async with Collector(broker_proc.url, f"{prefix}/#") as sub:
            await gate.open()
            got = await sub.wait_for(200)
            await wait_until(lambda: bus.status()["queued"] == 0, 10, "outbox drained")
        assert [g["n"] for g in got] == list(range(200))
        assert bus.status()["connected"] and bus.status()["published"] == 200
    finally:
        await _stopped(bus)
        await gate.shut()


async def test_broker_killed_mid_stream_and_restarted_loses_nothing(broker_proc) -> None:  # type: ignore[no-untyped-def]
    prefix = unique_prefix()
    broker_proc.start()
    gate = GatedProxy("127.0.0.1", broker_proc.port)
    await gate.open()
    bus = Bus(gate.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST,
              window=50)
    await bus.start()
    try:
        async with Collector(broker_proc.url, f"{prefix}/#") as before:
            for n in range(100):
                bus.publish(TOPIC, _state_event(n))
            await before.wait_for(100)
            await wait_until(lambda: bus.status()["published"] == 100, 10, "100 acks")
            # A burst the bus has not sent yet, then the crash before it can: SIGKILL.
            for n in range(100, 300):
                bus.publish(TOPIC, _state_event(n))
            broker_proc.kill()
            await gate.shut()  # keep the bus out until a subscriber is back
            for n in range(300, 400):
                bus.publish(TOPIC, _state_event(n))  # while the broker is down
            await wait_until(lambda: not bus.status()["connected"], 10, "bus notices")
        assert [p["n"] for p in before.payloads()] == list(range(100))
        assert bus.status()["queued"] == 300

        broker_proc.start()  # same port
        async with Collector(broker_proc.url, f"{prefix}/#") as after:
            await gate.open()
            got = await after.wait_for(300)
            await wait_until(lambda: bus.status()["queued"] == 0, 10, "outbox drained")
        assert [g["n"] for g in got] == list(range(100, 400))
        st = bus.status()
        assert (st["published"], st["dropped"], st["connects"]) == (400, 0, 2)
    finally:
        await _stopped(bus)
        await gate.shut()


async def test_outbox_overflow_drops_oldest_and_delivers_the_rest(embedded_broker) -> None:  # type: ignore[no-untyped-def]
    prefix = unique_prefix()
    gate = GatedProxy("127.0.0.1", embedded_broker.port)
    bus = Bus(gate.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST,
              outbox_size=10)
    await bus.start()
    try:
        for n in range(25):
            bus.publish(TOPIC, _state_event(n))
        st = bus.status()
        assert (st["queued"], st["dropped"]) == (10, 15)
        async with Collector(embedded_broker.url, f"{prefix}/#") as sub:
            await gate.open()
            got = await sub.wait_for(10)
            await wait_until(lambda: bus.status()["queued"] == 0, 10, "outbox drained")
            await asyncio.sleep(0.1)  # room for anything unexpected to arrive
        assert [g["n"] for g in sub.payloads()] == list(range(15, 25))
        assert len(got) == 10 and bus.status()["dropped"] == 15
    finally:
        await _stopped(bus)
        await gate.shut()


async def test_stop_flushes_what_is_queued(broker_url: str) -> None:
    prefix = unique_prefix()
    bus = Bus(broker_url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST)
    async with Collector(broker_url, f"{prefix}/#") as sub:
        await bus.start()
        await wait_until(lambda: bus.status()["connected"], 10, "connected")
        for n in range(150):
            bus.publish(TOPIC, _state_event(n))
        await _stopped(bus)  # straight away: stop must flush
        assert bus.status()["queued"] == 0
        got = await sub.wait_for(150)
    assert [g["n"] for g in got] == list(range(150))


async def test_stop_returns_when_the_broker_never_came() -> None:
    bus = Bus(f"mqtt://127.0.0.1:{free_port()}", backoff=FAST)
    await bus.start()
    bus.publish("x", {"n": 1})
    await wait_until(lambda: bus.status()["last_error"] is not None, 10, "a failed attempt")
    await _stopped(bus)  # bounded by _stopped's timeout; must not hang
    st = bus.status()
    assert (st["connected"], st["queued"], st["published"]) == (False, 1, 0)


async def test_credentials_from_the_url_are_sent(mosquitto_url: str) -> None:
    """The machine's mosquitto admits anonymous users, so any user name is accepted;
    this checks the URL's user part goes through aiomqtt without breaking the connect."""
    prefix = unique_prefix()
    addr = parse_url(mosquitto_url)
    url = f"mqtt://ipcc-user:p%40ss@{addr.host}:{addr.port}"
    bus = Bus(url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix, backoff=FAST)
    assert (bus.address.username, bus.address.password) == ("ipcc-user", "p@ss")
    async with Collector(mosquitto_url, f"{prefix}/#") as sub:
        await bus.start()
        try:
            bus.publish("system/health", {"event": "health", "status": "ok"}, retain=False)
            got = await sub.wait_for(1)
        finally:
            await _stopped(bus)
    assert got[0]["status"] == "ok"


async def test_last_will_is_published_when_the_process_vanishes(broker_url: str) -> None:
    """A dropped connection (no DISCONNECT) makes the broker publish the retained will."""
    prefix = unique_prefix()
    addr = parse_url(broker_url)
    gate = GatedProxy(addr.host, addr.port)
    await gate.open()
    bus = Bus(gate.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix,
              backoff=Backoff(initial=30.0, maximum=30.0),  # stays away once cut off
              will=("system/health", {"event": "system.health", "status": "down"}))
    await bus.start()
    try:
        async with Collector(broker_url, f"{prefix}/system/health") as sub:
            bus.publish("system/health", {"event": "system.health", "status": "ok"},
                        retain=True)
            await sub.wait_for(1)
            await gate.shut()  # the connection is cut as if the process died
            got = await sub.wait_for(2)
        assert [g["status"] for g in got] == ["ok", "down"]
        assert "id" not in got[1]  # the will is the caller's payload as given
    finally:
        async with aiomqtt.Client(addr.host, addr.port, timeout=5) as c:
            await c.publish(f"{prefix}/system/health", b"", qos=1, retain=True)
        await _stopped(bus)


async def test_publish_throttled_sends_first_and_latest_only(embedded_broker) -> None:  # type: ignore[no-untyped-def]
    prefix = unique_prefix()
    bus = Bus(embedded_broker.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix,
              backoff=FAST, throttle_s=0.2)
    async with Collector(embedded_broker.url, f"{prefix}/#") as sub:
        await bus.start()
        try:
            for waiting in range(1, 6):  # five changes within one interval
                bus.publish_throttled("demo/queues/sales/stats",
                                      {"event": "queue.stats", "waiting": waiting})
            bus.publish_throttled("demo/queues/support/stats",
                                  {"event": "queue.stats", "waiting": 9})
            got = await sub.wait_for(3)
            await asyncio.sleep(0.3)  # longer than the interval: nothing else may come
        finally:
            await _stopped(bus)
    sales = [(json.loads(bytes(m.payload))["waiting"], m.retain)  # type: ignore[arg-type]
             for m in sub.messages if m.topic.value.endswith("/sales/stats")]
    assert [w for w, _ in sales] == [1, 5]
    assert len(got) == 3 and len(sub.messages) == 3
    assert bus.status()["published"] == 3


async def test_stop_sends_throttled_values_still_held(embedded_broker) -> None:  # type: ignore[no-untyped-def]
    prefix = unique_prefix()
    bus = Bus(embedded_broker.url, client_id=f"bus-{prefix[-12:]}", topic_prefix=prefix,
              backoff=FAST, throttle_s=60.0)
    async with Collector(embedded_broker.url, f"{prefix}/#") as sub:
        await bus.start()
        await wait_until(lambda: bus.status()["connected"], 10, "connected")
        bus.publish_throttled("demo/queues/q/stats", {"waiting": 1})
        bus.publish_throttled("demo/queues/q/stats", {"waiting": 2})  # held for 60 s
        await _stopped(bus)
        got = await sub.wait_for(2)
    assert [g["waiting"] for g in got] == [1, 2]

"""The embedded amqtt broker: free-port choice, restart on its port, MQTT 3.1.1 only."""

from __future__ import annotations

import asyncio
import socket

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError

from acd.broker import EmbeddedBroker
from tests.support.mosquitto import mqtt_ping

pytestmark = pytest.mark.timeout(60)


async def test_port_zero_picks_a_free_port_and_publishes_it_in_the_url() -> None:
    async with EmbeddedBroker() as a, EmbeddedBroker() as b:
        assert a.port not in (0, 1883) and b.port not in (0, 1883)
        assert a.port != b.port
        assert a.url == f"mqtt://127.0.0.1:{a.port}"
        ok = await asyncio.get_running_loop().run_in_executor(None, mqtt_ping, "127.0.0.1",
                                                               a.port)
        assert ok


async def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = EmbeddedBroker().url


async def test_a_taken_port_is_reported_not_ignored() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        broker = EmbeddedBroker(port=s.getsockname()[1])
        with pytest.raises(OSError):
            await broker.start()
        assert not broker.running


async def test_restart_binds_the_same_port_and_serves_again() -> None:
    broker = EmbeddedBroker()
    await broker.start()
    port = broker.port
    await broker.stop()
    await broker.stop()  # idempotent
    await broker.start()
    try:
        assert broker.port == port
        async with aiomqtt.Client("127.0.0.1", port, timeout=5) as c:
            await c.subscribe("x/#", qos=1)
            await c.publish("x/1", b"hi", qos=1)
            msg = await asyncio.wait_for(anext(aiter(c.messages)), 5)
            assert msg.payload == b"hi"
    finally:
        await broker.stop()


async def test_mqtt5_connect_is_refused(embedded_broker: EmbeddedBroker) -> None:
    """amqtt speaks 3.1.1 only; the bus therefore never asks for v5."""
    client = aiomqtt.Client("127.0.0.1", embedded_broker.port, timeout=3,
                            protocol=aiomqtt.ProtocolVersion.V5)
    with pytest.raises(MqttConnectError, match="Unsupported protocol"):
        async with client:
            pass


async def test_stop_disconnects_clients(embedded_broker: EmbeddedBroker) -> None:
    client = aiomqtt.Client("127.0.0.1", embedded_broker.port, timeout=3)
    async with client:
        await client.subscribe("x")
        await embedded_broker.stop()
        with pytest.raises(aiomqtt.MqttError):
            await asyncio.wait_for(anext(aiter(client.messages)), 5)

"""Fixtures for the bus tests: brokers of both kinds, in-process and as killable processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from acd.broker import EmbeddedBroker
from tests.acd.bus.bus_harness import EmbeddedBrokerProcess
from tests.support.mosquitto import (  # noqa: F401
    MosquittoProcess,
    mosquitto_binary,
    mosquitto_process,
    mosquitto_url,
)


@pytest.fixture
async def embedded_broker() -> AsyncIterator[EmbeddedBroker]:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture(params=["embedded", "mosquitto"])
async def broker_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A running broker of each kind: the in-process embedded one, then mosquitto."""
    if request.param == "embedded":
        broker = EmbeddedBroker()
        await broker.start()
        try:
            yield broker.url
        finally:
            await broker.stop()
    else:
        yield request.getfixturevalue("mosquitto_url")


@pytest.fixture(params=["embedded", "mosquitto"])
def broker_proc(request: pytest.FixtureRequest) -> Iterator[EmbeddedBrokerProcess | MosquittoProcess]:
    """A broker of each kind as a child process, NOT started: the test starts, kills and
    restarts it (same port). Stopped by pid afterwards."""
    proc: EmbeddedBrokerProcess | MosquittoProcess
    if request.param == "embedded":
        proc = EmbeddedBrokerProcess()
    else:
        if mosquitto_binary() is None:
            pytest.skip("no mosquitto binary (run scripts/install-test-deps.sh)")
        proc = MosquittoProcess()
    try:
        yield proc
    finally:
        proc.close()

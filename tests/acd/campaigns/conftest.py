"""A control process (engine + SQLite store, no bus) on a fake clock, with the campaign
runner plugged in as a gateway and a fake outbound dialer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from acd.campaigns.runner import CampaignRunner
from acd.dialer import events as dev
from acd.dialer.windows import utc
from acd.server import Server
from tests.acd.api.conftest import demo_settings
from tests.agent_ui.conftest import browser  # noqa: F401 (fixture for the browser test)

# Tuesday 10 March 2026, 18:00 UTC = 11:00 in Los Angeles, 14:00 in New York.
T0 = utc(2026, 3, 10, 18)


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeDialer:
    """Records what the runner asks of the voice side."""

    def __init__(self) -> None:
        self.dials: list[tuple[dev.Dial, str]] = []
        self.connects: list[tuple[str, str]] = []
        self.plays: list[tuple[str, str]] = []
        self.hangups: list[tuple[str, str, bool]] = []

    def dial(self, d: dev.Dial, caller_id: str) -> None:
        self.dials.append((d, caller_id))

    def connect(self, call_id: str, agent_id: str) -> None:
        self.connects.append((call_id, agent_id))

    def play(self, call_id: str, text: str) -> None:
        self.plays.append((call_id, text))

    def hangup(self, call_id: str, reason: str, after_prompt: bool) -> None:
        self.hangups.append((call_id, reason, after_prompt))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialer() -> FakeDialer:
    return FakeDialer()


async def _server(tmp_path: Path, clock: Clock, runner: CampaignRunner
                  ) -> AsyncIterator[tuple[Server, CampaignRunner]]:
    srv = Server(demo_settings(), tmp_path / "data", clock=clock)
    srv.add_gateway(runner)
    await srv.start()
    try:
        yield srv, runner
    finally:
        await srv.stop()


@pytest.fixture
async def served(tmp_path: Path, clock: Clock, dialer: FakeDialer
                 ) -> AsyncIterator[tuple[Server, CampaignRunner]]:
    async for pair in _server(tmp_path, clock, CampaignRunner(dialer=dialer, clock=clock,
                                                              ticker=False)):
        yield pair


@pytest.fixture
async def served_without_voice(tmp_path: Path, clock: Clock
                               ) -> AsyncIterator[tuple[Server, CampaignRunner]]:
    async for pair in _server(tmp_path, clock, CampaignRunner(clock=clock, ticker=False)):
        yield pair


def spec_body(**kw: Any) -> dict[str, Any]:
    body = {"name": "Spring offer", "queue": "sales", "caller_id": "+14155550100",
            "company": "Acme", "callback_number": "+1 415 555 0100", "mode": "progressive",
            "default_region": "US", "dispositions": ["sale", "not_interested", "callback",
                                                     "do_not_call"],
            "survey": [{"id": "interested", "text": "Interested?", "type": "yes_no"}]}
    body.update(kw)
    return body


@pytest.fixture
async def api(served: tuple[Server, CampaignRunner]) -> AsyncIterator[Any]:
    import httpx

    from acd.api import create_app
    from tests.acd.api.conftest import Api

    transport = httpx.ASGITransport(app=create_app(served[0]))
    async with httpx.AsyncClient(transport=transport, base_url="http://ipcc.test") as client:
        yield Api(client)

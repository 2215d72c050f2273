"""Test harness for the sans-I/O engine: a fake clock that owns the engine's timers.

``Harness.send`` feeds one event at the current fake time and records the timers the
engine asked for; ``Harness.run_until`` fires due timers in time order (like the I/O
layer would with ``loop.call_at``), so tests never sleep.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acd.engine import Engine
from acd.events import (
    AgentLoggedIn,
    AgentWentReady,
    CancelTimer,
    ContactArrived,
    ContactUpdated,
    Decision,
    Offer,
    StartTimer,
    TimerFired,
)
from acd.model import AgentConfig, Channel, Contact, QueueConfig


class Harness:
    def __init__(self) -> None:
        self.engine = Engine()
        self.now = 0.0
        self.timers: dict[tuple, float] = {}
        self.log: list[Decision] = []

    # ------------------------------------------------------------ configuration
    def queue(self, qid: str = "q", tenant: str = "t", **kw: Any) -> QueueConfig:
        cfg = QueueConfig(id=qid, tenant=tenant, **kw)
        self._record(self.engine.configure_queue(cfg, now=self.now))
        return cfg

    def agent(self, aid: str, skills: dict[str, int] | None = None, *, ready: bool = True,
              site: str | None = None, tenant: str = "t", **kw: Any) -> list[Decision]:
        cfg = AgentConfig(id=aid, tenant=tenant, skills=skills or {}, **kw)
        out = self._record(self.engine.configure_agent(cfg, now=self.now))
        if ready:
            out += self.send(AgentLoggedIn(aid, f"sip:{aid}", site=site))
            out += self.send(AgentWentReady(aid))
        return out

    # ------------------------------------------------------------------ events
    def send(self, event: Any, now: float | None = None) -> list[Decision]:
        if now is not None:
            self.run_until(now)
        return self._record(self.engine.handle(event, self.now))

    def arrive(self, cid: str, queue: str = "q", channel: Channel = Channel.VOICE,
               arrival: float | None = None, tenant: str = "t", **kw: Any) -> list[Decision]:
        c = Contact(id=cid, tenant=tenant, channel=channel, queue=queue,
                    arrival=self.now if arrival is None else arrival, **kw)
        return self.send(ContactArrived(c))

    def run_until(self, t: float) -> list[Decision]:
        """Fire every timer due at or before ``t`` in time order, then set the clock to t."""
        out: list[Decision] = []
        for _ in range(10_000):  # a timer storm is a bug, not a reason to hang
            due = [(at, k) for k, at in self.timers.items() if at <= t]
            if not due:
                break
            at, key = min(due, key=lambda x: (x[0], repr(x[1])))
            del self.timers[key]
            self.now = max(self.now, at)
            out += self._record(self.engine.handle(TimerFired(key), self.now))
        else:
            raise AssertionError(f"timers keep firing before t={t}")
        self.now = max(self.now, t)
        return out

    def _record(self, decisions: list[Decision]) -> list[Decision]:
        for d in decisions:
            if isinstance(d, StartTimer):
                self.timers[d.key] = d.at
            elif isinstance(d, CancelTimer):
                self.timers.pop(d.key, None)
        self.log.extend(decisions)
        return list(decisions)


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    return [(d.contact_id, d.agent_id) for d in decisions if isinstance(d, Offer)]


def of_type(decisions: Iterable[Decision], cls: type) -> list[Any]:
    return [d for d in decisions if isinstance(d, cls)]


def contact_states(decisions: Iterable[Decision], cid: str) -> list[str]:
    return [d.state for d in decisions if isinstance(d, ContactUpdated) and d.contact_id == cid]

"""Helpers for the dialer tests: a campaign factory, a pacer driver with a fake clock."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from acd.dialer import events as ev
from acd.dialer.model import AnswerKind, CampaignConfig, Lead, Mode
from acd.dialer.pacer import Pacer
from acd.dialer.windows import utc

T = TypeVar("T")

# Tuesday 4 June 2024, 16:00 UTC: noon in New York, 09:00 in Los Angeles.
NOON_NY = utc(2024, 6, 4, 16)


def clean_history(n: int = 1000) -> list[tuple[float, bool]]:
    """An hour of live answers, none abandoned: governor headroom for over-dialling."""
    return [(NOON_NY - 3600 + i * 3600 / n, False) for i in range(n)]


def campaign(**kw: Any) -> CampaignConfig:
    base: dict[str, Any] = dict(id="c1", company="Acme Energy", callback_number="+1 555 0100",
                                mode=Mode.PROGRESSIVE)
    base.update(kw)
    return CampaignConfig(**base)


def lead(i: int, tz: str = "America/New_York", **kw: Any) -> Lead:
    phone = kw.pop("phone", f"+1555{i:07d}")
    return Lead(f"L{i}", phone, tz, **kw)


def of(decisions: list[Any], cls: type[T]) -> list[T]:
    return [d for d in decisions if isinstance(d, cls)]


class Driver:
    """Feeds a pacer with a moving fake clock and keeps every decision."""

    def __init__(self, pacer: Pacer, now: float = NOON_NY) -> None:
        self.pacer = pacer
        self.now = now
        self.log: list[Any] = []

    def at(self, t: float) -> Driver:
        assert t >= self.now
        self.now = t
        return self

    def after(self, seconds: float) -> Driver:
        self.now += seconds
        return self

    def send(self, event: ev.Event) -> list[Any]:
        out = self.pacer.handle(event, self.now)
        self.log.extend(out)
        return out

    def agents(self, *ids: str) -> list[Any]:
        out: list[Any] = []
        for a in ids:
            out += self.send(ev.AgentAvailable(a))
        return out

    def leads(self, *leads: Lead) -> list[Any]:
        return self.send(ev.LeadsAdded(tuple(leads)))

    def answer(self, call_id: str, kind: AnswerKind = AnswerKind.HUMAN) -> list[Any]:
        return self.send(ev.CallAnswered(call_id, kind))


def warm_up(pacer: Pacer, n: int = 200) -> None:
    """Give the forecast enough observations to leave warm-up: 30 % human answers after
    6-9 s, the rest resolved later; talk 100-140 s; wrap-up 20 s."""
    for i in range(n):
        human = i % 10 < 3
        pacer.ring_stats.add(human, 6.0 + (i % 4) if human else 3.0 + (i % 17))
    for i in range(n // 2):
        pacer.talk_stats.add(100.0 + (i % 41))
        pacer.wrap_stats.add(20.0)


def replace(cfg: CampaignConfig, **kw: Any) -> CampaignConfig:
    return dataclasses.replace(cfg, **kw)

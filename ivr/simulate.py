"""Drive an ``IvrSession`` on a virtual clock, without a media plane.

Used by the tests and usable for trying a tree from a script: prompts take a nominal
time to play, lookups are answered by a provider function after a small latency, timers
fire when the virtual clock passes them. Nothing sleeps; ``now`` only moves when asked.

    sim = CallSimulator(IvrSession(tree, CallInfo(ani="5551234", dnis="1000"), 0.0),
                        lookup=fake_crm)
    sim.start()            # plays until the session waits for the caller
    sim.press("3")
    sim.press("4539578763621486#")
    sim.heard("en")        # "your current balance is one hundred twenty three dollars ..."
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .events import (
    Action,
    CallerHungUp,
    CancelTimer,
    DtmfReceived,
    Enqueue,
    Lookup,
    LookupResult,
    MessageRecorded,
    Play,
    PromptFinished,
    StartTimer,
    StopPlayback,
    TimerExpired,
)
from .prompt_catalog import spoken_text
from .session import INPUT, RECORD, IvrSession

NO_ANSWER = object()   # a provider returns this to make a lookup time out

LookupProvider = Callable[[str, Mapping[str, Any]], Any]


class LookupFailed(Exception):
    """A provider raises this to answer a lookup with an error."""


class CallSimulator:
    def __init__(self, session: IvrSession, lookup: LookupProvider | None = None, *,
                 now: float | None = None, seconds_per_file: float = 0.5,
                 seconds_per_text: float = 2.0, lookup_latency: float = 0.2) -> None:
        self.session = session
        self.lookup = lookup
        self.now = session.created_at if now is None else now
        self.seconds_per_file = seconds_per_file
        self.seconds_per_text = seconds_per_text
        self.lookup_latency = lookup_latency
        self.actions: list[Action] = []
        self.plays: list[Play] = []
        self.stopped: set[str] = set()
        self._queue: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._timers: dict[tuple[Hashable, ...], float] = {}

    # ------------------------------------------------------------------ scheduling

    def _schedule(self, at: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, kind, payload))

    def _apply(self, actions: Iterable[Action]) -> list[Action]:
        actions = list(actions)
        for a in actions:
            self.actions.append(a)
            if isinstance(a, Play):
                self.plays.append(a)
                length = self.seconds_per_file * len(a.files) + \
                    (self.seconds_per_text if a.text else 0.0)
                self._schedule(self.now + length, "prompt", a.play_id)
            elif isinstance(a, StopPlayback):
                self.stopped.add(a.play_id)
            elif isinstance(a, StartTimer):
                self._timers[a.key] = a.at
                self._schedule(a.at, "timer", a.key)
            elif isinstance(a, CancelTimer):
                self._timers.pop(a.key, None)
            elif isinstance(a, Lookup) and self.lookup is not None:
                self._answer_lookup(a)
        return actions

    def _answer_lookup(self, a: Lookup) -> None:
        assert self.lookup is not None
        try:
            data = self.lookup(a.kind, a.params)
        except LookupFailed as exc:
            self._schedule(self.now + self.lookup_latency, "lookup",
                           LookupResult(a.request_id, None, str(exc) or "error"))
            return
        if data is NO_ANSWER:
            return
        self._schedule(self.now + self.lookup_latency, "lookup", LookupResult(a.request_id, data))

    def feed(self, event: Any) -> list[Action]:
        return self._apply(self.session.handle(event, self.now))

    def _fire(self, kind: str, payload: Any) -> None:
        if kind == "prompt":
            if payload not in self.stopped:
                self.feed(PromptFinished(payload))
        elif kind == "timer":
            if self._timers.get(payload) is not None:
                del self._timers[payload]
                self.feed(TimerExpired(payload))
        else:
            self.feed(payload)

    # ------------------------------------------------------------------ driving

    def start(self, settle: bool = True) -> list[Action]:
        out = self._apply(self.session.start(self.now))
        if settle:
            self.settle()
        return out

    def settle(self, limit_s: float = 600.0) -> None:
        """Let prompts finish and lookups answer until the caller must act (the session
        waits for digits or a recording) or the call ends. Input timers do not fire."""
        deadline = self.now + limit_s
        while self._queue and not self.session.ended:
            if self.session.phase in (INPUT, RECORD):
                return
            at, _, kind, payload = heapq.heappop(self._queue)
            if at > deadline:
                heapq.heappush(self._queue, (at, 0, kind, payload))
                return
            self.now = max(self.now, at)
            self._fire(kind, payload)

    def advance(self, seconds: float) -> None:
        """Move the clock, firing everything due in order."""
        end = self.now + seconds
        while self._queue and self._queue[0][0] <= end:
            at, _, kind, payload = heapq.heappop(self._queue)
            self.now = max(self.now, at)
            self._fire(kind, payload)
        self.now = end

    def press(self, digits: str, settle: bool = True, gap: float = 0.3) -> None:
        for i, d in enumerate(digits):
            self.feed(DtmfReceived(d))
            if i < len(digits) - 1:
                self.advance(gap)
        if settle:
            self.settle()

    def hangup(self) -> None:
        self.feed(CallerHungUp())

    def recorded(self, path: str, duration: float) -> None:
        self.feed(MessageRecorded(path, duration))
        self.settle()

    # ------------------------------------------------------------------ looking back

    def of_type(self, cls: type) -> list[Any]:
        return [a for a in self.actions if isinstance(a, cls)]

    @property
    def enqueued(self) -> Enqueue | None:
        found = self.of_type(Enqueue)
        return found[-1] if found else None

    def names(self, since: int = 0) -> list[str]:
        """Prompt/fragment names of every file played (from play number ``since``)."""
        return [Path(f).stem for p in self.plays[since:] for f in p.files]

    def heard(self, lang: str, since: int = 0) -> str:
        return spoken_text(self.names(since), lang)

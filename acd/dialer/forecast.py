"""What the campaign has observed so far, kept as the forecast needs it.

* :class:`RingStats` - the recent dial attempts: when each was resolved (answered by a
  person or a machine, busy, no answer, failed) counted from the dial. From it comes the
  answer table ``G[e][tau]``: the probability that a call still unresolved ``e`` seconds
  after dialling is answered by a person within the next ``tau`` seconds. ``G[0]`` is the
  answer-time distribution of a call dialled now; ``G[e]`` serves calls in flight.
* :class:`DurationStats` - recent talk or wrap-up durations, sorted, answering "an agent
  who has been at it for ``a`` seconds: how likely is he done within ``h`` more?"
  (the empirical conditional distribution, with a cautious tail when ``a`` exceeds every
  sample).

Both are bounded (``sample_window`` most recent samples) so the forecast follows drift
in the list and in the agents' pace during the day, and both rebuild lazily.
"""

from __future__ import annotations

import bisect
from collections import deque


class DurationStats:
    def __init__(self, maxlen: int) -> None:
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._maxlen = maxlen
        self._sum = 0.0

    def __len__(self) -> int:
        return len(self._recent)

    def add(self, value: float) -> None:
        value = max(0.0, value)
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        self._sum += value
        if len(self._recent) > self._maxlen:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
            self._sum -= old

    def mean(self) -> float:
        return self._sum / len(self._recent) if self._recent else 0.0

    def minimum(self) -> float:
        return self._sorted[0] if self._sorted else 0.0

    def quantiles(self, n: int) -> list[float]:
        """``n`` evenly spaced quantiles (mid-points of n equal-probability slices)."""
        s = self._sorted
        if not s:
            return []
        return [s[min(len(s) - 1, int((i + 0.5) * len(s) / n))] for i in range(n)]

    def p_done_within(self, elapsed: float, h: float) -> float:
        """P(T <= elapsed + h | T > elapsed) from the samples."""
        if h < 0:
            return 0.0
        s = self._sorted
        n = len(s)
        lo = bisect.bisect_right(s, elapsed)
        above = n - lo
        if above == 0:
            # Longer than anything seen: assume it ends at the average pace, no faster.
            mean = self.mean()
            return h / (h + mean) if mean > 0 else 1.0
        within = bisect.bisect_right(s, elapsed + h) - lo
        return within / above


class RingStats:
    """Recent attempt resolutions and the answer table derived from them."""

    def __init__(self, maxlen: int, max_elapsed_s: int, horizon_s: int,
                 rebuild_every: int = 20) -> None:
        self._recent: deque[tuple[bool, int]] = deque()
        self._maxlen = maxlen
        self.max_elapsed = max_elapsed_s      # last elapsed bin (ring timeout + 1)
        self.horizon = horizon_s              # tau bins 0..horizon
        self._rebuild_every = rebuild_every
        self._since_rebuild = 0
        self._table: list[list[float]] | None = None
        self._last_human_bin = -1

    def __len__(self) -> int:
        return len(self._recent)

    def add(self, human: bool, seconds: float) -> None:
        """One attempt resolved ``seconds`` after dialling; ``human`` if a person answered."""
        b = max(0, min(self.max_elapsed, int(seconds)))
        self._recent.append((human, b))
        if len(self._recent) > self._maxlen:
            self._recent.popleft()
        self._since_rebuild += 1
        if self._table is not None and self._since_rebuild >= self._rebuild_every:
            self._table = None

    @property
    def table(self) -> list[list[float]]:
        """``G[e][tau]`` for e in 0..max_elapsed, tau in 0..horizon."""
        if self._table is None:
            self._table = self._build()
            self._since_rebuild = 0
        return self._table

    def _build(self) -> list[list[float]]:
        E, H = self.max_elapsed, self.horizon
        size = E + H + 2
        human = [0] * size
        resolved = [0] * size
        for is_human, b in self._recent:
            resolved[b] += 1
            if is_human:
                human[b] += 1
        # unresolved[e]: attempts resolved in bin >= e (still open at e seconds).
        unresolved = [0] * (size + 1)
        for b in range(size - 1, -1, -1):
            unresolved[b] = unresolved[b + 1] + resolved[b]
        # cum_human[b]: humans resolved in bins < b.
        cum_human = [0] * (size + 1)
        for b in range(size):
            cum_human[b + 1] = cum_human[b] + human[b]
        self._last_human_bin = max((b for b in range(size) if human[b]), default=-1)
        table: list[list[float]] = []
        for e in range(E + 1):
            open_ = unresolved[e]
            if open_ == 0:
                table.append([0.0] * (H + 1))
                continue
            base = cum_human[e]
            table.append([(cum_human[min(size, e + tau)] - base) / open_
                          for tau in range(H + 1)])
        return table

    @property
    def last_human_bin(self) -> int:
        """The latest second (bin) after dialling at which a person was seen to answer;
        a line rung longer than that is taken as unanswerable by a person."""
        _ = self.table
        return self._last_human_bin

    def answer_probability(self) -> float:
        """P(a new dial is answered by a person within the horizon)."""
        return self.table[0][self.horizon]


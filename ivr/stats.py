"""Per-tree statistics built from session traces (``IvrSession.trace()``).

For ``GET /api/v1/ivr/{tree}/stats``:

* visits per node: how many times callers entered each node (a repeat counts);
* drop-offs per node: sessions abandoned (caller hung up with nothing achieved) while
  at that node - where the tree loses people;
* outcomes: sessions per outcome;
* containment rate: self-served sessions / all finished sessions. A caller who heard
  their balance and then asked for an agent counts as queued, not contained.

Plain accumulation, no I/O: the server feeds each finished trace in, or replays stored
traces after a restart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import Outcome


@dataclass
class TreeStats:
    tree: str
    sessions: int = 0
    visits: Counter[str] = field(default_factory=Counter)
    drop_offs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    total_seconds: float = 0.0

    def add(self, trace: Mapping[str, Any]) -> None:
        """Account one finished session; traces of other trees or unfinished sessions
        are rejected so a wiring mistake shows up instead of skewing the figures."""
        if trace.get("tree") != self.tree:
            raise ValueError(f"trace of tree {trace.get('tree')!r} given to stats of {self.tree!r}")
        outcome = trace.get("outcome")
        if outcome not in Outcome.ALL:
            raise ValueError(f"trace has no final outcome (got {outcome!r})")
        self.sessions += 1
        self.outcomes[outcome] += 1
        for visit in trace.get("nodes", ()):
            self.visits[visit["node"]] += 1
        if outcome == Outcome.ABANDONED and trace.get("last_node"):
            self.drop_offs[trace["last_node"]] += 1
        start, end = trace.get("started_at"), trace.get("ended_at")
        if start is not None and end is not None:
            self.total_seconds += max(0.0, end - start)

    def extend(self, traces: Iterable[Mapping[str, Any]]) -> TreeStats:
        for t in traces:
            self.add(t)
        return self

    @property
    def containment_rate(self) -> float:
        return self.outcomes[Outcome.SELF_SERVED] / self.sessions if self.sessions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree,
            "sessions": self.sessions,
            "containment_rate": round(self.containment_rate, 4),
            "outcomes": {o: self.outcomes.get(o, 0) for o in Outcome.ALL},
            "visits": dict(sorted(self.visits.items())),
            "drop_offs": dict(sorted(self.drop_offs.items())),
            "avg_seconds": round(self.total_seconds / self.sessions, 2) if self.sessions else 0.0,
        }


class StatsBook:
    """``TreeStats`` for every tree, keyed by tree name."""

    def __init__(self) -> None:
        self._by_tree: dict[str, TreeStats] = {}

    def add(self, trace: Mapping[str, Any]) -> None:
        name = str(trace.get("tree"))
        self._by_tree.setdefault(name, TreeStats(name)).add(trace)

    def get(self, tree: str) -> TreeStats:
        return self._by_tree.get(tree) or TreeStats(tree)

    def trees(self) -> list[str]:
        return sorted(self._by_tree)

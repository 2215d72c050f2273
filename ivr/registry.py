"""The trees in force, reloadable without a restart.

    registry = TreeRegistry("config/ivr")
    result = registry.reload()          # reads the directory; the only I/O here
    tree = registry.for_dnis("1000")    # -> the demo tenant's tree
    session = registry.start_session("1000", ani="+15551234", now=now)

Rules of a reload:

* a file that validates replaces its tree; sessions already running keep the tree
  object they started with (``IvrSession`` holds a reference), new sessions get the new one;
* a file that does not validate is refused with its errors, and the tree loaded before
  (if any) stays in force;
* a deleted file takes its tree out of service;
* two trees claiming the same DNIS: the one already serving it keeps it, the newcomer is
  refused (alphabetical order decides on the first load).

Nothing reads the files except ``reload()``, so the caller decides when (a REST call, a
SIGHUP, a file watcher in the I/O layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .loader import load_tree, tree_files, tree_name
from .nodes import Tree
from .prompts import PromptLibrary
from .schema import TreeValidationError
from .session import CallInfo, IvrSession


@dataclass(frozen=True)
class ReloadResult:
    applied: tuple[str, ...] = ()                      # new or changed, now in force
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    refused: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # name -> errors

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def errors(self) -> list[str]:
        return [e for errs in self.refused.values() for e in errs]


class TreeRegistry:
    def __init__(self, directory: str | Path, library: PromptLibrary | None = None) -> None:
        self.directory = Path(directory)
        self.library = library
        self._trees: dict[str, Tree] = {}
        self._by_dnis: dict[str, str] = {}
        self.generation = 0

    # ------------------------------------------------------------------ queries

    @property
    def trees(self) -> Mapping[str, Tree]:
        return dict(self._trees)

    def names(self) -> list[str]:
        return sorted(self._trees)

    def get(self, name: str) -> Tree | None:
        return self._trees.get(name)

    def for_dnis(self, dnis: str) -> Tree | None:
        name = self._by_dnis.get(str(dnis))
        return self._trees.get(name) if name else None

    def dnis_map(self) -> dict[str, tuple[str, str]]:
        """DNIS -> (tenant, tree name)."""
        return {d: (self._trees[n].tenant, n) for d, n in sorted(self._by_dnis.items())}

    def start_session(self, dnis: str, ani: str, now: float, *, language: str | None = None,
                      call_id: str | None = None) -> IvrSession | None:
        """A session on the tree serving ``dnis`` (None if no tree does)."""
        tree = self.for_dnis(dnis)
        if tree is None:
            return None
        info = CallInfo(ani=ani, dnis=str(dnis), tenant=tree.tenant, language=language,
                        call_id=call_id)
        return IvrSession(tree, info, now, session_id=call_id)

    # ------------------------------------------------------------------ reload

    def reload(self) -> ReloadResult:
        applied: list[str] = []
        unchanged: list[str] = []
        refused: dict[str, tuple[str, ...]] = {}
        seen: set[str] = set()
        files = tree_files(self.directory) if self.directory.is_dir() else []
        candidates: dict[str, Tree] = dict(self._trees)
        for path in files:
            name = tree_name(path)
            seen.add(name)
            try:
                tree = load_tree(path, self.library)
            except TreeValidationError as exc:
                refused[name] = tuple(str(e) for e in exc.errors)
                continue
            old = self._trees.get(name)
            if old is not None and old.digest == tree.digest:
                unchanged.append(name)
                continue
            candidates[name] = tree
            applied.append(name)
        removed = sorted(n for n in self._trees if n not in seen)
        for name in removed:
            candidates.pop(name, None)

        # DNIS ownership: current owners first, then newcomers alphabetically.
        by_dnis: dict[str, str] = {}
        for d, owner in self._by_dnis.items():
            if owner in candidates and d in candidates[owner].dnis:
                by_dnis[d] = owner
        for name in sorted(candidates):
            tree = candidates[name]
            clash = [(d, by_dnis[d]) for d in tree.dnis if by_dnis.get(d, name) != name]
            if clash:
                refused[name] = tuple(f"{tree.source}: tree: dnis {d} is already served by "
                                      f"tree '{other}'" for d, other in clash)
                if name in applied:
                    applied.remove(name)
                if name in self._trees:
                    candidates[name] = self._trees[name]   # the old version stays in force
                    for d in candidates[name].dnis:
                        by_dnis.setdefault(d, name)
                else:
                    del candidates[name]
                continue
            for d in tree.dnis:
                by_dnis[d] = name
        self._by_dnis = {d: n for d, n in by_dnis.items()
                         if n in candidates and d in candidates[n].dnis}
        self._trees = candidates
        if applied or removed:
            self.generation += 1
        return ReloadResult(tuple(sorted(applied)), tuple(sorted(unchanged)), tuple(removed),
                            refused)

"""``ipcc ivr lint``: validate every tree and point out what is legal but unwise.

Errors (the tree would be refused by a reload): anything ``ivr.schema`` rejects, and a
DNIS claimed by two trees.

Warnings:

* a menu more than three menu levels deep, i.e. the shortest way in from the entry
  passes more than three menus (callers get lost; the usual advice is at most three);
* nodes no path reaches;
* named prompts that have no WAV for one of the tree's languages;
* ``file:`` prompts that do not exist;
* a ``say`` node without ``next`` (the call hangs up after it - sometimes intended).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path

from .loader import load_tree, tree_files
from .nodes import MenuNode, PromptSpec, SayNode, Tree
from .schema import TreeValidationError
from .template import is_template

MAX_MENU_DEPTH = 3


def reachable(tree: Tree) -> set[str]:
    seen = {tree.entry}
    todo = [tree.entry]
    while todo:
        for _, target in tree.nodes[todo.pop()].edges():
            if target and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def menu_levels(tree: Tree) -> tuple[dict[str, int], dict[str, str]]:
    """Menu level of every reachable node: the fewest menus a caller passes through to get
    there, the node itself included (0-1 BFS). Going back up ("* for the main menu") does
    not make a menu deeper, because the shortest way in counts.

    Returns (level per node, predecessor on a shortest way in)."""
    def cost(nid: str) -> int:
        return 1 if isinstance(tree.nodes[nid], MenuNode) else 0

    level = {tree.entry: cost(tree.entry)}
    prev: dict[str, str] = {}
    queue: deque[str] = deque([tree.entry])
    while queue:
        nid = queue.popleft()
        for _, target in tree.nodes[nid].edges():
            if not target:
                continue
            d = level[nid] + cost(target)
            if d < level.get(target, 1 << 30):
                level[target] = d
                prev[target] = nid
                if cost(target):
                    queue.append(target)
                else:
                    queue.appendleft(target)
    return level, prev


def deep_menu_paths(tree: Tree, limit: int = MAX_MENU_DEPTH) -> list[list[str]]:
    """For each menu whose level exceeds ``limit``, the shortest way in (node ids)."""
    level, prev = menu_levels(tree)
    out = []
    for nid, lvl in level.items():
        if lvl > limit and isinstance(tree.nodes[nid], MenuNode):
            path = [nid]
            while path[-1] in prev:
                path.append(prev[path[-1]])
            out.append(path[::-1])
    return sorted(out, key=lambda p: (len(p), p))


def _prompt_specs(tree: Tree) -> Iterable[tuple[str, PromptSpec]]:
    for node in tree.nodes.values():
        for attr in ("prompt", "invalid_prompt", "timeout_prompt", "confirm_prompt"):
            spec = getattr(node, attr, None)
            if isinstance(spec, PromptSpec):
                yield node.id, spec


def tree_warnings(tree: Tree) -> list[str]:
    src = tree.source
    out: list[str] = []
    for path in deep_menu_paths(tree):
        menus = [n for n in path if isinstance(tree.nodes[n], MenuNode)]
        out.append(f"{src}: node '{path[-1]}': {len(menus)} menu levels deep (more than "
                   f"{MAX_MENU_DEPTH}): {' -> '.join(path)}")
    live = reachable(tree)
    for nid in tree.nodes:
        if nid not in live:
            out.append(f"{src}: node '{nid}': unreachable from entry '{tree.entry}'")
    for nid, spec in _prompt_specs(tree):
        for lang_key, items in spec.by_lang.items():
            langs = tree.languages if lang_key == "*" else (lang_key,)
            for item in items:
                if item.kind == "prompt":
                    for lang in langs:
                        if not tree.library.has(item.value, lang):
                            out.append(f"{src}: node '{nid}': prompt '{item.value}' has no "
                                       f"recording for language '{lang}'")
                elif item.kind == "file" and not is_template(item.value):
                    p = Path(item.value)
                    if not p.is_absolute():
                        p = Path(src).resolve().parent / p
                    if not p.exists():
                        out.append(f"{src}: node '{nid}': file '{item.value}' does not exist")
    for node in tree.nodes.values():
        if isinstance(node, SayNode) and not node.next:
            out.append(f"{src}: node '{node.id}': say without 'next' hangs up afterwards")
    return out


def lint_paths(paths: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    """Lint files and/or directories of trees; returns (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    dnis_owner: dict[str, str] = {}
    files: list[Path] = []
    for p in paths:
        if not Path(p).exists():
            errors.append(f"{p}: no such file or directory")
            continue
        files.extend(tree_files(p))
    if not files and not errors:
        errors.append("no tree files found")
    for f in files:
        try:
            tree = load_tree(f)
        except TreeValidationError as exc:
            errors.extend(str(e) for e in exc.errors)
            continue
        for d in tree.dnis:
            if d in dnis_owner:
                errors.append(f"{tree.source}: tree: dnis {d} is also claimed by "
                              f"{dnis_owner[d]}")
            else:
                dnis_owner[d] = tree.source
        warnings.extend(tree_warnings(tree))
    return errors, warnings

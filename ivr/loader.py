"""Read tree files from disk (the only I/O of tree handling besides prompt scanning).

A tree's name is its file name without ``.yaml`` (``config/ivr/demo-main.yaml`` ->
``demo-main``). Syntax errors and schema errors both come back as ``TreeError``s naming
the file, so ``ipcc ivr lint`` and the reload registry report them the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .nodes import Tree
from .prompts import PromptLibrary, builtin_library
from .schema import TreeError, TreeValidationError, parse_tree

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "config" / "ivr"


def tree_name(path: str | Path) -> str:
    return Path(path).name.removesuffix(".yaml").removesuffix(".yml")


def _node_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each node id under ``nodes:`` and of each top-level key."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if getattr(key, "value", None) == "nodes" and isinstance(value, yaml.MappingNode):
            for nkey, _ in value.value:
                lines[str(nkey.value)] = nkey.start_mark.line + 1
    return lines


def parse_text(text: str, source: str, library: PromptLibrary | None = None) -> Tree:
    """Parse and validate YAML text; ``source`` is the file path used in messages."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise TreeValidationError([TreeError(source, None, f"YAML syntax: {problem}", line)])
    name = tree_name(source)
    if isinstance(raw, dict) and raw.get("name") not in (None, name):
        raise TreeValidationError([TreeError(
            source, None, f"name '{raw['name']}' differs from the file name '{name}'")])
    lib = library or builtin_library()
    if isinstance(raw, dict) and raw.get("prompts_dir"):
        prompts_dir = Path(str(raw["prompts_dir"]))
        if not prompts_dir.is_absolute():
            prompts_dir = Path(source).resolve().parent / prompts_dir
        if not prompts_dir.is_dir():
            raise TreeValidationError([TreeError(
                source, None, f"prompts_dir '{raw['prompts_dir']}' is not a directory")])
        lib = lib.with_root_first(prompts_dir)
    return parse_tree(raw, source, lines=_node_lines(text), library=lib, name=name)


def load_tree(path: str | Path, library: PromptLibrary | None = None) -> Tree:
    """Read and validate one tree file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TreeValidationError([TreeError(source, None, f"cannot read: {exc.strerror}")])
    return parse_text(text, source, library)


def tree_files(path: str | Path) -> list[Path]:
    """The tree files of a directory (sorted), or the file itself."""
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.iterdir()
                      if q.suffix in (".yaml", ".yml") and not q.name.startswith("."))
    return [p]


def resolve_tree_path(name_or_path: str | Path, directory: str | Path | None = None) -> Path:
    """A path as given if it exists, else ``<dir>/<name>.yaml``."""
    p = Path(name_or_path)
    if p.exists() or os.sep in str(name_or_path) or p.suffix in (".yaml", ".yml"):
        return p
    return Path(directory or DEFAULT_DIR) / f"{name_or_path}.yaml"

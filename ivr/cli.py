"""The ``ipcc ivr`` subcommands: ``lint`` and ``show``.

The main CLI only has to do::

    ivr_parser = subparsers.add_parser("ivr", help="IVR trees")
    ivr.cli.add_subcommands(ivr_parser.add_subparsers(dest="ivr_command", required=True))
    ...
    sys.exit(args.func(args))      # each subcommand sets func(args) -> exit code

``lint`` and ``show`` are also plain functions for the REST API and tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from .lint import lint_paths
from .loader import DEFAULT_DIR, load_tree, resolve_tree_path
from .svg import render_svg


def lint(paths_or_dir: str | Path | Iterable[str | Path] | None = None
         ) -> tuple[list[str], list[str]]:
    """Validate trees; ``None`` means the shipped ``config/ivr`` directory.

    Returns (errors, warnings), each a list of messages naming file, node and problem.
    """
    if paths_or_dir is None:
        paths: list[str | Path] = [DEFAULT_DIR]
    elif isinstance(paths_or_dir, (str, Path)):
        paths = [paths_or_dir]
    else:
        paths = list(paths_or_dir) or [DEFAULT_DIR]
    return lint_paths(paths)


def show(tree_name_or_path: str | Path, out_path: str | Path | None = None,
         directory: str | Path | None = None) -> str:
    """Render a tree (a name in ``config/ivr`` or a path) as SVG; write it if asked.

    Raises ``ivr.schema.TreeValidationError`` for an invalid tree.
    """
    tree = load_tree(resolve_tree_path(tree_name_or_path, directory))
    svg = render_svg(tree)
    if out_path is not None:
        Path(out_path).write_text(svg, encoding="utf-8")
    return svg


def _cmd_lint(args: argparse.Namespace) -> int:
    errors, warnings = lint(args.paths or None)
    for w in warnings:
        print(f"warning: {w}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    if errors or (args.strict and warnings):
        return 1
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .schema import TreeValidationError

    out = args.output
    if out is None and not args.stdout:
        out = f"{Path(str(args.tree)).name.removesuffix('.yaml')}.svg"
    try:
        svg = show(args.tree, out, args.dir)
    except TreeValidationError as exc:
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        return 1
    if args.stdout:
        sys.stdout.write(svg)
    else:
        print(f"wrote {out}")
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lint`` and ``show`` to the subparsers of an ``ipcc ivr`` command."""
    p = subparsers.add_parser("lint", help="validate IVR trees (default: config/ivr)",
                              description="Validate every tree; warn about paths deeper "
                                          "than three menu levels, unreachable nodes and "
                                          "missing prompt recordings.")
    p.add_argument("paths", nargs="*", help="tree files or directories")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.set_defaults(func=_cmd_lint)

    s = subparsers.add_parser("show", help="draw an IVR tree as SVG",
                              description="Render a tree as a layered SVG diagram.")
    s.add_argument("tree", help="tree name (config/ivr/NAME.yaml) or path to a tree file")
    s.add_argument("-o", "--output", help="SVG file to write (default: NAME.svg)")
    s.add_argument("--stdout", action="store_true", help="write the SVG to stdout")
    s.add_argument("--dir", default=None, help="directory to find tree names in")
    s.set_defaults(func=_cmd_show)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m ivr.cli lint|show ...``."""
    parser = argparse.ArgumentParser(prog="ipcc ivr")
    add_subcommands(parser.add_subparsers(dest="ivr_command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

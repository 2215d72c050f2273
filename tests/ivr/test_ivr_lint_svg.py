"""`ipcc ivr lint` and `ipcc ivr show`: warnings, errors, SVG output, CLI wiring."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET

import pytest

from ivr import cli
from ivr.lint import menu_levels
from ivr.loader import DEFAULT_DIR, load_tree
from ivr.svg import render_svg

from .ivr_helpers import DEMO, tree_from, write

SVG = "{http://www.w3.org/2000/svg}"

DEEP = """\
tenant: deep
dnis: ["5000"]
languages: [en, zh]
entry: m1
nodes:
  m1: {kind: menu, prompt: demo_main_menu, options: {"1": m2, "9": q}}
  m2: {kind: menu, prompt: demo_main_menu, options: {"1": m3, "*": m1}}
  m3: {kind: menu, prompt: demo_main_menu, options: {"1": check, "*": m1}}
  check:
    kind: branch
    cases: [{when: {var: language, eq: zh}, goto: m4}]
    default: m4
  m4: {kind: menu, prompt: demo_main_menu, options: {"1": q, "*": m1}}
  q: {kind: queue, queue: deep}
"""

SHALLOW = """\
tenant: shallow
dnis: ["5001"]
entry: m1
nodes:
  m1: {kind: menu, prompt: demo_main_menu, options: {"1": m2, "2": q}}
  m2: {kind: menu, prompt: demo_main_menu, options: {"1": m3, "*": m1}}
  m3: {kind: menu, prompt: demo_main_menu, options: {"1": q, "*": m1, "2": m2}}
  q: {kind: queue, queue: x}
"""


def test_shipped_trees_lint_clean():
    errors, warnings = cli.lint()
    assert errors == [] and warnings == []
    errors, warnings = cli.lint(DEFAULT_DIR)
    assert errors == []


def test_depth_warning_names_the_menu_and_the_way_in(tmp_path):
    p = write(tmp_path, "deep.yaml", DEEP)
    errors, warnings = cli.lint(p)
    assert errors == []
    assert warnings == [(f"{p}: node 'm4': 4 menu levels deep (more than 3): "
                         "m1 -> m2 -> m3 -> check -> m4")]


def test_going_back_up_does_not_count_as_depth(tmp_path):
    p = write(tmp_path, "shallow.yaml", SHALLOW)
    assert cli.lint([p]) == ([], [])
    levels, _ = menu_levels(load_tree(p))
    assert (levels["m1"], levels["m2"], levels["m3"]) == (1, 2, 3)


def test_other_warnings(tmp_path):
    p = write(tmp_path, "w.yaml", """\
    tenant: w
    languages: [en, zh]
    entry: a
    nodes:
      a:
        kind: say
        prompt: [demo_welcome, no_such_prompt, {file: missing.wav}]
      orphan:
        kind: hangup
        prompt: {en: goodbye}
    """)
    errors, warnings = cli.lint(p)
    assert errors == []
    assert f"{p}: node 'orphan': unreachable from entry 'a'" in warnings
    assert f"{p}: node 'a': prompt 'no_such_prompt' has no recording for language 'en'" in warnings
    assert f"{p}: node 'a': prompt 'no_such_prompt' has no recording for language 'zh'" in warnings
    assert f"{p}: node 'a': file 'missing.wav' does not exist" in warnings
    assert f"{p}: node 'a': say without 'next' hangs up afterwards" in warnings
    assert len(warnings) == 5


def test_errors_and_dnis_clash_across_files(tmp_path):
    write(tmp_path, "a.yaml", SHALLOW)
    write(tmp_path, "b.yaml", SHALLOW.replace("tenant: shallow", "tenant: other"))
    write(tmp_path, "c.yaml", SHALLOW.replace('"2": q', '"2": qq'))
    errors, _ = cli.lint(tmp_path)
    assert f"{tmp_path / 'b.yaml'}: tree: dnis 5001 is also claimed by {tmp_path / 'a.yaml'}" \
        in errors
    assert any(e.startswith(f"{tmp_path / 'c.yaml'}: node 'm1'") and "unknown node 'qq'" in e
               for e in errors)


def test_missing_path_is_an_error(tmp_path):
    errors, _ = cli.lint([tmp_path / "nope"])
    assert errors == [f"{tmp_path / 'nope'}: no such file or directory"]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


@pytest.mark.parametrize("path", sorted(DEFAULT_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_svg_is_well_formed_and_contains_every_node_and_edge(path):
    tree = load_tree(path)
    root = _parse(render_svg(tree))
    assert root.tag == f"{SVG}svg"
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert set(groups) == {f"node-{n}" for n in tree.nodes}
    for nid, node in tree.nodes.items():
        texts = [t.text for t in groups[f"node-{nid}"].iter(f"{SVG}text")]
        assert nid in texts and node.kind in texts
    edges = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path")
             if p.get("class") == "edge"}
    expected = {(nid, t) for nid, n in tree.nodes.items() for _, t in n.edges() if t}
    assert edges == expected
    labels = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "edge-label"
              for t in g.iter(f"{SVG}text")]
    assert "3" in labels or tree.name == "acme-main"
    # boxes do not overlap
    rects = [g.find(f"{SVG}rect") for g in groups.values()]
    boxes = [(float(r.get("x")), float(r.get("y")), float(r.get("width")),
              float(r.get("height"))) for r in rects]
    for i, (x, y, w, h) in enumerate(boxes):
        for (x2, y2, w2, h2) in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_svg_escapes_text():
    tree = tree_from("""\
    tenant: "A&B <co>"
    entry: a
    nodes:
      a:
        kind: branch
        label: "Is x < 3 & y > 2?"
        cases: [{when: {var: x, lt: 3}, goto: b}]
        default: b
      b: {kind: hangup, label: 中文标签}
    """)
    root = _parse(render_svg(tree))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Is x < 3 & y > 2?" in texts and "中文标签" in texts and "x < 3" in texts


def test_show_writes_file_and_returns_svg(tmp_path):
    out = tmp_path / "demo.svg"
    svg = cli.show("demo-main", out)
    assert out.read_text(encoding="utf-8") == svg
    assert cli.show(DEMO) == svg


def test_add_subcommands_wires_lint_and_show(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="ipcc")
    top = parser.add_subparsers(dest="command")
    ivr_parser = top.add_parser("ivr")
    cli.add_subcommands(ivr_parser.add_subparsers(dest="ivr_command", required=True))

    deep = write(tmp_path, "deep.yaml", DEEP)
    args = parser.parse_args(["ivr", "lint", str(deep)])
    assert args.func(args) == 0
    assert "4 menu levels deep" in capsys.readouterr().out
    args = parser.parse_args(["ivr", "lint", "--strict", str(deep)])
    assert args.func(args) == 1

    bad = write(tmp_path, "bad.yaml", DEEP.replace("goto: m4", "goto: m5"))
    args = parser.parse_args(["ivr", "lint", str(bad)])
    assert args.func(args) == 1
    assert "unknown node 'm5'" in capsys.readouterr().err

    out = tmp_path / "d.svg"
    args = parser.parse_args(["ivr", "show", str(deep), "-o", str(out)])
    assert args.func(args) == 0 and out.exists()
    args = parser.parse_args(["ivr", "show", str(bad), "-o", str(tmp_path / "x.svg")])
    assert args.func(args) == 1 and not (tmp_path / "x.svg").exists()


def test_module_entry_point(tmp_path, capsys):
    p = write(tmp_path, "shallow.yaml", SHALLOW)
    assert cli.main(["show", str(p), "--stdout"]) == 0
    assert capsys.readouterr().out.startswith("<?xml")

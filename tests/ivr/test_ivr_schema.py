"""Schema validation: every error names the file, the node and the problem."""

from __future__ import annotations

import textwrap

import pytest

from ivr.loader import load_tree, parse_text
from ivr.nodes import BranchNode, CollectNode, MenuNode, QueueNode
from ivr.schema import TreeValidationError

from .ivr_helpers import ACME, DEMO

GOOD = """\
tenant: t1
dnis: ["2000"]
languages: [en, zh]
entry: menu
calendars:
  office: {timezone: UTC, hours: {mon-fri: "09:00-17:00"}}
nodes:
  menu:
    kind: menu
    prompt: demo_main_menu
    options: {"1": sales, "2": check}
  check:
    kind: branch
    cases:
      - when: {open: office}
        goto: sales
    default: bye
  sales:
    kind: queue
    queue: sales
  bye:
    kind: hangup
"""


def errors_of(text: str, source: str = "trees/bad.yaml") -> list[str]:
    with pytest.raises(TreeValidationError) as info:
        parse_text(textwrap.dedent(text), source)
    return [str(e) for e in info.value.errors]


def test_shipped_trees_are_valid():
    demo = load_tree(DEMO)
    acme = load_tree(ACME)
    assert demo.name == "demo-main" and demo.tenant == "demo" and demo.dnis == ("1000",)
    assert acme.name == "acme-main" and acme.tenant == "acme" and "1100" in acme.dnis
    kinds = {n.kind for n in demo.nodes.values()}
    assert kinds == {"menu", "say", "collect", "lookup", "branch", "queue", "callback",
                     "message", "transfer", "language", "hangup"}


def test_good_tree_parses_into_typed_nodes():
    tree = parse_text(GOOD, "good.yaml")
    assert isinstance(tree.nodes["menu"], MenuNode)
    assert tree.nodes["menu"].options == {"1": "sales", "2": "check"}
    assert isinstance(tree.nodes["check"], BranchNode)
    assert isinstance(tree.nodes["sales"], QueueNode)
    assert tree.nodes["menu"].barge_in is True and tree.nodes["bye"].barge_in is False


@pytest.mark.parametrize("edit,node,problem", [
    (("options: {\"1\": sales, \"2\": check}", "options: {\"1\": salse, \"2\": check}"),
     "menu", "option '1' goes to unknown node 'salse' (did you mean 'sales'?)"),
    (("kind: queue", "kind: queu"), "sales", "unknown kind 'queu' (did you mean 'queue'?)"),
    (("    queue: sales", "    queue: sales\n    priorty: 3"), "sales",
     "unknown field 'priorty' for a queue node (did you mean 'priority'?)"),
    (("options: {\"1\": sales, \"2\": check}", "options: {\"12\": sales}"), "menu",
     "options: '12' is not a keypad key"),
    (("{open: office}", "{open: ofice}"), "check", "unknown calendar 'ofice'"),
    (("{open: office}", "{var: language, equals: en}"), "check", "unknown operator 'equals'"),
    (("default: bye", "default: nowhere"), "check", "field 'default' goes to unknown node"),
    (("    queue: sales\n", "    skills: {sales: 11}\n"), "sales",
     "missing required field 'queue'"),
    (("    queue: sales\n", "    queue: sales\n    skills: {sales: 11}\n"), "sales",
     "level of 'sales' must be an integer 1..10"),
    (("    prompt: demo_main_menu\n", ""), "menu", "a menu node needs a 'prompt'"),
    (("prompt: demo_main_menu", "prompt: [{currency: '${x}', code: XYZ}]"), "menu",
     "unsupported currency 'XYZ'"),
    (("prompt: demo_main_menu", "prompt: 'hello ${x'"), "menu", "is not a prompt name"),
    (("prompt: demo_main_menu", "prompt: [{text: 'hi ${a b}'}]"), "menu",
     "bad variable reference"),
    (("prompt: demo_main_menu", "prompt: {fr: demo_main_menu}"), "menu",
     "needs exactly one of prompt, file"),
])
def test_node_errors_name_file_node_problem(edit, node, problem):
    old, new = edit
    assert old in GOOD
    errs = errors_of(GOOD.replace(old, new, 1))
    matching = [e for e in errs if e.startswith(f"trees/bad.yaml: node '{node}'") and problem in e]
    assert matching, errs


@pytest.mark.parametrize("edit,problem", [
    (("entry: menu", "entry: menus"), "entry 'menus' is not a node (did you mean 'menu'?)"),
    (("languages: [en, zh]", "languages: [en, fr]"), "language 'fr' is not supported"),
    (("timezone: UTC", "timezone: Mars/Olympus"), "calendar 'office': unknown timezone"),
    (("\"09:00-17:00\"", "\"17:00-09:00\""), "end before they start"),
    (("tenant: t1", "tenant: t1\nlangauges: [en]"), "unknown top-level field 'langauges'"),
    (("dnis: [\"2000\"]", "dnis: [\"20x0\"]"), "dnis '20x0' is not a number"),
])
def test_tree_level_errors(edit, problem):
    old, new = edit
    errs = errors_of(GOOD.replace(old, new, 1))
    assert any(e.startswith("trees/bad.yaml: tree") and problem in e for e in errs), errs


def test_errors_carry_line_numbers_and_all_are_reported():
    text = GOOD.replace("goto: sales", "goto: nowhere").replace("queue: sales", "queue: ''\n"
                                                                "    retries: 1")
    errs = errors_of(text)
    assert len(errs) >= 2
    branch_err = next(e for e in errs if "nowhere" in e)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("  check:"))
    assert f"node 'check' (line {line})" in branch_err
    assert any("unknown field 'retries' for a queue node" in e for e in errs)


def test_collect_field_errors():
    text = GOOD.replace("""  bye:
    kind: hangup""", """  acct:
    kind: collect
    prompt: demo_enter_account
    var: account
    min: 9
    max: 4
    validator: crc32
    terminator: x
    next: bye
  bye:
    kind: hangup""")
    errs = errors_of(text)
    assert any("node 'acct'" in e and "min=9 max=4" in e for e in errs), errs
    assert any("node 'acct'" in e and "'crc32' is not one of luhn, mod11, none" in e
               for e in errs), errs


def test_collect_defaults():
    text = GOOD.replace("""  bye:
    kind: hangup""", """  acct:
    kind: collect
    prompt: demo_enter_account
    var: account
    validator: mod11
    next: bye
  bye:
    kind: hangup""")
    node = parse_text(text, "ok.yaml").nodes["acct"]
    assert isinstance(node, CollectNode)
    assert (node.terminator, node.mask, node.validator, node.barge_in) == ("#", "last4",
                                                                         "mod11", True)


def test_language_option_must_be_a_tree_language():
    text = GOOD.replace("languages: [en, zh]", "languages: [en]").replace("""  bye:
    kind: hangup""", """  lang:
    kind: language
    prompt: lang_choice
    options: {"1": en, "2": zh}
    next: bye
  bye:
    kind: hangup""")
    errs = errors_of(text)
    assert any("node 'lang'" in e and "option '2' selects 'zh'" in e for e in errs), errs


def test_loop_without_input_is_an_error():
    text = GOOD.replace("default: bye", "default: check2").replace("""  bye:
    kind: hangup""", """  check2:
    kind: branch
    cases:
      - when: {var: language, eq: en}
        goto: check
    default: bye
  bye:
    kind: hangup""")
    errs = errors_of(text)
    assert any("loop without any prompt or input: check -> check2 -> check" in e
               or "loop without any prompt or input: check2 -> check -> check2" in e
               for e in errs), errs


def test_yaml_syntax_error_names_file_and_line():
    errs = errors_of("tenant: x\nnodes:\n  a: [unclosed\n", "trees/broken.yaml")
    assert errs[0].startswith("trees/broken.yaml: tree (line")
    assert "YAML syntax" in errs[0]


def test_not_a_mapping():
    errs = errors_of("- just\n- a list\n")
    assert errs == [("trees/bad.yaml: tree: the file must hold a mapping (tree fields and "
                     "'nodes')")]


def test_name_must_match_file(tmp_path):
    p = tmp_path / "alpha.yaml"
    p.write_text("name: beta\n" + GOOD)
    with pytest.raises(TreeValidationError) as info:
        load_tree(p)
    assert "name 'beta' differs from the file name 'alpha'" in str(info.value)


def test_unreadable_file_is_a_tree_error(tmp_path):
    with pytest.raises(TreeValidationError) as info:
        load_tree(tmp_path / "nope.yaml")
    assert str(info.value).startswith(f"{tmp_path / 'nope.yaml'}: tree: cannot read")

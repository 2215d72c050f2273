"""Validate a parsed YAML tree and build :class:`ivr.nodes.Tree`.

Every problem is collected (not just the first) as a :class:`TreeError` that names the
file, the node and the problem, e.g.::

    config/ivr/demo-main.yaml: node 'main_menu' (line 40): option '4' goes to unknown node 'internt'

Unknown fields are errors (a typo would otherwise silently fall back to a default), with
a "did you mean" hint. The full format is documented in docs/ivr.md.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .calendar import Calendar, CalendarError, parse_calendar
from .checkdigit import VALIDATORS
from .conditions import parse_condition
from .nodes import (
    KINDS,
    SAY_KINDS,
    BranchNode,
    CallbackNode,
    Case,
    CollectNode,
    HangupNode,
    LanguageNode,
    LookupNode,
    MenuNode,
    MessageNode,
    Node,
    PriorityRule,
    PromptSpec,
    QueueNode,
    SayItem,
    SayNode,
    TransferNode,
    Tree,
)
from .prompts import PromptLibrary
from .speech import CURRENCIES, LANGS
from .template import is_template, template_errors

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_PROMPT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DIGIT_KEYS = set("0123456789*#")
_DNIS = re.compile(r"^\+?[0-9]+$")
_NUMBER = re.compile(r"^\+?[0-9*#]+$")

TREE_KEYS = ("name", "description", "tenant", "dnis", "languages", "default_language", "entry",
             "calendars", "prompts_dir", "nodes")
COMMON_KEYS = ("kind", "label", "prompt", "barge_in", "served")
_INPUT_KEYS = ("timeout", "retries", "invalid_prompt", "timeout_prompt", "on_failure")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "menu": ("options",) + _INPUT_KEYS,
    "language": ("options", "set", "next") + _INPUT_KEYS,
    "say": ("next",),
    "collect": ("var", "min", "max", "terminator", "inter_digit_timeout", "validator", "mask",
                "next") + _INPUT_KEYS,
    "lookup": ("query", "params", "into", "timeout", "next", "on_error"),
    "branch": ("cases", "default"),
    "queue": ("queue", "skills", "priority", "data"),
    "callback": ("queue", "number", "accept_digit", "decline_digit", "skills", "priority",
                 "confirm_prompt", "next", "on_decline") + _INPUT_KEYS,
    "message": ("queue", "max_seconds", "min_seconds", "beep", "skills", "priority", "next",
                "on_empty"),
    "transfer": ("number",),
    "hangup": (),
}
BARGE_IN_DEFAULT = {"menu", "collect", "language", "callback"}


@dataclass(frozen=True)
class TreeError:
    source: str
    node: str | None
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"node '{self.node}'" if self.node else "tree"
        if self.line:
            where += f" (line {self.line})"
        return f"{self.source}: {where}: {self.problem}"


class TreeValidationError(ValueError):
    def __init__(self, errors: list[TreeError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class _Bad(Exception):
    """Internal: a field could not be parsed (already reported)."""


def _hint(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Checker:
    def __init__(self, source: str, lines: Mapping[str, int]) -> None:
        self.source = source
        self.lines = lines
        self.errors: list[TreeError] = []
        self.node: str | None = None
        self.refs: list[tuple[str, str, str]] = []    # (node, what, target)
        self.languages: tuple[str, ...] = LANGS
        self.calendars: dict[str, Calendar] = {}

    def err(self, problem: str, node: str | None = "") -> None:
        who = self.node if node == "" else node
        self.errors.append(TreeError(self.source, who, problem, self.lines.get(who or "")))

    # ---------------------------------------------------------------- scalar fields

    def field(self, raw: Mapping[str, Any], key: str, conv: Callable[[Any], Any],
              default: Any = None, required: bool = False) -> Any:
        if key not in raw or raw[key] is None:
            if required:
                self.err(f"missing required field '{key}'")
                raise _Bad
            return default
        try:
            return conv(raw[key])
        except (TypeError, ValueError) as exc:
            # report and go on with the default, so one node's other problems show too
            self.err(f"field '{key}': {exc}")
            if required:
                raise _Bad from None
            return default

    def target(self, raw: Mapping[str, Any], key: str, required: bool = True) -> Any:
        value = self.field(raw, key, _text, required=required)
        if value is not None:
            self.refs.append((self.node or "", f"field '{key}'", value))
        return value

    # ---------------------------------------------------------------- prompts

    def prompt(self, raw: Any, key: str) -> PromptSpec | None:
        if raw is None:
            return None
        if isinstance(raw, Mapping) and raw and all(k in LANGS or k == "*" for k in raw):
            by_lang = {}
            for lang, items in raw.items():
                if lang != "*" and lang not in self.languages:
                    self.err(f"{key}: language '{lang}' is not one of the tree's languages "
                             f"{list(self.languages)}")
                by_lang[str(lang)] = self.items(items, f"{key}.{lang}")
            return PromptSpec(by_lang)
        return PromptSpec({"*": self.items(raw, key)})

    def items(self, raw: Any, key: str) -> tuple[SayItem, ...]:
        raw_list = raw if isinstance(raw, list) else [raw]
        if not raw_list:
            self.err(f"{key}: empty prompt")
        out = []
        for i, item in enumerate(raw_list):
            where = f"{key}[{i}]" if isinstance(raw, list) else key
            parsed = self.item(item, where)
            if parsed is not None:
                out.append(parsed)
        return tuple(out)

    def item(self, raw: Any, where: str) -> SayItem | None:
        if isinstance(raw, str):
            if not _PROMPT_NAME.match(raw):
                self.err(f"{where}: '{raw}' is not a prompt name (letters, digits, _ . -); "
                         "use {text: ...} for text")
                return None
            return SayItem("prompt", raw)
        if not isinstance(raw, Mapping):
            self.err(f"{where}: expected a prompt name or a mapping, got {type(raw).__name__}")
            return None
        kinds = [k for k in raw if k in SAY_KINDS]
        if len(kinds) != 1:
            self.err(f"{where}: needs exactly one of {', '.join(SAY_KINDS)}, got "
                     f"{sorted(map(str, raw))}")
            return None
        kind = kinds[0]
        extra = set(raw) - {kind} - ({"code"} if kind == "currency" else set()) \
            - ({"year"} if kind == "date" else set())
        if extra:
            self.err(f"{where}: unknown field(s) {sorted(map(str, extra))} in a '{kind}' item")
        value = raw[kind]
        if kind == "text":
            texts = value if isinstance(value, Mapping) else {"*": value}
            for lang, text in texts.items():
                if not isinstance(text, str) or not text.strip():
                    self.err(f"{where}: text for '{lang}' must be a non-empty string")
                else:
                    self.template(text, where)
            return SayItem("text", dict(texts))
        if kind == "prompt" and not (isinstance(value, str) and _PROMPT_NAME.match(value)):
            self.err(f"{where}: bad prompt name {value!r}")
            return None
        if value is None or (isinstance(value, str) and not value.strip()):
            self.err(f"{where}: '{kind}' needs a value")
            return None
        if isinstance(value, str):
            self.template(value, where)
        code = str(raw.get("code", "USD"))
        if kind == "currency":
            if is_template(code):
                self.template(code, where)
            elif code.upper() not in CURRENCIES:
                self.err(f"{where}: unsupported currency '{code}' (have {', '.join(CURRENCIES)})")
        year = raw.get("year", False)
        if not isinstance(year, bool):
            self.err(f"{where}: 'year' must be true or false")
            year = False
        return SayItem(kind, value, currency=code.upper() if not is_template(code) else code,
                       year=year)

    def template(self, text: str, where: str) -> None:
        for problem in template_errors(text):
            self.err(f"{where}: {problem}")

    # ---------------------------------------------------------------- composite fields

    def digit_map(self, raw: Mapping[str, Any], key: str, values_are_targets: bool) -> dict[str, str]:
        options = raw.get(key)
        if not isinstance(options, Mapping) or not options:
            self.err(f"'{key}' must map keypad digits to {'nodes' if values_are_targets else 'values'}")
            raise _Bad
        out = {}
        for digit, value in options.items():
            d = str(digit)
            if len(d) != 1 or d not in _DIGIT_KEYS:
                self.err(f"{key}: '{d}' is not a keypad key (0-9, *, #)")
                continue
            out[d] = _text(value)
            if values_are_targets:
                self.refs.append((self.node or "", f"option '{d}'", out[d]))
        return out

    def skills(self, raw: Mapping[str, Any]) -> dict[str, int]:
        skills = raw.get("skills") or {}
        if not isinstance(skills, Mapping):
            self.err("'skills' must map skill names to levels 1..10")
            return {}
        out = {}
        for name, level in skills.items():
            self.template(str(name), "skills")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
                self.err(f"skills: level of '{name}' must be an integer 1..10, got {level!r}")
                continue
            out[str(name)] = level
        return out

    def priority(self, raw: Mapping[str, Any]) -> Any:
        p = raw.get("priority", 0)
        if isinstance(p, bool):
            self.err("'priority' must be an integer, a template or {var, map, default}")
            return 0
        if isinstance(p, int):
            return p
        if isinstance(p, str) and is_template(p):
            self.template(p, "priority")
            return p
        if isinstance(p, Mapping):
            unknown = set(p) - {"var", "map", "default"}
            mapping = p.get("map")
            if unknown or "var" not in p or not isinstance(mapping, Mapping):
                self.err("priority rule needs 'var' and 'map' (and optional 'default')")
                return 0
            bad = [k for k, v in mapping.items() if isinstance(v, bool) or not isinstance(v, int)]
            default = p.get("default", 0)
            if bad or isinstance(default, bool) or not isinstance(default, int):
                self.err("priority rule values must be integers")
                return 0
            return PriorityRule(str(p["var"]), {str(k): v for k, v in mapping.items()}, default)
        self.err(f"'priority' must be an integer, a template or {{var, map, default}}, got {p!r}")
        return 0


def _text(v: Any) -> str:
    if isinstance(v, (Mapping, list)) or v is None:
        raise ValueError(f"expected a string, got {type(v).__name__}")
    return str(v)


def _nonneg_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ValueError(f"expected a number >= 0, got {v!r}")
    return float(v)


def _pos_float(v: Any) -> float:
    f = _nonneg_float(v)
    if f <= 0:
        raise ValueError(f"expected a number > 0, got {v!r}")
    return f


def _nonneg_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected an integer >= 0, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"expected true or false, got {v!r}")
    return v


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        s = str(v)
        if s not in options:
            raise ValueError(f"'{s}' is not one of {', '.join(options)}")
        return s
    return conv


def _terminator(v: Any) -> str | None:
    s = str(v)
    if s in ("none", ""):
        return None
    if s not in ("#", "*"):
        raise ValueError(f"terminator must be '#', '*' or none, got {s!r}")
    return s


def _number(v: Any) -> str:
    s = str(v)
    if not (is_template(s) or _NUMBER.match(s)):
        raise ValueError(f"'{s}' is not a dialable number (digits, optional leading +)")
    return s


# ------------------------------------------------------------------ per-kind parsers


def _common(c: _Checker, node_id: str, kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": kind,
        "label": c.field(raw, "label", _text, default=""),
        "prompt": c.prompt(raw.get("prompt"), "prompt"),
        "barge_in": c.field(raw, "barge_in", _bool, default=kind in BARGE_IN_DEFAULT),
        "served": c.field(raw, "served", _bool, default=False),
    }


def _input(c: _Checker, raw: Mapping[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    return {
        "timeout": c.field(raw, "timeout", _pos_float, default=timeout),
        "retries": c.field(raw, "retries", _nonneg_int, default=2),
        "invalid_prompt": c.prompt(raw.get("invalid_prompt"), "invalid_prompt"),
        "timeout_prompt": c.prompt(raw.get("timeout_prompt"), "timeout_prompt"),
        "on_failure": c.target(raw, "on_failure", required=False),
    }


def _parse_node(c: _Checker, node_id: str, kind: str, raw: Mapping[str, Any]) -> Node:
    base = _common(c, node_id, kind, raw)
    if kind in ("menu", "say", "collect", "language", "callback") and base["prompt"] is None \
            and not (kind == "language" and raw.get("set")):
        c.err(f"a {kind} node needs a 'prompt'")
    if kind == "menu":
        return MenuNode(**base, **_input(c, raw), options=c.digit_map(raw, "options", True))
    if kind == "language":
        set_lang = c.field(raw, "set", _text)
        if set_lang is not None:
            if set_lang not in c.languages:
                c.err(f"'set: {set_lang}' is not one of the tree's languages {list(c.languages)}")
            options: dict[str, str] = {}
        else:
            options = c.digit_map(raw, "options", False)
            for d, lang in options.items():
                if lang not in c.languages:
                    c.err(f"option '{d}' selects '{lang}', not one of the tree's languages "
                          f"{list(c.languages)}")
        return LanguageNode(**base, **_input(c, raw), options=options, set=set_lang,
                            next=c.target(raw, "next"))
    if kind == "say":
        return SayNode(**base, next=c.target(raw, "next", required=False))
    if kind == "collect":
        var = c.field(raw, "var", _text, required=True)
        if not _ID.match(var):
            c.err(f"'var: {var}' is not a valid variable name")
        lo = c.field(raw, "min", _nonneg_int, default=1)
        hi = c.field(raw, "max", _nonneg_int, default=20)
        if hi < 1 or lo > hi:
            c.err(f"digits: need 1 <= max and min <= max, got min={lo} max={hi}")
        return CollectNode(
            **base, **_input(c, raw, timeout=8.0), var=var, min_digits=lo, max_digits=hi,
            terminator=c.field(raw, "terminator", _terminator, default="#"),
            inter_digit_timeout=c.field(raw, "inter_digit_timeout", _pos_float, default=4.0),
            validator=c.field(raw, "validator", _choice(VALIDATORS), default="none"),
            mask=c.field(raw, "mask", _choice(("last4", "all", "none")), default="last4"),
            next=c.target(raw, "next"))
    if kind == "lookup":
        params = raw.get("params") or {}
        if not isinstance(params, Mapping):
            c.err("'params' must be a mapping")
            params = {}
        for k, v in params.items():
            if isinstance(v, str):
                c.template(v, f"params.{k}")
        into = c.field(raw, "into", _text, required=True)
        if not _ID.match(into) or "." in into:
            c.err(f"'into: {into}' is not a valid variable name")
        return LookupNode(**base, query=c.field(raw, "query", _text, required=True),
                          params=dict(params), into=into,
                          timeout=c.field(raw, "timeout", _pos_float, default=5.0),
                          next=c.target(raw, "next"), on_error=c.target(raw, "on_error"))
    if kind == "branch":
        cases_raw = raw.get("cases")
        if not isinstance(cases_raw, list) or not cases_raw:
            c.err("'cases' must be a non-empty list of {when: condition, goto: node}")
            raise _Bad
        cases = []
        for i, case in enumerate(cases_raw):
            if not isinstance(case, Mapping) or set(case) != {"when", "goto"}:
                c.err(f"cases[{i}]: needs exactly 'when' and 'goto'")
                continue
            try:
                cond = parse_condition(case["when"], c.calendars)
            except ValueError as exc:
                c.err(f"cases[{i}]: {exc}")
                continue
            target = _text(case["goto"])
            c.refs.append((node_id, f"cases[{i}]", target))
            cases.append(Case(cond, target))
        return BranchNode(**base, cases=tuple(cases), default=c.target(raw, "default"))
    if kind == "queue":
        queue = c.field(raw, "queue", _text, required=True)
        c.template(queue, "queue")
        data = raw.get("data") or {}
        if not isinstance(data, Mapping):
            c.err("'data' must be a mapping")
            data = {}
        return QueueNode(**base, queue=queue, skills=c.skills(raw), priority=c.priority(raw),
                         data=dict(data))
    if kind == "callback":
        inp = _input(c, raw)
        accept = c.field(raw, "accept_digit", _text, default="1")
        decline = c.field(raw, "decline_digit", _text, default="2")
        if accept == decline or not {accept, decline} <= _DIGIT_KEYS:
            c.err(f"accept_digit '{accept}' and decline_digit '{decline}' must be two "
                  "different keypad keys")
        return CallbackNode(
            **base, **inp, queue=c.field(raw, "queue", _text, required=True),
            number=c.field(raw, "number", _number, default="${ANI}"),
            accept_digit=accept, decline_digit=decline, skills=c.skills(raw),
            priority=c.priority(raw), confirm_prompt=c.prompt(raw.get("confirm_prompt"),
                                                              "confirm_prompt"),
            next=c.target(raw, "next", required=False), on_decline=c.target(raw, "on_decline"))
    if kind == "message":
        max_s = c.field(raw, "max_seconds", _pos_float, default=120.0)
        min_s = c.field(raw, "min_seconds", _nonneg_float, default=1.0)
        if min_s > max_s:
            c.err(f"min_seconds {min_s} is above max_seconds {max_s}")
        return MessageNode(**base, queue=c.field(raw, "queue", _text, required=True),
                           max_seconds=max_s, min_seconds=min_s,
                           beep=c.field(raw, "beep", _bool, default=True),
                           skills=c.skills(raw), priority=c.priority(raw),
                           next=c.target(raw, "next", required=False),
                           on_empty=c.target(raw, "on_empty", required=False))
    if kind == "transfer":
        return TransferNode(**base, number=c.field(raw, "number", _number, required=True))
    return HangupNode(**base)


# ------------------------------------------------------------------ the tree


def parse_tree(raw: Any, source: str, *, lines: Mapping[str, int] | None = None,
               library: PromptLibrary | None = None, name: str | None = None) -> Tree:
    """Validate ``raw`` (parsed YAML) and build the tree, or raise ``TreeValidationError``.

    ``lines`` maps node ids (and top-level keys) to line numbers for messages;
    ``name`` defaults to the tree's ``name:`` field.
    """
    c = _Checker(source, lines or {})
    if not isinstance(raw, Mapping):
        c.err("the file must hold a mapping (tree fields and 'nodes')", None)
        raise TreeValidationError(c.errors)
    for key in raw:
        if key not in TREE_KEYS:
            c.err(f"unknown top-level field '{key}'{_hint(str(key), TREE_KEYS)}", None)

    def top(key: str, conv: Callable[[Any], Any], default: Any = None,
            required: bool = False) -> Any:
        c.node = None
        try:
            return c.field(raw, key, conv, default=default, required=required)
        except _Bad:
            return default

    tree_name = name or top("name", _text, default="") or source
    tenant = top("tenant", _text, default="default")
    langs_raw = raw.get("languages", ["en"])
    if not isinstance(langs_raw, list) or not langs_raw:
        c.err("'languages' must be a non-empty list", None)
        langs_raw = ["en"]
    languages = tuple(str(x) for x in langs_raw)
    for lang in languages:
        if lang not in LANGS:
            c.err(f"language '{lang}' is not supported (have {', '.join(LANGS)})", None)
    c.languages = languages
    default_language = top("default_language", _text, default=languages[0])
    if default_language not in languages:
        c.err(f"default_language '{default_language}' is not in languages {list(languages)}",
              None)
    dnis_raw = raw.get("dnis", [])
    dnis_list = dnis_raw if isinstance(dnis_raw, list) else [dnis_raw]
    dnis = tuple(str(d) for d in dnis_list)
    for d in dnis:
        if not _DNIS.match(d):
            c.err(f"dnis '{d}' is not a number", None)

    cal_raw = raw.get("calendars") or {}
    if not isinstance(cal_raw, Mapping):
        c.err("'calendars' must map names to calendars", None)
        cal_raw = {}
    for cal_name, spec in cal_raw.items():
        try:
            c.calendars[str(cal_name)] = parse_calendar(str(cal_name), spec)
        except CalendarError as exc:
            c.err(f"calendar '{cal_name}': {exc}", None)

    nodes_raw = raw.get("nodes")
    nodes: dict[str, Node] = {}
    if not isinstance(nodes_raw, Mapping) or not nodes_raw:
        c.err("'nodes' must be a non-empty mapping of node id -> node", None)
        nodes_raw = {}
    for node_id, node_raw in nodes_raw.items():
        nid = str(node_id)
        c.node = nid
        if not _ID.match(nid):
            c.err("node id must start with a letter or _ and hold letters, digits, _ . -")
        if not isinstance(node_raw, Mapping):
            c.err("a node must be a mapping with a 'kind'")
            continue
        kind = node_raw.get("kind")
        if kind not in KINDS:
            c.err(f"unknown kind {kind!r}{_hint(str(kind), KINDS)} (kinds: "
                  f"{', '.join(KINDS)})" if kind else "missing 'kind'")
            continue
        allowed = set(COMMON_KEYS) | set(KIND_KEYS[kind])
        for key in node_raw:
            if key not in allowed:
                c.err(f"unknown field '{key}' for a {kind} node{_hint(str(key), allowed)}")
        try:
            nodes[nid] = _parse_node(c, nid, kind, node_raw)
        except _Bad:
            continue
    c.node = None

    entry = top("entry", _text, required=True)
    if entry is not None and nodes_raw and entry not in nodes_raw:
        c.err(f"entry '{entry}' is not a node{_hint(entry, nodes_raw)}", None)
    for node_id, what, target in c.refs:
        if target not in nodes_raw:
            c.err(f"{what} goes to unknown node '{target}'{_hint(target, nodes_raw)}", node_id)
    if not c.errors:
        _check_instant_loops(c, nodes)
    if c.errors:
        raise TreeValidationError(c.errors)
    lib = library or PromptLibrary()
    return Tree(
        name=str(tree_name), source=source, tenant=str(tenant), entry=str(entry), nodes=nodes,
        dnis=dnis, languages=languages, default_language=str(default_language),
        calendars=dict(c.calendars), description=str(raw.get("description") or ""),
        library=lib, digest=_digest(raw),
    )


def _check_instant_loops(c: _Checker, nodes: Mapping[str, Node]) -> None:
    """A loop through nodes that never wait (branches, prompt-less language setters)
    would spin forever inside one ``handle`` call."""

    def instant(n: Node) -> bool:
        return isinstance(n, BranchNode) or (isinstance(n, LanguageNode) and bool(n.set)
                                             and n.prompt is None)

    state: dict[str, int] = {}   # 1 = on stack, 2 = done

    def visit(nid: str, path: list[str]) -> None:
        state[nid] = 1
        for _, target in nodes[nid].edges():
            if target in nodes and instant(nodes[target]):
                if state.get(target) == 1:
                    loop = path[path.index(target):] + [target] if target in path else [target]
                    c.err("loop without any prompt or input: " + " -> ".join(loop), target)
                elif target not in state:
                    visit(target, path + [target])
        state[nid] = 2

    for nid, node in nodes.items():
        if instant(node) and nid not in state:
            visit(nid, [nid])


def _digest(raw: Any) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]

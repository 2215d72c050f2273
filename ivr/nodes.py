"""The validated form of an IVR tree: frozen dataclasses, one per node kind.

``ivr.schema`` builds these from YAML and is the only place that checks input; the
interpreter, lint and the SVG renderer trust them. Each node lists its outgoing edges
(``edges()``) so graph code needs no per-kind knowledge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .calendar import Calendar
from .conditions import Condition, describe
from .prompts import PromptLibrary

SAY_KINDS = ("prompt", "file", "number", "digits", "currency", "date", "text")


@dataclass(frozen=True)
class SayItem:
    """One piece of a spoken prompt.

    ``value`` is a prompt name (``prompt``), a path (``file``), a template giving the
    value to speak (``number``/``digits``/``currency``/``date``) or the text for TTS
    (``text``). ``currency`` holds the currency code (a template too) for money.
    """

    kind: str
    value: Any
    currency: str = "USD"
    year: bool = False


@dataclass(frozen=True)
class PromptSpec:
    """Items per language; key ``*`` applies to every language without its own list."""

    by_lang: Mapping[str, tuple[SayItem, ...]]

    def items(self, lang: str) -> tuple[SayItem, ...]:
        if lang in self.by_lang:
            return self.by_lang[lang]
        if "*" in self.by_lang:
            return self.by_lang["*"]
        return next(iter(self.by_lang.values()), ())

    def prompt_names(self) -> set[tuple[str, str]]:
        """(lang or '*', name) of every named prompt used, for lint."""
        return {(lang, i.value) for lang, items in self.by_lang.items()
                for i in items if i.kind == "prompt"}


@dataclass(frozen=True)
class PriorityRule:
    """Priority from a variable: ``{var: customer.value_tier, map: {gold: 10}, default: 0}``."""

    var: str
    mapping: Mapping[str, int]
    default: int = 0


Priority = int | str | PriorityRule  # str: a template rendering to an int


@dataclass(frozen=True)
class Node:
    id: str
    kind: str = ""
    label: str = ""
    prompt: PromptSpec | None = None
    barge_in: bool = False
    served: bool = False    # reaching the end of this node's prompt counts as self-service

    def edges(self) -> list[tuple[str, str]]:
        """(label, target id) for every outgoing edge."""
        return []


@dataclass(frozen=True)
class _Input(Node):
    timeout: float = 5.0
    retries: int = 2
    invalid_prompt: PromptSpec | None = None
    timeout_prompt: PromptSpec | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class MenuNode(_Input):
    options: Mapping[str, str] = field(default_factory=dict)

    def edges(self) -> list[tuple[str, str]]:
        out = [(digit, target) for digit, target in self.options.items()]
        if self.on_failure:
            out.append(("failure", self.on_failure))
        return out


@dataclass(frozen=True)
class LanguageNode(_Input):
    options: Mapping[str, str] = field(default_factory=dict)   # digit -> language
    set: str | None = None                                      # set without asking
    next: str = ""

    def edges(self) -> list[tuple[str, str]]:
        if self.set:
            return [(f"lang={self.set}", self.next)]
        label = ", ".join(f"{d}:{lang}" for d, lang in self.options.items())
        out = [(label or "next", self.next)]
        if self.on_failure and self.on_failure != self.next:
            out.append(("failure", self.on_failure))
        return out


@dataclass(frozen=True)
class SayNode(Node):
    next: str | None = None

    def edges(self) -> list[tuple[str, str]]:
        return [("next", self.next)] if self.next else []


@dataclass(frozen=True)
class CollectNode(_Input):
    var: str = ""
    min_digits: int = 1
    max_digits: int = 20
    terminator: str | None = "#"
    inter_digit_timeout: float = 4.0
    validator: str = "none"
    mask: str = "last4"
    next: str = ""

    def edges(self) -> list[tuple[str, str]]:
        out = [(f"{self.var} ok", self.next)]
        if self.on_failure:
            out.append(("failure", self.on_failure))
        return out


@dataclass(frozen=True)
class LookupNode(Node):
    query: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    into: str = ""
    timeout: float = 5.0
    next: str = ""
    on_error: str = ""

    def edges(self) -> list[tuple[str, str]]:
        return [("ok", self.next), ("error", self.on_error)]


@dataclass(frozen=True)
class Case:
    when: Condition
    goto: str


@dataclass(frozen=True)
class BranchNode(Node):
    cases: tuple[Case, ...] = ()
    default: str = ""

    def edges(self) -> list[tuple[str, str]]:
        return [(describe(c.when), c.goto) for c in self.cases] + [("else", self.default)]


@dataclass(frozen=True)
class QueueNode(Node):
    queue: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)   # keys may be templates
    priority: Priority = 0
    data: Mapping[str, Any] = field(default_factory=dict)      # extra fields for the agent


@dataclass(frozen=True)
class CallbackNode(_Input):
    queue: str = ""
    number: str = "${ANI}"
    accept_digit: str = "1"
    decline_digit: str = "2"
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: Priority = 0
    confirm_prompt: PromptSpec | None = None
    next: str | None = None        # after accepting (e.g. goodbye); none: hang up
    on_decline: str = ""

    def edges(self) -> list[tuple[str, str]]:
        out = [(f"{self.accept_digit}: accept", self.next)] if self.next else []
        out.append((f"{self.decline_digit}: decline", self.on_decline))
        if self.on_failure and self.on_failure != self.on_decline:
            out.append(("failure", self.on_failure))
        return out


@dataclass(frozen=True)
class MessageNode(Node):
    queue: str = ""
    max_seconds: float = 120.0
    min_seconds: float = 1.0
    beep: bool = True
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: Priority = 0
    next: str | None = None
    on_empty: str | None = None

    def edges(self) -> list[tuple[str, str]]:
        out = [("recorded", self.next)] if self.next else []
        if self.on_empty and self.on_empty != self.next:
            out.append(("empty", self.on_empty))
        return out


@dataclass(frozen=True)
class TransferNode(Node):
    number: str = ""


@dataclass(frozen=True)
class HangupNode(Node):
    pass


KINDS: dict[str, type[Node]] = {
    "menu": MenuNode, "say": SayNode, "collect": CollectNode, "lookup": LookupNode,
    "branch": BranchNode, "queue": QueueNode, "callback": CallbackNode,
    "message": MessageNode, "transfer": TransferNode, "language": LanguageNode,
    "hangup": HangupNode,
}

# kinds that decide at once, without waiting for the caller or the I/O layer
INSTANT_KINDS = ("branch",)


@dataclass(frozen=True)
class Tree:
    name: str
    source: str                                   # file the tree came from
    tenant: str
    entry: str
    nodes: Mapping[str, Node]
    dnis: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    default_language: str = "en"
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    description: str = ""
    library: PromptLibrary = field(default_factory=PromptLibrary)
    digest: str = ""                              # content hash, for reload

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

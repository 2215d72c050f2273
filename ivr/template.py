"""``${name}`` templating of prompt texts, lookup parameters and queue fields.

Variables form a nested mapping (``customer.segment`` looks up ``vars["customer"]
["segment"]``). A template that is exactly one ``${...}`` reference returns the raw
value (a ``Decimal``, a date, a list), so ``currency: "${bill.balance}"`` keeps its type;
anything else renders to a string, with a missing variable as the empty string (the
session notes it in a ``Trace``, a caller never hears an error).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REF = re.compile(r"\$\{([^{}]*)\}")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")

MISSING = object()


def template_errors(text: str) -> list[str]:
    """Problems with a template string (empty for a good one); used by the validator."""
    problems = []
    for m in _REF.finditer(text):
        if not _PATH.match(m.group(1).strip()):
            problems.append(f"bad variable reference '${{{m.group(1)}}}'")
    rest = _REF.sub("", text)
    if "${" in rest:
        problems.append(f"unclosed '${{' in {text!r}")
    return problems


def references(text: str) -> list[str]:
    """The variable paths a template uses."""
    return [m.group(1).strip() for m in _REF.finditer(text)]


def lookup(variables: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path, or ``MISSING``. List items are addressed by index."""
    cur: Any = variables
    for part in path.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, (list, tuple)) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur


def render(template: Any, variables: Mapping[str, Any], missing: list[str] | None = None) -> Any:
    """Fill a template. Non-strings pass through unchanged.

    ``missing`` (if given) collects the paths that had no value.
    """
    if not isinstance(template, str):
        return template
    whole = _REF.fullmatch(template.strip())
    if whole:
        value = lookup(variables, whole.group(1).strip())
        if value is MISSING:
            if missing is not None:
                missing.append(whole.group(1).strip())
            return ""
        return value

    def one(m: re.Match[str]) -> str:
        value = lookup(variables, m.group(1).strip())
        if value is MISSING or value is None:
            if missing is not None:
                missing.append(m.group(1).strip())
            return ""
        return str(value)

    return _REF.sub(one, template)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "${" in value

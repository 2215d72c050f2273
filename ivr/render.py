"""Turn a node's prompt (say items) into ``Play`` segments for one language.

Kept apart from the session so the state machine reads as a state machine. Pure: the
prompt library was scanned when the tree was loaded, speech is table-driven.

Consecutive file items (prompts, files, spoken numbers/money/dates) merge into one
``Play``; a ``text`` item (TTS) is a segment of its own. A value that cannot be spoken
(missing variable, not a number) is skipped and reported as a warning, because the
caller should hear the rest of the prompt rather than silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .nodes import PromptSpec, SayItem
from .prompts import PromptLibrary
from .speech import SpeechError, say_currency, say_date, say_digits, say_number
from .template import render


@dataclass(frozen=True)
class Segment:
    files: tuple[str, ...] = ()
    text: str | None = None


@dataclass
class Rendered:
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)   # names, for traces and tests


def _item_names(item: SayItem, variables: Mapping[str, Any], lang: str,
                warnings: list[str]) -> list[str] | None:
    """Fragment/prompt names for a non-text, non-file item; None when unsayable."""
    missing: list[str] = []
    value = render(item.value, variables, missing)
    if missing or value in ("", None):
        warnings.append(f"{item.kind}: no value for {', '.join(missing) or item.value!r}")
        return None
    try:
        if item.kind == "prompt":
            return [str(value)]
        if item.kind == "number":
            return say_number(value, lang)
        if item.kind == "digits":
            return say_digits(value, lang)
        if item.kind == "currency":
            code = render(item.currency, variables)
            return say_currency(value, str(code or "USD"), lang)
        if item.kind == "date":
            return say_date(value, lang, year=item.year)
    except SpeechError as exc:
        warnings.append(f"{item.kind}: {exc}")
        return None
    raise ValueError(f"unknown say item kind {item.kind!r}")  # schema forbids this


def render_prompts(specs: list[PromptSpec | None], variables: Mapping[str, Any], lang: str,
                   library: PromptLibrary) -> Rendered:
    out = Rendered()
    files: list[str] = []

    def flush() -> None:
        if files:
            out.segments.append(Segment(files=tuple(files)))
            files.clear()

    for spec in specs:
        if spec is None:
            continue
        for item in spec.items(lang):
            if item.kind == "text":
                texts = item.value
                text = texts.get(lang, texts.get("*")) if isinstance(texts, Mapping) else texts
                if text is None:
                    out.warnings.append(f"text: none for language '{lang}'")
                    continue
                flush()
                missing: list[str] = []
                out.segments.append(Segment(text=str(render(str(text), variables, missing))))
                out.warnings.extend(f"text: no value for {m}" for m in missing)
            elif item.kind == "file":
                path = render(item.value, variables)
                if not path:
                    out.warnings.append(f"file: no value for {item.value!r}")
                    continue
                files.append(str(path))
            else:
                names = _item_names(item, variables, lang, out.warnings)
                if names:
                    out.fragments.extend(names)
                    files.extend(library.files(names, lang))
    flush()
    return out

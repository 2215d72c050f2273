"""Reading a config file, with errors that name the file and the offending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .schema import Settings

SHIPPED = Path(__file__).resolve().parent


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and why."""


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """Turn a pydantic location into a readable path, naming items by their id."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            label = item.get("id") or item.get("username") if isinstance(item, dict) else None
            parts.append(f"[{label}]" if label else f"[{key}]")
            node = item
        else:
            parts.append(f".{key}" if parts else str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def parse_settings(data: Any, source: str = "<config>") -> Settings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_where(tuple(e['loc']), data)}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def load_settings(path: str | Path | None) -> Settings:
    """Load a YAML config file; ``None`` gives the embedded defaults with no tenants."""
    if path is None:
        return Settings()
    p = Path(path)
    if not p.exists() and not p.is_absolute() and (SHIPPED / p.name).exists():
        p = SHIPPED / p.name  # "config/demo.yaml" works from any directory
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_settings(data, str(path))

"""Decode Stripe's bracket form/query encoding into nested dicts and lists.

stripe-python sends ``items[0][price]=p&metadata[k]=v&expand[0]=a`` (POST bodies and GET query
strings alike); the handlers want ``{"items": [{"price": "p"}], ...}``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    """The encoding itself is malformed (e.g. a key used both as a value and a hash)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def parse_pairs(raw: str) -> list[tuple[str, str]]:
    """Split a urlencoded string into (key, value) pairs, keeping blank values (they unset)."""
    return parse_qsl(raw, keep_blank_values=True)


def decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn bracketed pairs into a nested structure; numeric-keyed hashes become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        m = _KEY.match(key)
        if not m:
            raise FormError(f"Invalid parameter name: {key}", key)
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2) or "")
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `expand[]=x` style: append
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                nxt = node.setdefault(part, {})
                if not isinstance(nxt, dict):
                    raise FormError(f"Invalid hash: {key}", key)
                node = nxt
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        conv = {k: _listify(v) for k, v in node.items()}
        if conv and all(k.isdigit() for k in conv):
            return [conv[k] for k in sorted(conv, key=int)]
        return conv
    return node


def as_bool(value: Any, param: str) -> bool:
    """Stripe booleans arrive as the strings ``true``/``false``."""
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0"):
        return False
    raise FormError(f"Invalid boolean: {value}", param)


def as_int(value: Any, param: str) -> int:
    """Integers arrive as strings."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormError(f"Invalid integer: {value}", param) from None


def as_list(value: Any) -> list[Any]:
    """Lists may arrive as a single value when only one entry was given without an index."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]

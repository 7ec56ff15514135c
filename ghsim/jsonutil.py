"""Compact JSON output that can embed exact decimal numbers (`Raw`) without floats."""

from __future__ import annotations

import json


class Raw(str):
    """A JSON fragment emitted verbatim, e.g. an exact decimal number `0.00033602`."""

    __slots__ = ()


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: object) -> str:
    """Like `json.dumps(..., separators=(",", ":"))`, keeping `Raw` fragments as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(_encode(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return _encode(value)

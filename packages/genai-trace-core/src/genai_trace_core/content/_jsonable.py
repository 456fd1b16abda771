"""Turn arbitrary captured values into bounded, redacted, JSON-ready data.

A :class:`Walker` carries a character allowance for one attribute. Every string it emits is cut
and redacted by :func:`clip_text` against what is left; containers stop early when the allowance
runs out; depth is capped; cycles, bytes, secrets and objects JSON cannot represent become short
markers. :func:`fit` re-runs a conversion with a smaller allowance when JSON escaping made the
result longer than estimated, so the final string always respects the limit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from genai_trace_core._settings import Settings
from genai_trace_core.content._redact import redact_secret_text
from genai_trace_core.content._secrets import SECRET_MARKER, is_secret_key, is_secret_value
from genai_trace_core.content._sizes import base64_text_size, inline_size
from genai_trace_core.content._truncate import WINDOW_MARGIN, clip_text

MAX_DEPTH: Final = 10
MIN_ITEM: Final = 32  # below this many characters left, stop adding items
KEY_LIMIT: Final = 128
REPR_LIMIT: Final = 256
_INT_LIMIT: Final = 2**63
_SCALARS: Final = (bool, int, float, type(None))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def bytes_size(value: object) -> int:
    if isinstance(value, memoryview):
        return value.nbytes
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, str):  # base64 text or a data: URI: the decoded size
        return base64_text_size(value)
    return 0


def _type_name(value: object) -> str:
    return type(value).__qualname__


class Walker:
    """Converts values for one attribute, spending at most ``allowance`` characters."""

    __slots__ = ("allowance", "dropped", "reserve", "settings", "truncated")

    def __init__(self, settings: Settings, allowance: int) -> None:
        self.settings = settings
        self.allowance = allowance
        self.reserve = 0  # characters one text must leave for the items still to come
        self.truncated = False
        self.dropped = 0

    @property
    def exhausted(self) -> bool:
        return self.allowance < MIN_ITEM

    def spend(self, chars: int) -> None:
        self.allowance -= chars

    def text(
        self, value: str, cap: int | None = None, floor: int = 0, redacted: bool = True
    ) -> str:
        """Cut, redact and account for one string. At least ``floor`` characters are allowed
        (identifiers are not worth emitting empty); ``redacted=False`` for identifiers."""
        room = max(self.allowance - 2 - self.reserve, floor)
        limit = room if cap is None else min(cap, room)
        out, cut = clip_text(value, limit, self.settings, redacted)
        self.truncated = self.truncated or cut
        self.allowance -= len(out) + 3
        return out

    def value(self, value: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
        """A JSON-compatible version of ``value`` (str keys, finite floats, no bytes)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, _SCALARS):
            return self._scalar(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            self.spend(24)
            return f"<bytes: {inline_size(value)} bytes>"
        if is_secret_value(value):
            self.spend(len(SECRET_MARKER) + 2)
            return SECRET_MARKER
        if id(value) in seen:
            self.spend(10)
            return "<cycle>"
        if depth >= MAX_DEPTH:
            self.truncated = True
            self.spend(14)
            return "<max depth>"
        inner = seen | {id(value)}
        if isinstance(value, Mapping):
            return self.mapping(value.items(), len(value), depth, inner)
        if isinstance(value, (list, tuple, set, frozenset)):
            return self._sequence(value, depth, inner)
        fields = _object_fields(value)
        if fields is not None:
            return self.mapping(
                ((k, getattr(value, k, None)) for k in fields), len(fields), depth, inner
            )
        return self.text(redact_secret_text(bounded_repr(value)), REPR_LIMIT)

    def _scalar(self, value: bool | int | float | None) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            self.spend(12)
            return str(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT_LIMIT:
            self.spend(24)
            return f"<int: {value.bit_length()} bits>"
        self.spend(8)
        return value

    def mapping(
        self, items: Any, size: int, depth: int, seen: frozenset[int] = frozenset()
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.spend(2)
        for count, (key, item) in enumerate(items):
            if self.exhausted:
                self.truncated = True
                out["…"] = f"[{size - count} more items]"
                break
            raw = key if isinstance(key, str) else str(key)
            # Keys are data too ({"jane@example.com": ...}): redacted like values.
            name = _unique(out, self.text(raw, KEY_LIMIT))
            if item is not None and is_secret_key(raw):
                self.spend(len(SECRET_MARKER) + 3)
                out[name] = SECRET_MARKER
            else:
                out[name] = self.value(item, depth + 1, seen)
        return out

    def _sequence(self, value: Any, depth: int, seen: frozenset[int]) -> list[Any]:
        out: list[Any] = []
        self.spend(2)
        for count, item in enumerate(value):
            if self.exhausted:
                self.truncated = True
                out.append(f"…[{len(value) - count} more items]")
                break
            out.append(self.value(item, depth + 1, seen))
            self.spend(1)
        return out


def _unique(out: Mapping[str, Any], name: str) -> str:
    """``name``, or ``name#2``, ``name#3``... when redaction made two keys equal."""
    if name not in out:
        return name
    count = 2
    while f"{name}#{count}" in out:
        count += 1
    return f"{name}#{count}"


def _object_fields(value: object) -> tuple[str, ...] | None:
    """Field names of a dataclass or pydantic model instance, read without copying it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(f.name for f in dataclasses.fields(value))
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict):
        return tuple(str(k) for k in model_fields)
    return None


def bounded_repr(value: object) -> str:
    """``repr`` when the type defines one (cut to :data:`REPR_LIMIT`), else ``<TypeName>``."""
    if type(value).__repr__ is object.__repr__:
        return f"<{_type_name(value)}>"
    try:
        text: object = repr(value)
    except Exception:  # a broken __repr__ is the user's, not ours to raise
        return f"<{_type_name(value)}>"
    if not isinstance(text, str):
        return f"<{_type_name(value)}>"
    return text[: REPR_LIMIT + WINDOW_MARGIN]


def fit(
    convert: Callable[[Walker], Any], limit: int, settings: Settings
) -> tuple[Any, str, Walker] | None:
    """Run ``convert`` so that its JSON text is at most ``limit`` characters.

    Returns the value, its JSON text and the walker (for truncation bookkeeping), or ``None`` when
    even a much smaller allowance does not fit."""
    allowance = limit
    for _ in range(4):
        if allowance < MIN_ITEM:
            return None
        walker = Walker(settings, allowance)
        value = convert(walker)
        if value is None:  # the converter found no room for anything useful
            return None
        text = dumps(value)
        if len(text) <= limit:
            return value, text, walker
        allowance = int(allowance * limit / len(text) * 0.9) - 8
    return None


def parse_json_text(value: Any, limit: int) -> Any:
    """A JSON object/array given as a string, parsed (semconv wants objects); else ``value``.

    Strings longer than what could be kept are not parsed, so the cost stays bounded."""
    if not isinstance(value, str) or len(value) > limit + WINDOW_MARGIN:
        return value
    stripped = value.strip()
    if not stripped.startswith(("{", "[")):
        return value
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return value

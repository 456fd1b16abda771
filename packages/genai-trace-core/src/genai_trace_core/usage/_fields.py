"""Reading token counts out of any payload: mappings, pydantic models, SDK objects and protos,
with ``Mapping.get``/``getattr`` only (never copied or dumped), garbage giving ``None``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from genai_trace_core.records import Usage

IN = "input_tokens"
OUT = "output_tokens"
CACHE_IN = "cache_read.input_tokens"
_MAX_COUNT = 2**63 - 1  # OTLP int64: a larger "count" is garbage, not usage

# Per type: the names its classes define (None: not a pydantic model, read with getattr).
_CLASS_NAMES: dict[type, frozenset[str] | None] = {}


def _pydantic_names(cls: type) -> frozenset[str] | None:
    try:
        return _CLASS_NAMES[cls]
    except KeyError:
        pass
    names: frozenset[str] | None = frozenset(n for c in cls.__mro__ for n in vars(c))
    if names is not None and not ("__pydantic_validator__" in names and "model_fields" in names):
        names = None
    if len(_CLASS_NAMES) < 512:
        _CLASS_NAMES[cls] = names
    return names


def _attr(obj: Any, key: str) -> Any:
    """``getattr(obj, key, None)``, without raising and catching AttributeError inside a pydantic
    model's ``__getattr__`` for each of the many keys probed that a model does not have: fields
    are read from the instance dict, extras from ``__pydantic_extra__``; class-level names and
    private (``_``) names still go through ``getattr``."""
    names = _pydantic_names(type(obj))
    if names is None or key in names or key.startswith("_"):
        return getattr(obj, key, None)
    value = obj.__dict__.get(key)
    if value is None:
        extra = getattr(obj, "__pydantic_extra__", None)
        if extra:
            value = extra.get(key)
    return value


def get_field(obj: Any, *keys: str) -> Any:
    """First non-None value under any of ``keys`` (mapping key or attribute). A pydantic model
    is read from its instance dict and extras, never asked for a name it lacks (its
    ``__getattr__`` raises and catches inside, several µs each); integrations read framework
    objects with it for the same reason."""
    if type(obj) is dict or isinstance(obj, Mapping):
        for key in keys:
            value = obj.get(key)
            if value is not None:
                return value
        return None
    for key in keys:
        if key.isidentifier():
            value = _attr(obj, key)
            if value is not None:
                return value
    return None


def as_count(value: Any) -> int | None:
    """A token count, or None for anything that is not a finite non-negative number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_COUNT else None
    if isinstance(value, float) and math.isfinite(value) and 0 <= value <= _MAX_COUNT:
        return int(value) if value.is_integer() else None
    return None


def as_count_str(value: Any) -> int | None:
    """Like :func:`as_count`, also accepting digit strings (HTTP header values)."""
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() else None
    return as_count(value)


def count_at(obj: Any, *keys: str) -> int | None:
    return as_count(get_field(obj, *keys))


def add_counts(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def set_modality(usage: Usage, modality: str, kind: str, count: int | None) -> None:
    if count is None:
        return
    usage.modalities.setdefault(modality, {})[kind] = count


def has_any(obj: Any, *keys: str) -> bool:
    if type(obj) is dict or isinstance(obj, Mapping):
        return any(key in obj for key in keys)
    return any(key.isidentifier() and _attr(obj, key) is not None for key in keys)

"""Keep every span exportable: values the OTLP encoder would reject are fixed before they are set.

The OTLP protobuf encoder raises on a negative or > 2**64 timestamp and on a span name or status
message that UTF-8 cannot encode (a lone surrogate): the *whole batch* is then lost. It drops (and
logs an error for) an attribute holding such a string or an integer outside int64. Framework
callbacks can hand us all of these (user-chosen run names, ``time_ns`` from a custom clock,
provider payloads), so lifecycle passes names, messages, times and attributes through here.
Checks are ``isinstance`` and ``str.isascii`` calls: the common case copies nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from genai_trace_core.content import sanitize_utf8

_INT64_MAX: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)


def valid_ns(value: object) -> int | None:
    """``value`` if it is a usable epoch timestamp in nanoseconds, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _INT64_MAX:
        return value
    return None


def clean_text(value: str) -> str:
    return value if value.isascii() else sanitize_utf8(value)


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else sanitize_utf8(value)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, (list, tuple)):
            return tuple([_clean_value(v) for v in value])
        return value
    return value if _INT64_MIN <= value <= _INT64_MAX else str(value)


def _needs_cleaning(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii()
    if isinstance(value, int) and not isinstance(value, bool):
        return not _INT64_MIN <= value <= _INT64_MAX
    if isinstance(value, (list, tuple)):
        return any(_needs_cleaning(v) for v in value)
    return False


def _clean_already(attributes: Mapping[str, Any]) -> bool:
    """Whether every key and value is already encodable (the common case, checked cheaply:
    exact-type tests first, the general :func:`_needs_cleaning` only for other types)."""
    try:
        if not "".join(attributes).isascii():  # every key at once; TypeError: a non-str key
            return False
    except TypeError:
        return False
    for value in attributes.values():
        t = type(value)
        if t is str:
            if not value.isascii():
                return False
        elif t is int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                return False
        elif t is not float and t is not bool and _needs_cleaning(value):
            return False
    return True


def clean_attributes(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """``attributes`` with unencodable strings repaired (U+FFFD) and out-of-range integers turned
    into strings; the same object when nothing needed it."""
    if _clean_already(attributes):
        return attributes
    return {clean_text(str(k)): _clean_value(v) for k, v in attributes.items()}

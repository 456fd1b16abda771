"""The protobuf wire format of OTLP attribute values, written directly as bytes.

What the SDK's encoder (``opentelemetry.exporter.otlp.proto.common``) builds as ``KeyValue`` /
``AnyValue`` messages and serialises with upb, here as the same bytes without the message
objects: pre-encoded keys, cached key/value pairs for short values, varints by hand. Fields are
written in field-number order, and a field with its default value is left out, as upb does.

Only what is unambiguous is encoded here: exact ``str``, ``bool``, ``int`` (int64), ``float``,
``bytes`` and ``tuple``/``list`` of those. Anything else (``None``, mappings, subclasses, lone
surrogates, integers beyond int64) raises, and the caller lets the SDK encode the whole batch:
the SDK's behaviour there (skip the attribute and log, or fail the batch) differs between its
versions, and is then exactly the SDK's.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

__all__ = ["Unsupported", "attributes", "field", "varint"]


class Unsupported(Exception):
    """A value this encoder leaves to the SDK's encoder (the whole batch goes to the SDK)."""


_SMALL = tuple(bytes((i,)) for i in range(128))
FIXED64 = struct.Struct("<Q").pack
FIXED32 = struct.Struct("<I").pack
_DOUBLE = struct.Struct("<d").pack
_INT64_MAX = (1 << 63) - 1
_TWO_64 = 1 << 64
UINT32_MAX = (1 << 32) - 1
_CACHE_MAX = 4096  # key/value pairs whose encoding is kept (short values only)
_CACHED_STR_MAX = 64  # characters


def varint(n: int) -> bytes:
    """Unsigned base-128 varint (``n`` >= 0)."""
    if n < 128:
        return _SMALL[n]
    if n < 16384:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(tag: bytes, data: bytes) -> bytes:
    """A length-delimited field: ``tag``, the length of ``data``, ``data``."""
    n = len(data)
    return tag + (_SMALL[n] if n < 128 else varint(n)) + data


def any_value(value: Any) -> bytes:
    """The body of an ``AnyValue`` message."""
    t = type(value)
    if t is str:
        return field(b"\x0a", value.encode())  # lone surrogates raise, as upb does
    if t is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if t is int:
        if value >= 0:
            if value > _INT64_MAX:
                raise Unsupported("int beyond int64")
            return b"\x18" + varint(value)
        if value < -_INT64_MAX - 1:
            raise Unsupported("int beyond int64")
        return b"\x18" + varint(value + _TWO_64)
    if t is float:
        return b"\x21" + _DOUBLE(value)
    if t is tuple or t is list:
        return field(b"\x2a", b"".join([field(b"\x0a", any_value(v)) for v in value]))
    if t is bytes:
        return field(b"\x3a", value)
    raise Unsupported(t.__name__)


_keys: dict[str, bytes] = {}
# Per field tag: (key, type, value) -> the whole repeated-field entry (tag, length, KeyValue).
_entries: dict[bytes, dict[tuple[str, type, Any], bytes]] = {}


def _key(key: str) -> bytes:
    encoded = _keys.get(key)
    if encoded is None:
        if type(key) is not str:
            raise Unsupported("key is not a str")
        encoded = field(b"\x0a", key.encode()) if key else b""  # "" is the default: left out
        if len(_keys) >= _CACHE_MAX:
            _keys.clear()
        _keys[key] = encoded
    return encoded


def key_value(key: str, value: Any) -> bytes:
    """The body of a ``KeyValue`` message."""
    return _key(key) + field(b"\x12", any_value(value))


def _cacheable(t: type, value: Any) -> bool:
    """Whether ``(key, type, value)`` identifies the encoding: never for 0.0 (equal to -0.0)
    nor for tuples whose items are not all ``str`` (``(1,) == (True,) == (1.0,)``)."""
    if t is str:
        return len(value) <= _CACHED_STR_MAX
    if t is int or t is bool:
        return True
    if t is float:
        return bool(value != 0.0)
    if t is tuple:
        return len(value) <= 4 and all(type(v) is str and len(v) <= _CACHED_STR_MAX for v in value)
    return False


def attributes(items: Iterable[tuple[str, Any]], tag: bytes) -> bytes:
    """Repeated ``KeyValue`` field ``tag``, one per item, in order."""
    cache = _entries.get(tag)
    if cache is None:
        cache = _entries[tag] = {}
    out = []
    for key, value in items:
        t = type(value)
        entry = (key, t, value)
        try:
            encoded = cache.get(entry)
        except TypeError:  # unhashable (a list)
            encoded = None
            entry = None  # type: ignore[assignment]
        if encoded is None:
            encoded = field(tag, key_value(key, value))
            if entry is not None and _cacheable(t, value):
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[entry] = encoded
        out.append(encoded)
    return b"".join(out)

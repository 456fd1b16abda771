"""The decoded size of inline binary content, without decoding or copying it.

Content arrives raw (``bytes``, ``bytearray``, ``memoryview``, ``BytesIO``) or base64-encoded
(``str``, a ``data:`` URI, or ``bytes`` of base64 text: llama-index-core 0.14 keeps its blocks
that way). Base64 ``bytes`` are told from raw ones by a bounded look at their first 4 KB (media
bytes are never all base64 characters); a base64 payload's decoded size follows from its length
and its trailing ``=`` padding (at most two: only the last two characters are read, so a large
payload is never copied).
"""

from __future__ import annotations

import io
import re
from typing import Final

_PROBE: Final = 4096
_BASE64: Final = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def _padding(tail: str | bytes) -> int:
    """Base64 padding from a payload's last two characters."""
    if isinstance(tail, bytes):
        tail = tail.decode("latin-1")
    if tail.endswith("=="):
        return 2
    return 1 if tail.endswith("=") else 0


def base64_text_size(value: str) -> int:
    """The decoded size of base64 text or of a ``data:`` URI's payload."""
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    return len(payload) * 3 // 4 - _padding(payload[-2:])


def inline_size(data: object) -> int | None:
    """The decoded size of inline content: raw or base64 ``bytes`` (told apart by their first
    4 KB), ``bytearray``, ``memoryview``, base64 ``str`` or ``data:`` URI, ``BytesIO``; ``None``
    for anything else (a stream that reading would move, a path)."""
    if isinstance(data, str):
        return base64_text_size(data)
    if isinstance(data, memoryview):
        view = data.cast("B")
        n = int(view.nbytes)
        probe, tail = view[:_PROBE].tobytes(), view[-2:].tobytes()
    elif isinstance(data, (bytes, bytearray)):
        n, probe, tail = len(data), bytes(data[:_PROBE]), bytes(data[-2:])
    elif isinstance(data, io.BytesIO):
        return int(data.getbuffer().nbytes)
    else:
        return None
    if n % 4 == 0 and _BASE64.fullmatch(probe):
        return n * 3 // 4 - _padding(tail)
    return n

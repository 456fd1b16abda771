"""LlamaIndex's image, audio, video and document blocks described as message parts.

Described, never exported: modality, MIME type and decoded size (a blob), or a URL scrubbed of
credentials (core). A block carries its content one of three ways, and the size is taken where
it costs nothing on the caller's thread (this runs only with content capture on, once per span):

* ``url``: a URI part (no size: the provider fetches it);
* inline (``image``/``audio``/``video``/``data``): the decoded size. llama-index-core 0.14 keeps
  inline content base64-encoded (as ``bytes``); older cores keep the raw bytes. Base64 is told
  from raw bytes by a bounded look at the first 4 KB (media bytes are never all base64
  characters), and its decoded size follows from its length: no decoding;
* ``path`` (the framework reads the file when it calls the model): the size on disk from
  ``os.stat``, which never opens or reads the file; MIME type from the block, else from the
  file name. The path itself is not exported (it may name a user or a customer).

A stream (``IOBase``) is measured only when that cannot move it (``BytesIO``); otherwise the
size is left out, as it is for a path that cannot be stat'ed.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
from typing import Any

from genai_trace_core import BlobPart, Part, UriPart

MODALITIES = {"image": "image", "audio": "audio", "video": "video", "document": "document"}
_PROBE = 4096
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def binary_part(block: Any, kind: str) -> Part:
    modality = MODALITIES[kind]
    mime = _declared_mime(block, kind)
    url = getattr(block, "url", None)
    if url:
        return UriPart(modality=modality, uri=str(url), mime_type=mime)
    data = getattr(block, "data" if kind == "document" else kind, None)
    if data is not None and not (isinstance(data, (bytes, str)) and not data):
        return BlobPart(modality, None, mime, inline_size(data))
    path = getattr(block, "path", None)
    if path:
        if mime is None:
            mime = mimetypes.guess_type(str(path))[0]
        return BlobPart(modality, None, mime, file_size(path))
    return BlobPart(modality, None, mime, None)


def _declared_mime(block: Any, kind: str) -> str | None:
    mime = getattr(block, f"{kind}_mimetype", None)
    if mime:
        return str(mime)
    fmt = getattr(block, "format", None) if kind == "audio" else None
    if fmt:
        return mimetypes.types_map.get(f".{fmt}") or f"audio/{fmt}"
    return None


def inline_size(data: Any) -> int | None:
    """The decoded size of inline content: raw or base64 ``bytes``, base64 ``str``, ``BytesIO``."""
    if isinstance(data, str):  # base64 text, or a data: URI
        payload = data.split(",", 1)[1] if data.startswith("data:") else data
        return _base64_size(len(payload), payload[-2:].count("="))
    if isinstance(data, memoryview):
        data = data.cast("B")
        n = int(data.nbytes)
        probe, tail = data[:_PROBE].tobytes(), data[-2:].tobytes()
    elif isinstance(data, (bytes, bytearray)):
        n, probe, tail = len(data), data[:_PROBE], data[-2:]
    elif isinstance(data, io.BytesIO):
        return int(data.getbuffer().nbytes)
    else:
        return None
    if n % 4 == 0 and _BASE64.fullmatch(probe):
        return _base64_size(n, tail.count(b"="))
    return n


def _base64_size(length: int, padding: int) -> int:
    return length * 3 // 4 - padding


def file_size(path: Any) -> int | None:
    try:
        return int(os.stat(path).st_size)
    except (OSError, TypeError, ValueError):
        return None

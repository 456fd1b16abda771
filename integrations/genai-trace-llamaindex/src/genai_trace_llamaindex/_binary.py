"""LlamaIndex's image, audio, video and document blocks described as message parts.

Described, never exported: modality, MIME type and decoded size (a blob), or a URL scrubbed of
credentials (core). A block carries its content one of three ways, and the size is taken where
it costs nothing on the caller's thread (this runs only with content capture on, once per span):

* ``url``: a URI part (no size: the provider fetches it);
* inline (``image``/``audio``/``video``/``data``): the decoded size, from core's
  :func:`genai_trace_core.inline_size` (llama-index-core 0.14 keeps inline content
  base64-encoded as ``bytes``, older cores the raw bytes; no decoding);
* ``path`` (the framework reads the file when it calls the model): the size on disk from
  ``os.stat``, which never opens or reads the file; MIME type from the block, else from the
  file name. The path itself is not exported (it may name a user or a customer).

A stream (``IOBase``) is measured only when that cannot move it (``BytesIO``); otherwise the
size is left out, as it is for a path that cannot be stat'ed.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from genai_trace_core import BlobPart, Part, UriPart, inline_size

MODALITIES = {"image": "image", "audio": "audio", "video": "video", "document": "document"}


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


def file_size(path: Any) -> int | None:
    try:
        return int(os.stat(path).st_size)
    except (OSError, TypeError, ValueError):
        return None

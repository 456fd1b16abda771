"""LangChain multimodal content blocks -> core parts (binary content is described, never copied).

Covers LangChain's standard blocks in both generations (v0 ``{"type": "image", "source_type":
"base64" | "url" | "id", "data" | "url" | "id", "mime_type"}``; v1 ``{"type": "image" | "audio" |
"video" | "file", "base64" | "url" | "file_id", "mime_type"}``), OpenAI's (``image_url`` with a URL
or a ``data:`` URL, ``input_audio``, ``file`` with ``file_data`` or ``file_id``) and Anthropic's
(``image``/``document`` with a ``source``). Core exports a blob's modality, MIME type and size, a
URI scrubbed of credentials and a file's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_trace_core import BlobPart, FilePart, Part, TextPart, UriPart

_MODALITIES = {"image": "image", "audio": "audio", "video": "video", "file": "document"}
_MIME_PREFIXES = (("image/", "image"), ("audio/", "audio"), ("video/", "video"))


def _modality(kind: str, mime_type: str | None) -> str:
    if mime_type:
        for prefix, modality in _MIME_PREFIXES:
            if mime_type.startswith(prefix):
                return modality
    return _MODALITIES.get(kind, "document")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_source(kind: str, mime: str | None, block: Mapping[str, Any]) -> Part | None:
    """A standard block: v0 (``source_type``) or v1 (``base64``/``url``/``file_id``)."""
    modality = _modality(kind, mime)
    source_type = block.get("source_type")
    data = _str(block.get("base64")) or (
        _str(block.get("data")) if source_type in (None, "base64") else None
    )
    if data is not None:
        return BlobPart(modality, data, mime)
    url = _str(block.get("url"))
    if url is not None:
        return UriPart(modality, url, mime)
    file_id = _str(block.get("file_id")) or (_str(block.get("id")) if source_type == "id" else None)
    if file_id is not None:
        return FilePart(modality, file_id, mime)
    if source_type == "text" and _str(block.get("text")):
        return TextPart(block["text"])
    return None


def _anthropic(kind: str, source: Mapping[str, Any]) -> Part | None:
    mime = _str(source.get("media_type"))
    modality = _modality(kind if kind != "document" else "file", mime)
    if source.get("type") == "base64" and _str(source.get("data")):
        return BlobPart(modality, source["data"], mime)
    if source.get("type") == "url" and _str(source.get("url")):
        return UriPart(modality, source["url"], mime)
    if source.get("type") == "file" and _str(source.get("file_id")):
        return FilePart(modality, source["file_id"], mime)
    return None


def _openai(kind: str, block: Mapping[str, Any]) -> Part | None:
    if kind == "image_url":
        image = block.get("image_url")
        url = _str(image.get("url")) if isinstance(image, Mapping) else _str(image)
        return UriPart("image", url) if url is not None else None
    if kind == "input_audio":
        audio = block.get("input_audio")
        if isinstance(audio, Mapping) and _str(audio.get("data")):
            fmt = _str(audio.get("format"))
            return BlobPart("audio", audio["data"], f"audio/{fmt}" if fmt else None)
        return None
    file = block.get("file")
    if isinstance(file, Mapping):  # {"type": "file", "file": {"file_data" | "file_id"}}
        data = _str(file.get("file_data"))
        if data is not None:
            return (
                UriPart("document", data)
                if data.startswith("data:")
                else BlobPart("document", data)
            )
        if _str(file.get("file_id")):
            return FilePart("document", file["file_id"])
    return None


def block_part(block: Mapping[str, Any]) -> Part | None:
    """The part for one non-text content block, or ``None`` for a block we do not know."""
    kind = block.get("type")
    if not isinstance(kind, str):
        return None
    if kind in ("image_url", "input_audio") or (kind == "file" and "file" in block):
        return _openai(kind, block)
    source = block.get("source")
    if isinstance(source, Mapping) and kind in ("image", "document"):
        return _anthropic(kind, source)
    if kind in _MODALITIES or kind == "media":
        return _from_source(kind, _str(block.get("mime_type")), block)
    if kind == "text-plain" and _str(block.get("text")):
        return TextPart(block["text"])
    return None

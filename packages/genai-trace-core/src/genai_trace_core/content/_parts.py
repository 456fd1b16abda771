"""Message parts in the semconv shape: text, reasoning, tool calls and responses, and binary
content described (modality, MIME type, size; a file's id, a URI scrubbed of credentials), never
its bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from genai_trace_core.content._jsonable import Walker, bytes_size, parse_json_text
from genai_trace_core.content._secrets import scrub_uri
from genai_trace_core.records import (
    BlobPart,
    FilePart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    UriPart,
)

NAME_LIMIT: Final = 256
URI_LIMIT: Final = 2048
NAME_FLOOR: Final = 32


def content_of(w: Walker, value: Any) -> Any:
    return w.text(value) if isinstance(value, str) else w.value(value)


def ident(w: Walker, value: Any) -> str:
    """A structural identifier (role, type, modality, mime type, tool name, call id)."""
    text = value if isinstance(value, str) else str(value)
    return w.text(text, NAME_LIMIT, NAME_FLOOR, redacted=False)


def _text_part(w: Walker, kind: str, content: Any) -> dict[str, Any] | None:
    out = content_of(w, content)
    if out == "" and content:  # no room left for any of it: drop the part
        return None
    return {"type": kind, "content": out}


def _blob(w: Walker, modality: Any, mime_type: Any, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "blob", "modality": ident(w, modality)}
    if mime_type:
        out["mime_type"] = ident(w, mime_type)
    if size is not None:
        out["size"] = size
    w.spend(16)
    return out


def part_as_dict(w: Walker, part: Any) -> Any:
    """One message part in the semconv shape (``type`` discriminator)."""
    if isinstance(part, TextPart):
        return _text_part(w, "text", part.content)
    if isinstance(part, ReasoningPart):
        return _text_part(w, "reasoning", part.content)
    if isinstance(part, ToolCallPart):
        call: dict[str, Any] = {"type": "tool_call"}
        if part.id is not None:
            call["id"] = ident(w, part.id)
        call["name"] = ident(w, part.name)
        call["arguments"] = w.value(parse_json_text(part.arguments, w.allowance))
        return call
    if isinstance(part, ToolCallResponsePart):
        response: dict[str, Any] = {"type": "tool_call_response"}
        if part.id is not None:
            response["id"] = ident(w, part.id)
        response["response"] = w.value(parse_json_text(part.response, w.allowance))
        return response
    if isinstance(part, BlobPart):
        size = part.size
        if size is None and part.content is not None:
            size = bytes_size(part.content)
        return _blob(w, part.modality, part.mime_type, size)
    if isinstance(part, UriPart):
        if part.uri.startswith("data:"):  # inline bytes in disguise
            mime = part.mime_type or part.uri[5:].split(";", 1)[0].split(",", 1)[0] or None
            return _blob(w, part.modality, mime, bytes_size(part.uri))
        uri: dict[str, Any] = {"type": "uri", "modality": ident(w, part.modality)}
        if part.mime_type:
            uri["mime_type"] = ident(w, part.mime_type)
        uri["uri"] = w.text(scrub_uri(part.uri), URI_LIMIT)
        return uri
    if isinstance(part, FilePart):
        file: dict[str, Any] = {"type": "file", "modality": ident(w, part.modality)}
        if part.mime_type:
            file["mime_type"] = ident(w, part.mime_type)
        file["file_id"] = w.text(scrub_uri(str(part.file_id)), NAME_LIMIT, NAME_FLOOR)
        return file
    if isinstance(part, str):
        return _text_part(w, "text", part)
    if isinstance(part, Mapping):
        return w.value(part)
    return {"type": "generic", "content": w.value(part)}

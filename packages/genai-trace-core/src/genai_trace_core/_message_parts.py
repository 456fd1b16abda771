"""The parts a :class:`~genai_trace_core.records.Message` is made of, in the GenAI semantic
conventions' shape (``type`` is the part's ``type`` there). Re-exported by ``records``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class TextPart:
    content: str
    type: str = "text"


@dataclass(slots=True)
class ReasoningPart:
    content: str
    type: str = "reasoning"


@dataclass(slots=True)
class ToolCallPart:
    name: str
    arguments: Any = None
    id: str | None = None
    type: str = "tool_call"


@dataclass(slots=True)
class ToolCallResponsePart:
    response: Any
    id: str | None = None
    type: str = "tool_call_response"


@dataclass(slots=True)
class BlobPart:
    """Inline binary content. Core never exports the bytes; it records modality and size."""

    modality: str
    content: bytes | str
    mime_type: str | None = None
    type: str = "blob"


@dataclass(slots=True)
class UriPart:
    """Content referenced by URI. Exported scrubbed of credentials (a ``data:`` URI as a blob)."""

    modality: str
    uri: str
    mime_type: str | None = None
    type: str = "uri"


@dataclass(slots=True)
class FilePart:
    """Content uploaded to the provider beforehand, referenced by its file id."""

    modality: str
    file_id: str
    mime_type: str | None = None
    type: str = "file"


Part = (
    TextPart | ReasoningPart | ToolCallPart | ToolCallResponsePart | BlobPart | UriPart | FilePart
)

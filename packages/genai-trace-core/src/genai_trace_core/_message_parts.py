"""The parts a :class:`~genai_trace_core.records.Message` is made of, in the GenAI semantic
conventions' shape (``type`` is the part's ``type`` there). Re-exported by ``records``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class TextPart:
    """Text in a message, or a system instruction."""

    content: str
    """The text (content: exported only when capture is on, cut to the limits, redacted)."""
    type: str = "text"
    """The semconv part type."""


@dataclass(slots=True)
class ReasoningPart:
    """The model's reasoning or thinking text, as the provider returned it."""

    content: str
    """The reasoning text (content, as for :class:`TextPart`)."""
    type: str = "reasoning"
    """The semconv part type."""


@dataclass(slots=True)
class ToolCallPart:
    """A tool call the model asked for."""

    name: str
    """The tool's name."""
    arguments: Any = None
    """The call's arguments: a JSON string or any JSON-like value (content)."""
    id: str | None = None
    """The provider's tool call id, which the matching :class:`ToolCallResponsePart` repeats."""
    type: str = "tool_call"
    """The semconv part type."""


@dataclass(slots=True)
class ToolCallResponsePart:
    """What a tool returned, handed back to the model."""

    response: Any
    """The tool's result: text or any JSON-like value (content)."""
    id: str | None = None
    """The id of the :class:`ToolCallPart` this answers."""
    type: str = "tool_call_response"
    """The semconv part type."""


@dataclass(slots=True)
class BlobPart:
    """Inline binary content. Core never exports the bytes; it records modality and size."""

    modality: str
    """``image``, ``audio``, ``video`` or ``document``."""
    content: bytes | str | None
    """The bytes, or their base64 text; only their size is exported. ``None`` when the framework
    reads the content at call time (a file path) and the bytes are not at hand."""
    mime_type: str | None = None
    """The MIME type, when known (``image/png``)."""
    size: int | None = None
    """The decoded size in bytes when the integration knows it without the bytes (a file's size
    on disk); when ``None`` it is measured from ``content`` (a ``str`` is taken as base64), and
    omitted if ``content`` is ``None`` too (not knowable)."""
    type: str = "blob"
    """The semconv part type."""


@dataclass(slots=True)
class UriPart:
    """Content referenced by URI. Exported scrubbed of credentials (a ``data:`` URI as a blob)."""

    modality: str
    """``image``, ``audio``, ``video`` or ``document``."""
    uri: str
    """Where the content is (``https://``, ``gs://``, ``data:``...)."""
    mime_type: str | None = None
    """The MIME type, when known."""
    type: str = "uri"
    """The semconv part type."""


@dataclass(slots=True)
class FilePart:
    """Content uploaded to the provider beforehand, referenced by its file id."""

    modality: str
    """``image``, ``audio``, ``video`` or ``document``."""
    file_id: str
    """The provider's id of the uploaded file."""
    mime_type: str | None = None
    """The MIME type, when known."""
    type: str = "file"
    """The semconv part type."""


Part = (
    TextPart | ReasoningPart | ToolCallPart | ToolCallResponsePart | BlobPart | UriPart | FilePart
)

"""What of prompts, answers, tools and documents is exported: captured, serialised, cut, redacted
and scrubbed of secrets. Imports only the base (records, semconv, settings, safe).
"""

from __future__ import annotations

from genai_trace_core.content._capture import (
    ContentBudget,
    build_content_attributes,
    build_event_content,
    build_outcome_content,
    capture_enabled,
    messages_as_dicts,
    serialize_documents,
    serialize_messages,
    serialize_parts,
    serialize_tool_definitions,
    serialize_value,
)
from genai_trace_core.content._exceptions import (
    ExceptionText,
    describe_error_text,
    describe_exception,
)
from genai_trace_core.content._redact import builtin_redact, redact
from genai_trace_core.content._secrets import is_secret_key, scrub_secret_text, scrub_secrets
from genai_trace_core.content._sizes import inline_size
from genai_trace_core.content._truncate import (
    MAX_LABEL_CHARS,
    bounded_description,
    bounded_label,
    sanitize_utf8,
)

__all__ = [
    "MAX_LABEL_CHARS",
    "ContentBudget",
    "ExceptionText",
    "bounded_description",
    "bounded_label",
    "build_content_attributes",
    "build_event_content",
    "build_outcome_content",
    "builtin_redact",
    "capture_enabled",
    "describe_error_text",
    "describe_exception",
    "inline_size",
    "is_secret_key",
    "messages_as_dicts",
    "redact",
    "sanitize_utf8",
    "scrub_secret_text",
    "scrub_secrets",
    "serialize_documents",
    "serialize_messages",
    "serialize_parts",
    "serialize_tool_definitions",
    "serialize_value",
]

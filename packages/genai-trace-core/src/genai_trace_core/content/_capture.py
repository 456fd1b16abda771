"""Content capture: what of an operation's prompts, completions, tool calls and documents is
exported, and in which form.

Nothing is captured unless ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (or
``Settings.capture_mode``) says so; with capture off every ``build_*`` returns ``{}`` before
touching the operation, so lazies are never called. With capture on, each text is cut to the
limits, then redacted (built-in detectors and the user hook), then serialised. The span's
:class:`ContentBudget` (create one per span, share it between start and end) bounds the total.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from genai_trace_core import semconv
from genai_trace_core._safe import log_once, safe
from genai_trace_core._settings import Settings, get_settings
from genai_trace_core.content._finish_reasons import with_finish_reasons
from genai_trace_core.content._prompt_variables import build_prompt_variables
from genai_trace_core.content._serialize import (
    Built,
    build_documents,
    build_messages,
    build_parts,
    build_text,
    build_tool_definitions,
    build_value,
)
from genai_trace_core.content._truncate import ContentBudget
from genai_trace_core.records import Operation, OperationKind, Outcome

__all__ = [
    "ContentBudget",
    "build_content_attributes",
    "build_content_values",
    "build_event_content",
    "build_outcome_content",
    "build_outcome_values",
    "capture_enabled",
    "messages_as_dicts",
    "resolve_lazy",
    "serialize_documents",
    "serialize_messages",
    "serialize_parts",
    "serialize_tool_definitions",
    "serialize_value",
]


def capture_enabled(settings: Settings | None = None) -> bool:
    """Whether any content (span attributes or events) is captured."""
    return (settings if settings is not None else get_settings()).capture_mode.any


def resolve_lazy(value: Any) -> Any:
    """Call a zero-argument lazy (see :class:`Operation`); a lazy that raises yields ``None``."""
    if callable(value) and not isinstance(value, (type, Sequence, Mapping)):
        try:
            return value()
        except Exception:  # a failing lazy means no content, never an error (logged: type and
            # place only, never the message, which may quote the content)
            log_once("lazy-content-raised", "genai-trace: a content lazy raised; content dropped")
            return None
    return value


# --- single serialisers (they do not check the capture mode) -----------------------------------


def _text(built: Built | None) -> str | None:
    return built.text if built is not None else None


@safe()
def serialize_messages(
    messages: Any, budget: ContentBudget, keep_latest: bool = False
) -> str | None:
    """``gen_ai.input.messages`` / ``gen_ai.output.messages`` JSON, or ``None`` if empty/no room.

    With ``keep_latest`` the oldest messages are the ones dropped when the budget runs out."""
    return _text(build_messages(resolve_lazy(messages), budget, keep_latest))


@safe()
def messages_as_dicts(
    messages: Any, budget: ContentBudget, keep_latest: bool = False
) -> list[dict[str, Any]] | None:
    """The same messages as structured values, for log events."""
    built = build_messages(resolve_lazy(messages), budget, keep_latest)
    return built.value if built is not None else None


@safe()
def serialize_parts(parts: Any, budget: ContentBudget) -> str | None:
    """``gen_ai.system_instructions`` JSON (an array of parts)."""
    return _text(build_parts(resolve_lazy(parts), budget))


@safe()
def serialize_tool_definitions(definitions: Any, budget: ContentBudget) -> str | None:
    """``gen_ai.tool.definitions`` JSON."""
    return _text(build_tool_definitions(resolve_lazy(definitions), budget))


@safe()
def serialize_documents(documents: Any, budget: ContentBudget, include_content: bool) -> str | None:
    """``gen_ai.retrieval.documents`` JSON: ``[{"id", "score", "content"?}]``.

    ``include_content=False`` gives the id/score form, which is not message content."""
    return _text(build_documents(documents, budget, include_content))


@safe()
def serialize_value(value: Any, budget: ContentBudget) -> str | None:
    """Tool arguments/results as JSON (JSON strings parsed into objects first)."""
    return _text(build_value(value, budget))


# --- per-operation builders: the lifecycle's entry points ---------------------------------------

_Builder = Callable[[], Built | None]


def _collect(pairs: list[tuple[str, _Builder]]) -> dict[str, Built]:
    out: dict[str, Built] = {}
    for key, build in pairs:
        built = build()
        if built is not None:
            out[key] = built
    return out


# The start side spends at most three quarters of a span's budget: the last quarter is kept for
# what the end adds (the answer, a tool's result, the documents), however long the prompt.
_END_SHARE: Final = 4


def _start(op: Operation, budget: ContentBudget, keep_end_share: bool = True) -> dict[str, Built]:
    query_key = (
        semconv.GEN_AI_RETRIEVAL_QUERY_TEXT
        if op.kind is OperationKind.RETRIEVAL
        else semconv.QUERY_TEXT
    )
    lazy = resolve_lazy
    # Order is priority: what is built first gets the budget first.
    pairs: list[tuple[str, _Builder]] = [
        (
            semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
            lambda: build_parts(lazy(op.system_instructions), budget),
        ),
        (
            semconv.GEN_AI_INPUT_MESSAGES,
            lambda: build_messages(lazy(op.input_messages), budget, keep_latest=True),
        ),
        (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, lambda: build_value(lazy(op.tool_arguments), budget)),
        (query_key, lambda: build_text(lazy(op.query), budget)),
        (
            semconv.GEN_AI_TOOL_DEFINITIONS,
            lambda: build_tool_definitions(lazy(op.tool_definitions), budget),
        ),
    ]
    with budget.keeping(budget.settings.max_span_content // _END_SHARE if keep_end_share else 0):
        built = _collect(pairs)
        if op.prompt_variables is not None:  # last: the rendered prompt already holds the values
            built.update(build_prompt_variables(lazy(op.prompt_variables), budget))
    return built


def _end(outcome: Outcome, budget: ContentBudget) -> dict[str, Built]:
    return _collect(
        [
            (
                semconv.GEN_AI_OUTPUT_MESSAGES,
                lambda: build_messages(
                    with_finish_reasons(outcome, resolve_lazy(outcome.output_messages)), budget
                ),
            ),
            (semconv.GEN_AI_TOOL_CALL_RESULT, lambda: build_value(outcome.tool_result, budget)),
            (
                semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
                lambda: build_documents(outcome.documents, budget, include_content=True),
            ),
        ]
    )


@safe()
def _built_start(
    op: Operation, settings: Settings, budget: ContentBudget
) -> dict[str, Built] | None:
    return _start(op, budget) if settings.capture_mode.any else None


@safe()
def _built_end(
    outcome: Outcome, settings: Settings, budget: ContentBudget
) -> dict[str, Built] | None:
    return _end(outcome, budget) if settings.capture_mode.any else None


def build_content_attributes(
    op: Operation, settings: Settings, budget: ContentBudget
) -> dict[str, str]:
    """Start-side content span attributes (JSON strings) keyed by semconv names: system
    instructions, input messages, tool arguments, query text, tool definitions, then one
    ``gen_ai.prompt.variable.<name>`` string per template variable (at most 32).

    ``{}`` at once when capture is off. ``budget.settings`` sets the limits and redaction."""
    if not settings.capture_mode.any:
        return {}
    built = _built_start(op, settings, budget) or {}
    return {key: item.text for key, item in built.items()}


def build_outcome_content(
    outcome: Outcome, settings: Settings, budget: ContentBudget
) -> dict[str, str]:
    """End-side content span attributes: output messages, tool result, documents with text."""
    if not settings.capture_mode.any:
        return {}
    built = _built_end(outcome, settings, budget) or {}
    return {key: item.text for key, item in built.items()}


def build_content_values(
    op: Operation, settings: Settings, budget: ContentBudget
) -> dict[str, Any]:
    """As :func:`build_content_attributes`, structured (lists/dicts) for log events."""
    if not settings.capture_mode.any:
        return {}
    built = _built_start(op, settings, budget) or {}
    return {key: item.value for key, item in built.items()}


def build_outcome_values(
    outcome: Outcome, settings: Settings, budget: ContentBudget
) -> dict[str, Any]:
    """As :func:`build_outcome_content`, structured for log events."""
    if not settings.capture_mode.any:
        return {}
    built = _built_end(outcome, settings, budget) or {}
    return {key: item.value for key, item in built.items()}


# Content attributes whose span value is JSON text (the others, like the query, are plain text).
_JSON_KEYS: Final = frozenset(
    {
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_DEFINITIONS,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
        semconv.GEN_AI_TOOL_CALL_RESULT,
        semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
    }
)


def _structured(key: str, value: Any) -> Any:
    if key in _JSON_KEYS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@safe()
def _event_content(
    op: Operation, outcome_content: Mapping[str, Any], budget: ContentBudget
) -> dict[str, Any]:
    # The event gets its own budget: span content already spent the span's, and the event is
    # a separate record with its own size limits.
    event_budget = ContentBudget(budget.settings)
    out = {key: built.value for key, built in _start(op, event_budget, False).items()}
    out.update((key, _structured(key, value)) for key, value in outcome_content.items())
    # What was cut: this event's start side, and the outcome side (built with the run's budget,
    # the span's too in SPAN_AND_EVENT, whose start-side cuts it may then also report).
    out.update(event_budget.flag_attributes(budget))
    return out


def build_event_content(
    op: Operation,
    outcome_content: Mapping[str, Any],
    settings: Settings,
    budget: ContentBudget,
) -> dict[str, Any]:
    """Structured content for ``gen_ai.client.inference.operation.details``.

    The start side is rebuilt from ``op`` (structured, with a budget of its own); the end side is
    ``outcome_content`` (what :func:`build_outcome_content` returned) with JSON texts parsed
    back into lists/dicts. ``{}`` when capture is off."""
    if not settings.capture_mode.any:
        return {}
    return _event_content(op, outcome_content, budget) or {}

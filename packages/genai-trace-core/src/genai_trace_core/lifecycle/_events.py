"""GenAI log events: ``gen_ai.client.inference.operation.details`` and the exception event.

Emitted when ``Settings.emits_events`` (the EVENT capture modes, or
``OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT=true``); they carry the span's trace and span ids so a
backend (Loki) links them to the trace. Content goes on an event only in the EVENT capture modes:
an event emitted in another mode carries the span's attributes with every content attribute left
out, as opentelemetry-util-genai does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry._logs import Logger, LogRecord, SeverityNumber
from opentelemetry.context import Context

from genai_trace_core import content as _content
from genai_trace_core import semconv
from genai_trace_core._settings import Settings
from genai_trace_core.lifecycle._run import Run
from genai_trace_core.records import Operation

_CONTENT_TEXTS = frozenset(
    {
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_DEFINITIONS,
    }
)
# Every content attribute a span may carry (prompt variables are matched by their prefix).
_CONTENT_KEYS = _CONTENT_TEXTS | {
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
    semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
    semconv.GEN_AI_RETRIEVAL_QUERY_TEXT,
    semconv.QUERY_TEXT,
}


def _without_content(attributes: Mapping[str, Any]) -> dict[str, Any]:
    prefix = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX
    return {
        k: v for k, v in attributes.items() if k not in _CONTENT_KEYS and not k.startswith(prefix)
    }


def emit_inference_details(
    logger: Logger,
    ctx: Context,
    span_attributes: Mapping[str, Any],
    content: Mapping[str, Any],
    timestamp_ns: int,
) -> None:
    # The span's attributes (gen_ai.output.type included), its JSON content texts left out:
    # the event carries content structured.
    attrs: dict[str, Any] = {k: v for k, v in span_attributes.items() if k not in _CONTENT_TEXTS}
    attrs.update(content)
    logger.emit(
        LogRecord(
            timestamp=timestamp_ns,
            context=ctx,
            severity_number=SeverityNumber.DEBUG,  # as the events model says
            event_name=semconv.EVENT_INFERENCE_DETAILS,
            attributes=attrs,
        )
    )


def emit_exception(
    logger: Logger,
    ctx: Context,
    exc: _content.ExceptionText,
    base_attributes: Mapping[str, Any],
    timestamp_ns: int,
) -> None:
    """The exception log event, with the same bounded, scrubbed text as the span's event."""
    attrs: dict[str, Any] = dict(base_attributes)
    attrs[semconv.EXCEPTION_TYPE] = exc.type
    attrs[semconv.EXCEPTION_MESSAGE] = exc.message
    attrs[semconv.EXCEPTION_STACKTRACE] = exc.stacktrace
    logger.emit(
        LogRecord(
            timestamp=timestamp_ns,
            context=ctx,
            severity_number=SeverityNumber.WARN,
            event_name=semconv.EVENT_OPERATION_EXCEPTION,
            attributes=attrs,
        )
    )


def emit_run_details(
    logger: Logger,
    run: Run,
    op: Operation,
    end_attrs: Mapping[str, Any],
    content_attrs: Mapping[str, Any],
    settings: Settings,
    end_ns: int,
) -> None:
    """The inference-details event of a finished run: its span's attributes plus, in the event
    capture modes, its content in structured form; in the other modes, no content at all."""

    assert run.span is not None
    span_attrs = dict(getattr(run.span, "attributes", None) or {})
    span_attrs.update(end_attrs)
    structured: dict[str, Any] = {}
    if not settings.capture_mode.on_event:  # SPAN_ONLY's span content stays on the span
        span_attrs = _without_content(span_attrs)
    elif run.budget is not None:
        structured.update(_content.build_event_content(op, content_attrs, settings, run.budget))
    emit_inference_details(logger, run.ctx, span_attrs, structured, end_ns)

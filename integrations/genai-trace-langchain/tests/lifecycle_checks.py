"""Whole-lifecycle checks shared by the batch and stream tests: every span that started ended, and
OpenTelemetry logged no error."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from genai_trace_core.testing import OTelHarness


class Lifecycle(SpanProcessor):
    """Counts spans started and ended on the harness provider; collects OTel error logs."""

    def __init__(self) -> None:
        self.started: dict[int, str] = {}
        self.ended: set[int] = set()
        self.errors: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ended.add(span.context.span_id)

    def open_spans(self) -> list[str]:
        return sorted(n for sid, n in self.started.items() if sid not in self.ended)

    def check(self) -> None:
        assert self.started, "no span started"
        assert self.open_spans() == []
        assert self.errors == []


class _Errors(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.name}: {record.getMessage()}")


def watch(otel: OTelHarness) -> tuple[Lifecycle, logging.Handler]:
    life = Lifecycle()
    otel.tracer_provider.add_span_processor(life)
    handler = _Errors(life.errors)
    logging.getLogger("opentelemetry").addHandler(handler)
    return life, handler


def traces(otel: OTelHarness) -> dict[int, list[Any]]:
    by_trace: dict[int, list[Any]] = {}
    for s in otel.spans():
        by_trace.setdefault(s.context.trace_id, []).append(s)
    return by_trace

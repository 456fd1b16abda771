"""Whole-lifecycle checks for the LlamaIndex tests: every span that started ended, and
OpenTelemetry logged no warning or error (a uniquely named module: never ``from conftest``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from genai_trace_core.testing import OTelHarness


class Lifecycle(SpanProcessor):
    """Spans started and ended on the harness provider, and OpenTelemetry's warnings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: dict[int, str] = {}
        self.ended: set[int] = set()
        self.errors: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        with self._lock:
            self.ended.add(span.context.span_id)

    def check(self) -> None:
        assert self.started, "no span started"
        assert sorted(n for s, n in self.started.items() if s not in self.ended) == []
        assert len(self.ended) == len(self.started)
        assert self.errors == [], self.errors


class _Errors(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.name}: {record.getMessage()}")


def watched(otel: OTelHarness) -> Iterator[Lifecycle]:
    """A :class:`Lifecycle` on ``otel``'s provider and the ``opentelemetry`` logger (a fixture's
    body: ``conftest.lifecycle``)."""
    life = Lifecycle()
    otel.tracer_provider.add_span_processor(life)
    handler = _Errors(life.errors)
    logger = logging.getLogger("opentelemetry")
    logger.addHandler(handler)
    yield life
    logger.removeHandler(handler)


def traces(otel: OTelHarness) -> dict[int, list[ReadableSpan]]:
    by_trace: dict[int, list[ReadableSpan]] = {}
    for s in otel.spans():
        assert s.context is not None
        by_trace.setdefault(s.context.trace_id, []).append(s)
    return by_trace

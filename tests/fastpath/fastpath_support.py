"""Run one program twice, through SDK spans and through the fast span path, and compare exports.

Each run gets fresh providers with deterministic ids (trace ids spread over the 64-bit range, so a
ratio sampler both keeps and drops), one fake clock behind ``time.time_ns`` and the SDK's own
``time_ns``, an in-memory exporter, and a processor that records what each ``on_start`` received.
``GENAI_TRACE_SDK_SPANS=1`` forces SDK spans for the first run; the second leaves the default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import propagate
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Sampler

from genai_trace_core.testing import FakeClock

FORCE_SDK = "GENAI_TRACE_SDK_SPANS"
_SPREAD = 0x9E3779B97F4A7C159E3779B97F4A7C15  # odd, golden ratio: a ratio sampler keeps some


class SpreadIds(IdGenerator):
    """Deterministic ids: span ids 1, 2, 3...; trace ids spread over the whole id space."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trace = 0
        self._span = 0

    def generate_span_id(self) -> int:
        with self._lock:
            self._span += 1
            return self._span

    def generate_trace_id(self) -> int:
        with self._lock:
            self._trace += 1
            return (self._trace * _SPREAD) % 2**128 or 1


class StartedAs(SpanProcessor):
    """Records the class of every span ``on_start`` receives (a processor that needs on_start)."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        assert span.context is not None and span.name  # reads a live span, as processors do
        self.kinds.append(type(span).__name__)


@dataclass
class Run:
    """What one run exported."""

    spans: list[ReadableSpan]
    started: list[str]
    headers: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Providers:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    headers: list[dict[str, str]]

    def inject(self) -> None:
        """Record the W3C headers a call made here would carry (propagation equivalence)."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        self.headers.append(carrier)

    def user_tracer(self) -> trace_api.Tracer:
        return self.tracer_provider.get_tracer("app", "1.0")


Program = Callable[[Providers], None]


@contextmanager
def _clock() -> Iterator[None]:
    from genai_trace_core.export import _fast_span

    clock = FakeClock(start_ns=1_700_000_000_000_000_000, step_ns=1_000)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(time, "time_ns", clock)
        m.setattr(sdk_trace, "time_ns", clock)
        m.setattr(_fast_span, "time_ns", clock)
        yield


def run(
    program: Program,
    *,
    fast: bool,
    sampler: Sampler | None = None,
    limits: SpanLimits | None = None,
) -> Run:
    """Run ``program`` on fresh providers, with SDK spans (``fast=False``) or the fast path."""
    with pytest.MonkeyPatch.context() as m, _clock():
        if fast:
            m.delenv(FORCE_SDK, raising=False)
        else:
            m.setenv(FORCE_SDK, "1")
        exporter = InMemorySpanExporter()
        started = StartedAs()
        tp = TracerProvider(
            sampler=sampler,
            resource=Resource({"service.name": "fastpath"}),
            id_generator=SpreadIds(),
            span_limits=limits,
            shutdown_on_exit=False,
        )
        tp.add_span_processor(started)
        tp.add_span_processor(SimpleSpanProcessor(exporter))
        providers = Providers(
            tp, MeterProvider(metric_readers=[InMemoryMetricReader()]), LoggerProvider(), []
        )
        try:
            program(providers)
        finally:
            tp.shutdown()
            providers.meter_provider.shutdown()
            providers.logger_provider.shutdown()
        return Run(list(exporter.get_finished_spans()), started.kinds, providers.headers)


def both(program: Program, **kwargs: Any) -> tuple[Run, Run]:
    """``program`` through SDK spans, then through the fast path."""
    return run(program, fast=False, **kwargs), run(program, fast=True, **kwargs)


def _ctx(ctx: trace_api.SpanContext | None) -> tuple[Any, ...] | None:
    if ctx is None:
        return None
    state = ctx.trace_state.to_header() if ctx.trace_state is not None else None
    return (ctx.trace_id, ctx.span_id, int(ctx.trace_flags), state, ctx.is_remote)


def fields(span: ReadableSpan) -> dict[str, Any]:
    """Every field a processor or exporter can read from a finished span, in a comparable form
    (attribute order included: the OTLP encoder keeps it)."""
    scope = span.instrumentation_scope
    return {
        "name": span.name,
        "context": _ctx(span.context),
        "parent": _ctx(span.parent),
        "kind": span.kind,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "attributes": list((span.attributes or {}).items()),
        "attributes_type": type(span._attributes).__name__,
        "dropped_attributes": span.dropped_attributes,
        "events": [(e.name, e.timestamp, list((e.attributes or {}).items())) for e in span.events],
        "events_type": type(span._events).__name__,
        "dropped_events": span.dropped_events,
        "links": [(_ctx(li.context), list((li.attributes or {}).items())) for li in span.links],
        "dropped_links": span.dropped_links,
        "status": (span.status.status_code, span.status.description),
        "resource": (dict(span.resource.attributes), span.resource.schema_url),
        "scope": None
        if scope is None
        else (scope.name, scope.version, scope.schema_url, dict(scope.attributes or {})),
        "json": span.to_json(),
    }


def assert_equivalent(sdk: Run, fast: Run) -> None:
    """The two runs exported the same spans, field by field and as OTLP bytes, and propagated
    the same headers."""
    assert [fields(s) for s in fast.spans] == [fields(s) for s in sdk.spans]
    assert otlp(fast.spans) == otlp(sdk.spans)
    assert fast.headers == sdk.headers


def otlp(spans: Sequence[ReadableSpan]) -> bytes:
    return encode_spans(spans).SerializeToString()


def assert_fast(sdk: Run, fast: Run, *, ours: int) -> None:
    """The SDK run started only SDK spans; the fast run started ``ours`` fast spans."""
    assert "FastSpan" not in sdk.started
    assert fast.started.count("FastSpan") == ours

"""Test helpers for every genai-trace package: in-memory exporters, deterministic ids and clock,
span trees as dicts, and a guard that fails a test on any OpenTelemetry context error.

Loaded as a pytest plugin (``-p genai_trace_core.testing``); it needs ``opentelemetry-sdk``.
Nobody copies these fixtures: import them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

try:  # the SDK renamed it in 1.39
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
except ImportError:  # pragma: no cover - older SDKs
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        InMemoryLogExporter as InMemoryLogRecordExporter,
    )
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

from genai_trace_core._settings import CaptureMode, Settings
from genai_trace_core.lifecycle import CAN_UNDO_IN_TASK, Telemetry
from genai_trace_core.testing._provider_fixtures import (
    PROVIDER_INSTRUMENTATIONS,
    ProviderInstrumentation,
    provider_instrumentation,
    provider_instrumented,
)

__all__ = [
    "FakeClock",
    "IncrementalIdGenerator",
    "OTelHarness",
    "context_error_guard",
    "otel",
    "PROVIDER_INSTRUMENTATIONS",
    "ProviderInstrumentation",
    "provider_instrumentation",
    "provider_instrumented",
    "requires_async_root_activation",
    "span_tree",
    "spans_as_dicts",
    "tree_shape",
    "walk_tree",
]


requires_async_root_activation = pytest.mark.skipif(
    not CAN_UNDO_IN_TASK,
    reason=(
        "Python < 3.12: asyncio tasks expose no context, so a run started as a root in the "
        "caller's task is not made current (its end callback, run in a copy, could not undo it); "
        "spans opened inside such a root do not nest under it"
    ),
)


class IncrementalIdGenerator(IdGenerator):
    """Trace ids 1, 2, 3... and span ids 1, 2, 3... (thread-safe)."""

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
            return self._trace


class FakeClock:
    """A nanosecond clock that advances ``step_ns`` on every read (thread-safe)."""

    def __init__(self, start_ns: int = 1_000_000_000, step_ns: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self.now = start_ns
        self.step_ns = step_ns

    def __call__(self) -> int:
        with self._lock:
            self.now += self.step_ns
            return self.now

    def advance(self, ns: int) -> None:
        with self._lock:
            self.now += ns


def _attr_value(v: Any, parse_json: bool) -> Any:
    if isinstance(v, tuple):
        return list(v)
    if parse_json and isinstance(v, str) and v[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def spans_as_dicts(spans: list[ReadableSpan], *, parse_json: bool = True) -> list[dict[str, Any]]:
    """Flat, export-order list of span dicts with stable ids (hex)."""
    out: list[dict[str, Any]] = []
    for s in spans:
        ctx = s.get_span_context()
        assert ctx is not None
        out.append(
            {
                "name": s.name,
                "kind": s.kind.name,
                "trace_id": f"{ctx.trace_id:032x}",
                "span_id": f"{ctx.span_id:016x}",
                "parent_id": f"{s.parent.span_id:016x}" if s.parent is not None else None,
                "status": s.status.status_code.name,
                "attributes": {
                    k: _attr_value(v, parse_json) for k, v in (s.attributes or {}).items()
                },
                "events": [e.name for e in s.events],
                "start": s.start_time,
                "end": s.end_time,
            }
        )
    return out


def span_tree(
    spans: list[ReadableSpan],
    *,
    attributes: bool | tuple[str, ...] = True,
    parse_json: bool = True,
) -> list[dict[str, Any]]:
    """Nest finished spans by parent: ``[{"name", "kind", "status", "attributes", "children"}]``.

    Roots are spans whose parent is not among ``spans``; children are ordered by start time.
    ``attributes`` may be a tuple of keys to keep (for focused assertions) or False.
    """
    flat = spans_as_dicts(spans, parse_json=parse_json)
    by_id = {d["span_id"]: d for d in flat}
    nodes: dict[str, dict[str, Any]] = {}
    for d in flat:
        node: dict[str, Any] = {"name": d["name"], "kind": d["kind"], "status": d["status"]}
        if attributes is True:
            node["attributes"] = d["attributes"]
        elif attributes:
            node["attributes"] = {k: d["attributes"][k] for k in attributes if k in d["attributes"]}
        node["children"] = []
        node["_start"] = d["start"]
        nodes[d["span_id"]] = node
    roots: list[dict[str, Any]] = []
    for d in flat:
        node = nodes[d["span_id"]]
        parent_id = d["parent_id"]
        if parent_id is not None and parent_id in by_id:
            nodes[parent_id]["children"].append(node)
        else:
            roots.append(node)

    def finish(n: dict[str, Any]) -> dict[str, Any]:
        n["children"].sort(key=lambda c: c["_start"])
        for c in n["children"]:
            finish(c)
        n.pop("_start")
        return n

    roots.sort(key=lambda r: r["_start"])
    return [finish(r) for r in roots]


def tree_shape(
    nodes: list[dict[str, Any]],
    *,
    kind: bool = True,
    status: bool = True,
    unordered: tuple[str, ...] = (),
) -> list[Any]:
    """``[name, kind, status, [children...]]`` per node of :func:`span_tree` output, for compact
    whole-tree assertions (``kind``/``status`` can be left out).

    ``unordered`` names (prefixes) the nodes whose children run concurrently, e.g. LangChain's
    ``RunnableParallel`` on its thread pool: their children may start in either order, so they
    are listed in name order. Every other node keeps its children in start order.
    """
    out: list[Any] = []
    for n in nodes:
        row: list[Any] = [n["name"]]
        if kind:
            row.append(n["kind"])
        if status:
            row.append(n["status"])
        children = tree_shape(n["children"], kind=kind, status=status, unordered=unordered)
        if unordered and str(n["name"]).startswith(unordered):
            children.sort(key=str)
        row.append(children)
        out.append(row)
    return out


def walk_tree(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every node of :func:`span_tree` output, depth first."""
    for node in nodes:
        yield node
        yield from walk_tree(node["children"])


@dataclass
class OTelHarness:
    """SDK providers wired to in-memory exporters, with deterministic ids and clock."""

    clock: FakeClock = field(default_factory=FakeClock)
    ids: IncrementalIdGenerator = field(default_factory=IncrementalIdGenerator)

    def __post_init__(self) -> None:
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(id_generator=self.ids)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def telemetry(self, settings: Settings | None = None, **overrides: Any) -> Telemetry:
        """A core Telemetry on these providers (content off unless ``capture_mode`` is given)."""
        base = settings or Settings()
        if "capture_mode" in overrides and isinstance(overrides["capture_mode"], str):
            overrides["capture_mode"] = CaptureMode(overrides["capture_mode"])
        return Telemetry(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            settings=base.with_overrides(**overrides) if overrides else base,
            clock=self.clock,
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def tree(self, **kwargs: Any) -> list[dict[str, Any]]:
        return span_tree(self.spans(), **kwargs)

    def span_dicts(self, **kwargs: Any) -> list[dict[str, Any]]:
        return spans_as_dicts(self.spans(), **kwargs)

    def metrics(self) -> dict[str, list[dict[str, Any]]]:
        """``{metric name: [{"attributes": {...}, "value"|"sum"/"count"/"buckets": ...}]}``."""
        out: dict[str, list[dict[str, Any]]] = {}
        data = self.metric_reader.get_metrics_data()
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points = out.setdefault(m.name, [])
                    for p in m.data.data_points:
                        entry: dict[str, Any] = {"attributes": dict(p.attributes or {})}
                        if isinstance(p, HistogramDataPoint):
                            entry.update(count=p.count, sum=p.sum, bounds=list(p.explicit_bounds))
                        elif isinstance(p, NumberDataPoint):
                            entry["value"] = p.value
                        points.append(entry)
        return out

    def logs(self) -> list[Any]:
        return [r.log_record for r in self.log_exporter.get_finished_logs()]

    def clear(self) -> None:
        self.span_exporter.clear()
        self.log_exporter.clear()

    @contextlib.contextmanager
    def instrumented(self, instrumentor: Any, **kwargs: Any) -> Iterator[Any]:
        """Any OpenTelemetry ``BaseInstrumentor`` (a provider instrumentation, ours) instrumented
        on these providers for the ``with`` block, and always uninstrumented after it."""
        instrumentor.instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            **kwargs,
        )
        try:
            yield instrumentor
        finally:
            instrumentor.uninstrument()

    def spans_of_scope(self, scope: str) -> list[ReadableSpan]:
        """Finished spans whose instrumentation scope is named ``scope``."""
        return [
            s
            for s in self.spans()
            if s.instrumentation_scope is not None and s.instrumentation_scope.name == scope
        ]

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


class _ContextErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def otel() -> Iterator[OTelHarness]:
    """Fresh in-memory SDK providers with deterministic ids and clock."""
    harness = OTelHarness()
    try:
        yield harness
    finally:
        harness.shutdown()


@pytest.fixture(autouse=True)
def context_error_guard() -> Iterator[_ContextErrorCollector]:
    """Fail the test if OpenTelemetry logs any context error ("Failed to detach context")."""
    collector = _ContextErrorCollector()
    log = logging.getLogger("opentelemetry.context")
    log.addHandler(collector)
    try:
        yield collector
    finally:
        log.removeHandler(collector)
    if collector.records:
        msgs = "; ".join(r.getMessage() for r in collector.records)
        pytest.fail(f"OpenTelemetry context errors were logged: {msgs}")

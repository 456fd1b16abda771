"""In-memory SDK providers (spans, metrics, logs) with deterministic ids and clock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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

from genai_trace_core._settings import CaptureMode, Settings
from genai_trace_core.lifecycle import Telemetry
from genai_trace_core.testing._ids import FakeClock, IncrementalIdGenerator
from genai_trace_core.testing._snapshots import snapshot_dicts
from genai_trace_core.testing._trees import span_tree, spans_as_dicts

__all__ = ["InMemoryLogRecordExporter", "OTelHarness"]


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

    def snapshot_dicts(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Every finished span, whole, for an inline snapshot (see :func:`snapshot_dicts`)."""
        return snapshot_dicts(self.spans(), **kwargs)

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

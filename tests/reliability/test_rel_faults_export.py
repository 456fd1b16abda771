"""The tracing backend misbehaves: the application must not notice.

Each test runs a real OTLP/HTTP exporter behind ``GuardedBatchSpanProcessor`` against a backend on
127.0.0.1 that is down (a closed port), slow (answers after up to 10 s), or answers 500 / 429.
It then times thousands of start+end pairs on the application's thread. The threshold is on the
*whole* call (our own work included), at p99: it asserts that nothing on the application's thread
waits for the network (10 ms, far below any backend round trip here), not how fast our code is.
Lost spans are counted by reason, mirrored on a metric, and reported by exactly one warning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fake_otlp_backend import closed_port, serve
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from reliability_support import captured_logs

from genai_trace_core import (
    Operation,
    OperationKind,
    Outcome,
    RequestParams,
    Settings,
    Telemetry,
    semconv,
)

# internal: the drop counter and the guarded processor configure() builds, driven directly
from genai_trace_core.export._drops import DroppedSpans
from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

CALLS = 1000
WARMUP = 100
# The guarantee tested here is "the app never waits for the backend" (a slow backend answers after
# 10 s, a blocking export costs a network round trip per call). 10 ms separates that from noise on
# a loaded 2-core CI machine; how small the added p99 really is (issue 6: < 1 ms) is measured by a
# benchmark, not a timed unit test: `python -m tests.benchmarks --faults`.
P99_LIMIT_S = 0.010


@dataclass
class Backend:
    url: str
    release: threading.Event


@pytest.fixture(params=["down", "slow", "500", "429"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    mode: str = request.param
    release = threading.Event()
    if mode == "down":
        yield Backend(f"http://127.0.0.1:{closed_port()}/v1/traces", release)
        return
    with serve(mode, release) as url:
        yield Backend(url, release)


def _one_call(t: Telemetry, i: int) -> None:
    t.start(i, Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    t.start(
        (i, "chat"),
        Operation(
            OperationKind.CHAT,
            provider="openai",
            request_model="gpt-4o-mini",
            request=RequestParams(temperature=0.0),
        ),
        parent_run_id=i,
    )
    t.end(
        (i, "chat"),
        Outcome(
            raw_usage={"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
            response_model="gpt-4o-mini",
            finish_reasons=["stop"],
        ),
    )
    t.end(i)


def _dropped_metric(reader: InMemoryMetricReader) -> dict[str, int]:
    """``{error.type: value}`` of the dropped-spans counter."""
    data = reader.get_metrics_data()
    out: dict[str, int] = {}
    for rm in data.resource_metrics if data is not None else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == semconv.METRIC_EXPORT_SPANS_DROPPED:
                    for p in m.data.data_points:
                        out[str((p.attributes or {})[semconv.ERROR_TYPE])] = int(p.value)  # type: ignore[union-attr]
    return out


def _p99(samples: list[int]) -> float:
    ordered = sorted(samples)
    return ordered[int(len(ordered) * 0.99)] / 1e9


def _added_p99(faulty: Telemetry, healthy: Telemetry, calls: int, offset: int) -> float:
    """p99 of calls on the faulty pipeline minus p99 on a healthy one, interleaved call by call so
    both see the same machine load."""
    clock = time.perf_counter_ns
    bad: list[int] = []
    good: list[int] = []
    for i in range(offset, offset + calls):
        t0 = clock()
        _one_call(faulty, i)
        t1 = clock()
        _one_call(healthy, i)
        t2 = clock()
        bad.append(t1 - t0)
        good.append(t2 - t1)
    return _p99(bad) - _p99(good)


def _measure(faulty: Telemetry, healthy: Telemetry) -> list[float]:
    """Best of up to five rounds: load from other processes only ever adds latency, a call that
    waits on the network would add it in every round."""
    rounds: list[float] = []
    for r in range(5):
        rounds.append(_added_p99(faulty, healthy, CALLS, r * CALLS))
        if rounds[-1] < P99_LIMIT_S:
            break
    return rounds


@contextmanager
def _healthy_pipeline(
    meter_provider: MeterProvider | None = None,
) -> Iterator[Telemetry]:
    """The same pipeline (OTLP/HTTP, batch processor) against a backend that answers 200."""
    with serve("200", threading.Event()) as url:
        exporter = OTLPSpanExporter(endpoint=url, timeout=10)
        processor = GuardedBatchSpanProcessor(exporter, schedule_delay_millis=20)
        provider = TracerProvider()
        provider.add_span_processor(processor)
        try:
            yield Telemetry(
                tracer_provider=provider, meter_provider=meter_provider, settings=Settings()
            )
        finally:
            processor.shutdown()


def test_backend_faults_never_slow_the_app_and_drops_are_counted_once(backend: Backend) -> None:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    dropped = DroppedSpans(meter_provider)
    exporter = OTLPSpanExporter(endpoint=backend.url, timeout=10)
    processor = GuardedBatchSpanProcessor(
        exporter,
        dropped=dropped,
        meter_provider=meter_provider,
        max_queue_size=256,
        max_export_batch_size=64,
        schedule_delay_millis=20,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    t = Telemetry(tracer_provider=provider, meter_provider=meter_provider, settings=Settings())
    try:
        with (
            _healthy_pipeline(MeterProvider()) as healthy,
            captured_logs("genai_trace", logging.WARNING) as ours,
            captured_logs("opentelemetry.sdk", logging.WARNING) as sdk,
        ):
            for i in range(WARMUP):  # first calls load genai-prices and warm caches
                _one_call(t, -1 - i)
                _one_call(healthy, -1 - i)
            time.sleep(0.1)  # the first export is now in flight against the faulty backend
            rounds = _measure(t, healthy)
        assert t.open_count() == 0
        assert min(rounds) < P99_LIMIT_S, f"added p99 per round (s): {rounds} for {backend.url}"
        # The exporter cannot deliver: spans were lost (a full queue while it retries or waits,
        # failed batches when it gives up at once, as on a 500) and counted.
        counts = dropped.counts()
        assert sum(counts.values()) > 0
        assert set(counts) <= {semconv.EXPORT_DROP_QUEUE_FULL, semconv.EXPORT_DROP_FAILED}
        drop_warnings = [r for r in ours if "could not be exported" in r.getMessage()]
        assert len(drop_warnings) == 1
        assert [r for r in sdk if "Queue full" in r.getMessage()] == []
        assert _dropped_metric(reader) == counts
    finally:
        backend.release.set()
        exporter.shutdown()  # aborts retry back-off at once
        processor.shutdown()
        meter_provider.shutdown()


def test_the_latency_measurement_detects_an_exporter_that_blocks_the_app() -> None:
    """Control: the same measurement fails a pipeline that exports on the app's thread."""

    class Blocking(InMemorySpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            time.sleep(0.05)  # a 50 ms network round trip
            return super().export(spans)

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Blocking()))
    blocking = Telemetry(tracer_provider=provider, settings=Settings())
    with _healthy_pipeline() as healthy:
        added = _added_p99(blocking, healthy, 100, 0)
    assert added > P99_LIMIT_S


def test_spans_ended_after_the_processor_shut_down_are_counted_not_logged() -> None:
    dropped = DroppedSpans(MeterProvider())

    class Sink(OTLPSpanExporter):
        pass

    processor = GuardedBatchSpanProcessor(
        Sink(endpoint=f"http://127.0.0.1:{closed_port()}/v1/traces", timeout=1),
        dropped=dropped,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    t = Telemetry(tracer_provider=provider, settings=Settings())
    t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    processor.shutdown()
    with captured_logs("genai_trace", logging.WARNING) as ours:
        t.start("chat", Operation(OperationKind.CHAT, request_model="m"), parent_run_id="wf")
        t.end("chat")
        t.end("wf")
    assert t.open_count() == 0
    assert dropped.counts() == {semconv.EXPORT_DROP_SHUTDOWN: 2}
    assert len([r for r in ours if "could not be exported" in r.getMessage()]) == 1

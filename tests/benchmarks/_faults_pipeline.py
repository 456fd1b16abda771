"""The pipeline the backend-faults benchmark (``_faults``) measures: what
``configure(endpoint=...)`` builds over http/protobuf, the fake backend it talks to, and what got
logged."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DROP_WARNING = "could not be exported"
_MODE = {"healthy": "200", "slow": "slow", "500": "500", "429": "429"}  # down: a closed port
_LOGGERS = ("genai_trace", "opentelemetry", "langchain_core")


# --- the pipeline a user gets -----------------------------------------------------------------


@dataclass
class Pipeline:
    """Tracer, meter and logger providers as ``configure(endpoint=base_url)`` builds them over
    ``http/protobuf``, and a LangChain handler on them."""

    handler: Any
    tracer_provider: Any
    meter_provider: Any
    logger_provider: Any
    processor: Any  # GuardedBatchSpanProcessor
    exporters: tuple[Any, ...]

    def dropped(self) -> dict[str, int]:
        counts: dict[str, int] = self.processor.dropped.counts()
        return counts

    def export_thread_cpu_s(self) -> float | None:
        worker = getattr(getattr(self.processor, "_batch_processor", None), "_worker_thread", None)
        return thread_cpu_s(getattr(worker, "native_id", None))

    def stop_exporters(self) -> None:
        """Abort retries and back-off at once (a down backend would hold shutdown for 10 s per
        queued batch)."""
        for exporter in self.exporters:
            exporter.shutdown()

    def shutdown(self) -> None:
        if self.handler is not None:
            self.handler.telemetry.shutdown()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def build_pipeline(base_url: str, service_name: str, *, with_handler: bool = True) -> Pipeline:
    """Mirrors ``genai_trace_core.export._configure._build`` for an OTLP endpoint over http/protobuf
    (``test_harness`` checks that the span processor matches what ``configure()`` builds)."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from genai_trace_core import semconv
    from genai_trace_core.export._configure import PROTOCOL_HTTP, guarded_span_processor
    from genai_trace_core.export._quiet import quiet_exporter_logs
    from genai_trace_core.export._signals import otlp_exporter

    resource = Resource.create({semconv.SERVICE_NAME: service_name})
    span_exporter = otlp_exporter("traces", base_url, PROTOCOL_HTTP)
    metric_exporter = otlp_exporter("metrics", base_url, PROTOCOL_HTTP)
    log_exporter = otlp_exporter("logs", base_url, PROTOCOL_HTTP)
    quiet_exporter_logs()  # as configure() does
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(metric_exporter)],
        shutdown_on_exit=False,
    )
    processor = guarded_span_processor(span_exporter, meter_provider)
    tracer_provider.add_span_processor(processor)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    handler = None
    if with_handler:
        from genai_trace_langchain import OpenTelemetryCallbackHandler

        handler = OpenTelemetryCallbackHandler(tracer_provider, meter_provider, logger_provider)
    return Pipeline(
        handler,
        tracer_provider,
        meter_provider,
        logger_provider,
        processor,
        (span_exporter, metric_exporter, log_exporter),
    )


def thread_cpu_s(native_id: int | None) -> float | None:
    """User + system CPU seconds of one thread of this process (Linux), else ``None``."""
    if native_id is None:
        return None
    try:
        with open(f"/proc/self/task/{native_id}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def backend(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(base_url, received)``; ``received`` is filled when the backend stops."""
    from tests.reliability.fake_otlp_backend import closed_port, serve_in_subprocess

    if name == "down":
        yield f"http://127.0.0.1:{closed_port()}", {}
        return
    with serve_in_subprocess(_MODE[name]) as backend:
        received: dict[str, Any] = {}
        yield backend.base_url, received
    received.update(backend.received)


# --- what was logged ---------------------------------------------------------------------------


class Counting(logging.Handler):
    """Counts records (WARNING and above) per logger family; keeps one example of each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.drop_warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        family = record.name.split(".", 1)[0]
        self.counts[family] += 1
        message = record.getMessage()
        if family == "genai_trace" and DROP_WARNING in message:
            self.drop_warnings += 1
        self.examples.setdefault(f"{record.name}: {record.msg}", message[:300])

    def reset(self) -> None:
        self.acquire()  # emit() runs under the same lock
        try:
            self.counts.clear()
            self.examples.clear()
            self.drop_warnings = 0
        finally:
            self.release()


@contextmanager
def capture_logs() -> Iterator[Counting]:
    """Records go to the counter, not to stderr (the exporter logs a line per failed batch)."""
    handler = Counting()
    loggers = [logging.getLogger(n) for n in _LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg in loggers:
            lg.removeHandler(handler)

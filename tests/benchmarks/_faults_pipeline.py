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
_ENV_ENCODER = "GENAI_TRACE_OTLP_ENCODER"  # documented in docs/guarantees.md
_LOGGERS = ("genai_trace", "opentelemetry", "langchain_core")


# --- the pipeline a user gets -----------------------------------------------------------------


@dataclass
class Pipeline:
    """What ``configure(endpoint=base_url)`` builds over ``http/protobuf`` (not installed
    globally, no terminal tree, no JSONL file), and a LangChain handler on its providers."""

    handler: Any
    providers: Any  # genai_trace_core.Providers
    ended: Any = None  # a span processor counting the spans ended on the tracer provider

    def spans_ended(self) -> int:
        return 0 if self.ended is None else int(self.ended.count)

    @property
    def tracer_provider(self) -> Any:
        return self.providers.tracer_provider

    @property
    def meter_provider(self) -> Any:
        return self.providers.meter_provider

    @property
    def logger_provider(self) -> Any:
        return self.providers.logger_provider

    @property
    def processor(self) -> Any:
        """The guarded OTLP span processor (``GuardedBatchSpanProcessor``)."""
        return self.providers.span_processor

    def dropped(self) -> dict[str, int]:
        counts: dict[str, int] = self.processor.dropped.counts()
        return counts

    def export_thread_cpu_s(self) -> float | None:
        worker = getattr(getattr(self.processor, "_batch_processor", None), "_worker_thread", None)
        return thread_cpu_s(getattr(worker, "native_id", None))

    def exporters(self) -> tuple[Any, ...]:
        """The OTLP span, metric and log exporters ``configure()`` built (read from the SDK)."""
        spans = self.processor._batch_processor._exporter.inner  # inside the drop counter
        (reader,) = self.meter_provider._metric_readers
        (logs,) = self.logger_provider._multi_log_record_processor._log_record_processors
        return spans, reader._exporter, logs._batch_processor._exporter

    def stop_exporters(self) -> None:
        """Abort retries and back-off at once (a down backend would hold shutdown for 10 s per
        queued batch)."""
        for exporter in self.exporters():
            exporter.shutdown()

    def shutdown(self) -> None:
        if self.handler is not None:
            self.handler.telemetry.shutdown()
        self.providers.shutdown(timeout_millis=60_000)  # flushes what is left, within a minute


def _ended_spans() -> Any:
    """A span processor counting the spans ended (the export thread's CPU is divided by it)."""
    from opentelemetry.sdk.trace import SpanProcessor

    class EndedSpans(SpanProcessor):
        count = 0

        def on_end(self, span: Any) -> None:
            self.count += 1

    return EndedSpans()


def build_pipeline(
    base_url: str, service_name: str, *, with_handler: bool = True, encoder: str = "fast"
) -> Pipeline:
    """``configure(endpoint=base_url)`` over http/protobuf, as a user calls it, minus the globals
    (several pipelines run side by side) and the terminal tree and JSONL file.
    ``encoder="sdk"``: built under ``GENAI_TRACE_OTLP_ENCODER=sdk`` (the SDK's encoder and its
    128-span batches: the "before" of issue 14's export target)."""
    from genai_trace_core import configure

    saved = os.environ.get(_ENV_ENCODER)
    if encoder == "sdk":
        os.environ[_ENV_ENCODER] = "sdk"
    try:
        providers = configure(
            service_name=service_name,
            endpoint=base_url,
            protocol="http/protobuf",
            console=False,
            jsonl_path="",
            set_global=False,
        )
    finally:
        if saved is None:
            os.environ.pop(_ENV_ENCODER, None)
        else:
            os.environ[_ENV_ENCODER] = saved
    ended = _ended_spans()
    providers.tracer_provider.add_span_processor(ended)
    handler = None
    if with_handler:
        from genai_trace_langchain import OpenTelemetryCallbackHandler

        handler = OpenTelemetryCallbackHandler(
            providers.tracer_provider, providers.meter_provider, providers.logger_provider
        )
    return Pipeline(handler, providers, ended)


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

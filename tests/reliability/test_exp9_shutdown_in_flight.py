"""Spans lost at shutdown while their export is stuck on the backend are counted and reported.

docs/guarantees.md ("A down or slow backend costs you nothing"): spans that cannot be delivered
are "dropped, counted and reported once" (``genai_trace.export.spans_dropped`` and one warning on
the ``genai_trace`` logger), and ``Providers.shutdown()`` says what it could not send by its
deadline is "lost (counted in genai_trace.export.spans_dropped)".

A short program (a CLI, a job, a test run) whose backend accepts connections and never answers
ends before the batch processor's 5 s schedule, so its first export starts at shutdown and hangs
there. Shutdown gives up at its deadline, counts what is still queued, and stops the exporter;
but the batch *in flight* was taken off the queue and its request keeps waiting for the
exporter's 10 s timeout, after the process is gone: measured with a LangChain program (10 calls,
40 spans, traces to a hanging backend, metrics to a healthy one) before the fix, 0 spans counted
in the exported metric and nothing at all on stderr.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from fake_otlp_backend import serve
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from reliability_support import captured_logs

from genai_trace_core import Operation, OperationKind, Settings, Telemetry, configure, semconv

# internal: the guarded processor configure() builds, driven with a stuck exporter
from genai_trace_core.export._guarded import GuardedBatchSpanProcessor
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

_DROP_WARNING = "could not be exported"


def _warnings(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if _DROP_WARNING in r.getMessage()]


class _StuckThenFails(SpanExporter):
    """An exporter whose export waits until released, then fails (a request that times out)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait(30)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:  # like requests: closing does not end a request in flight
        pass


def test_a_batch_stuck_in_flight_at_shutdown_is_counted_once() -> None:
    exporter = _StuckThenFails()
    processor = GuardedBatchSpanProcessor(exporter, schedule_delay_millis=60_000)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    t = Telemetry(tracer_provider=provider, settings=Settings())
    with captured_logs("genai_trace", logging.WARNING) as records:
        for i in range(10):
            t.start(i, Operation(OperationKind.CHAT, request_model="m"))
            t.end(i)
        processor.shutdown_timeout_s = 0.5
        started = time.monotonic()
        processor.shutdown()  # its export takes the 10 spans and hangs on the backend
        took = time.monotonic() - started
        try:
            assert exporter.entered.is_set()
            assert took < 0.5 + 2.0
            # counted by the time shutdown returns (the process may end right after it)
            assert processor.dropped.total == 10, processor.dropped.counts()
            assert len(_warnings(records)) == 1
        finally:
            exporter.release.set()  # the stuck request fails at last: not counted twice
        # the SDK's worker ends once the stuck export has returned (and been counted, or not)
        worker = processor._batch_processor._worker_thread
        worker.join(5)
        assert not worker.is_alive()
    assert processor.dropped.total == 10, processor.dropped.counts()
    assert len(_warnings(records)) == 1


def _chain_calls(providers_tracer: TracerProvider, calls: int) -> None:
    handler = OpenTelemetryCallbackHandler(tracer_provider=providers_tracer)
    chain = (
        ChatPromptTemplate.from_messages([("human", "{q}")])
        | FakeChatOpenAI(responses=["A short answer."])
        | StrOutputParser()
    )
    for i in range(calls):
        assert chain.invoke({"q": f"q{i}"}, config={"callbacks": [handler]}) == "A short answer."


def test_configure_shutdown_counts_spans_stuck_on_a_backend_that_never_answers() -> None:
    release = threading.Event()
    with serve("slow", release) as url, captured_logs("genai_trace", logging.WARNING) as records:
        providers = configure(
            endpoint=url.removesuffix("/v1/traces"), set_global=False, console=False
        )
        ended = InMemorySpanExporter()
        providers.tracer_provider.add_span_processor(SimpleSpanProcessor(ended))
        processor = providers.span_processor
        assert isinstance(processor, GuardedBatchSpanProcessor)
        try:
            _chain_calls(providers.tracer_provider, 10)
            spans = len(ended.get_finished_spans())
            assert spans >= 20
            providers.shutdown(timeout_millis=2000)  # the first export starts now and hangs
            counts = processor.dropped.counts()
            assert sum(counts.values()) == spans, counts
            assert set(counts) <= {semconv.EXPORT_DROP_SHUTDOWN, semconv.EXPORT_DROP_FAILED}
            assert len(_warnings(records)) == 1
        finally:
            release.set()


_PROGRAM = """
from genai_trace_core import configure
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

providers = configure(service_name="exp9-exit")
LangChainInstrumentor().instrument(tracer_provider=providers.tracer_provider)
for i in range(5):
    FakeChatOpenAI(responses=["ok"]).invoke(f"question {i}")
print("done", flush=True)
"""


def test_a_program_exiting_with_its_spans_stuck_says_so_once_on_stderr(tmp_path: Path) -> None:
    release = threading.Event()
    with serve("slow", release) as url:
        env = dict(os.environ)
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = url
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
            env.pop(name, None)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PROGRAM],
                capture_output=True,
                check=False,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=60,
            )
        finally:
            release.set()
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    lines = [line for line in done.stderr.splitlines() if _DROP_WARNING in line]
    assert len(lines) == 1, done.stderr
    assert "5 span(s)" in lines[0], lines  # the whole stuck batch
    assert took < 30, f"the program took {took:.1f} s"  # startup + the 5 s exit budget

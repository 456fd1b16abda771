"""A down or slow backend never holds the application at flush or exit.

The SDK's ``force_flush`` exports on the caller's thread and retries a failing backend for up to
the exporter's 10 s timeout per batch, whatever flush timeout was asked for; its ``shutdown`` (run
at interpreter exit) retries every queued batch the same way: 15 s and 37 s were measured with a
closed port before ``Providers`` and ``GuardedBatchSpanProcessor`` bounded both. The limits below
are the budgets the API promises plus scheduling slack; a retrying exporter misses them by
seconds, so they separate "waits for the backend" from "does not", not fast from slow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fake_otlp_backend import closed_port, serve
from opentelemetry.sdk.trace import TracerProvider
from reliability_support import captured_logs

from genai_trace_core import (
    Operation,
    OperationKind,
    Providers,
    Settings,
    Telemetry,
    configure,
    semconv,
)

# internal: the guarded processor and the exporter-log filter configure() installs
from genai_trace_core.export._guarded import GuardedBatchSpanProcessor
from genai_trace_core.export._quiet import _quiet

SLACK_S = 2.0


@pytest.fixture(params=["down", "slow"])
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An OTLP base URL (exporters append ``/v1/traces`` ...) that never accepts data in time."""
    if request.param == "down":
        yield f"http://127.0.0.1:{closed_port()}"
        return
    release = threading.Event()
    try:
        with serve("slow", release) as url:
            yield url.removesuffix("/v1/traces")
    finally:
        release.set()


def _guarded(providers: Providers) -> GuardedBatchSpanProcessor:
    processor = providers.span_processor
    assert isinstance(processor, GuardedBatchSpanProcessor)
    return processor


def _spans(provider: TracerProvider, runs: int) -> None:
    t = Telemetry(tracer_provider=provider, settings=Settings())
    for i in range(runs):
        t.start(i, Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
        t.start((i, "c"), Operation(OperationKind.CHAT, request_model="m"), parent_run_id=i)
        t.end((i, "c"))
        t.end(i)
    assert t.open_count() == 0


def _wait_for_first_export(processor: GuardedBatchSpanProcessor) -> None:
    """Until the exporter has failed once or waited on the backend for 1 s (at most 5 s)."""
    deadline = time.monotonic() + 5
    while not processor._counting.unhealthy():
        assert time.monotonic() < deadline, "the exporter never tried the backend"
        time.sleep(0.05)


def test_force_flush_returns_within_its_timeout_when_the_backend_fails(base_url: str) -> None:
    providers = configure(endpoint=base_url, set_global=False, console=False)
    try:
        _spans(providers.tracer_provider, 600)  # more than one 512-span batch
        started = time.monotonic()
        flushed = providers.force_flush(500)
        took = time.monotonic() - started
        assert flushed is False
        assert took < 0.5 + SLACK_S, f"force_flush(500) took {took:.1f} s"
    finally:
        _release_quickly(providers)


def test_shutdown_returns_within_its_budget_and_counts_what_it_drops(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 128-span batches, so a batch is still being retried when shutdown comes (with the fast
    # encoder's 512, a down backend can fail every batch before it, leaving none to count)
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128")
    providers = configure(endpoint=base_url, set_global=False, console=False)
    processor = _guarded(providers)
    _spans(providers.tracer_provider, 1500)  # 3000 spans: a full 2048 queue while it retries
    _wait_for_first_export(processor)
    started = time.monotonic()
    providers.shutdown(timeout_millis=3000)
    took = time.monotonic() - started
    assert took < 3.0 + SLACK_S, f"shutdown(3000) took {took:.1f} s"
    assert providers.is_shutdown
    counts = processor.dropped.counts()
    # Nothing reached the backend: every span is counted under some reason, none is lost silently
    # (those still inside the batch being retried when shutdown returned count when it fails).
    assert counts.get(semconv.EXPORT_DROP_SHUTDOWN, 0) > 0
    assert set(counts) <= {
        semconv.EXPORT_DROP_SHUTDOWN,
        semconv.EXPORT_DROP_QUEUE_FULL,
        semconv.EXPORT_DROP_FAILED,
    }


def _release_quickly(providers: Providers) -> None:
    providers.shutdown(timeout_millis=1000)


def test_a_failing_backend_gets_one_exporter_log_line_per_kind_not_one_per_batch() -> None:
    _quiet._seen.clear()  # earlier tests in this process may have logged these kinds already
    _quiet.suppressed = 0
    release = threading.Event()
    with serve("500", release) as url, captured_logs("opentelemetry", logging.WARNING) as sdk:
        providers = configure(endpoint=url.removesuffix("/v1/traces"), set_global=False)
        try:
            _spans(providers.tracer_provider, 400)  # 800 spans: 7 batches, every one rejected
            providers.force_flush(3000)  # failed batches (or, on older SDKs, retries) repeat
        finally:
            _release_quickly(providers)
        dropped = _guarded(providers).dropped
        deadline = time.monotonic() + 5  # a batch in flight at shutdown is counted when it fails
        while dropped.total < 800 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert dropped.total == 800  # every span lost, and counted under some reason
    exporter = [r for r in sdk if r.name.startswith("opentelemetry.exporter.otlp")]
    exporter_lines = Counter((r.name, r.msg) for r in exporter)
    assert exporter_lines, "the first failure is still logged"
    assert max(exporter_lines.values()) == 1, exporter_lines
    assert _quiet.suppressed > 0  # the exporter did repeat itself: the repeats were dropped

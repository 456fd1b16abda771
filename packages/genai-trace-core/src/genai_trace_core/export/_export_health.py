"""Spans lost on the way to the backend: counted, and reported once.

When the OTLP backend is down, slow or answering 500/429, the SDK's ``BatchSpanProcessor`` keeps
the application fast (export runs on its own thread) but loses spans in two places, neither
counted by default: a full queue (the SDK logs a warning *per dropped span*, which is both noise
and a cost on the application's thread) and a failed export (the batch is gone). This module adds:

* :class:`DroppedSpans`: a thread-safe tally by reason (``queue_full``, ``export_failed``,
  ``already_shutdown``), mirrored on the ``genai_trace.export.spans_dropped`` counter (attribute
  ``error.type``), with a single warning on the ``genai_trace`` logger the first time anything is
  dropped: never one per span or per batch.
* :class:`CountingSpanExporter`: wraps any exporter; spans of a failed or raising export are
  counted, and an exporter that raises never reaches the processor's thread.
* :class:`GuardedBatchSpanProcessor`: a ``BatchSpanProcessor`` whose ``on_end`` counts a span it
  cannot queue (queue full, processor shut down) instead of logging, and returns at once, and
  whose ``force_flush``/``shutdown`` return within their time budget when the backend is down.

``opentelemetry-sdk`` is imported here at module level: import this module only where the SDK is
installed (``configure()``, the ``[sdk]`` extra).
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from genai_trace_core import semconv
from genai_trace_core._safe import log_once
from genai_trace_core.export._bounded import SHUTDOWN_TIMEOUT_S, run_bounded
from genai_trace_core.version import __version__

__all__ = [
    "CountingSpanExporter",
    "DroppedSpans",
    "GuardedBatchSpanProcessor",
    "quiet_exporter_logs",
]

logger = logging.getLogger("genai_trace")

_SCOPE = "genai_trace"


class DroppedSpans:
    """How many spans were lost before reaching the backend, by reason.

    The first drop logs one warning on the ``genai_trace`` logger; later drops only count (in
    :meth:`counts` and on the ``genai_trace.export.spans_dropped`` counter)."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._reported = False
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider)
        self._counter = meter.create_counter(
            semconv.METRIC_EXPORT_SPANS_DROPPED,
            "{span}",
            "Spans lost before reaching the backend (queue full, export failed, shut down)",
        )

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """A copy of ``{reason: spans}``."""
        with self._lock:
            return dict(self._counts)

    def add(self, count: int, reason: str) -> None:
        if count <= 0:
            return
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + count
            first = not self._reported
            self._reported = True
        try:
            self._counter.add(count, {semconv.ERROR_TYPE: reason})
        except Exception:  # counting never breaks the caller
            log_once("export-health.counter", "genai-trace: recording dropped spans failed")
        if first:
            logger.warning(
                "genai-trace: %d span(s) could not be exported (%s); the tracing backend may be "
                "down or slow. The application is not affected. Further drops are counted in the "
                "%s metric and not logged again.",
                count,
                reason,
                semconv.METRIC_EXPORT_SPANS_DROPPED,
            )


class CountingSpanExporter(SpanExporter):
    """Delegates to ``inner``; counts the spans of every export that does not succeed."""

    def __init__(self, inner: SpanExporter, dropped: DroppedSpans) -> None:
        self.inner = inner
        self.dropped = dropped
        self._last_failed = False
        self._in_flight_since: float | None = None
        self._stopped = False
        self._stop_lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._in_flight_since = time.monotonic()
        try:
            result = self.inner.export(spans)
        except Exception:  # a raising exporter loses the batch, nothing more
            log_once("export-health.raised", "genai-trace: the span exporter raised")
            result = SpanExportResult.FAILURE
        finally:
            self._in_flight_since = None
        self._last_failed = result is not SpanExportResult.SUCCESS
        if self._last_failed:
            self.dropped.add(len(spans), semconv.EXPORT_DROP_FAILED)
        return result

    def unhealthy(self, stuck_after_s: float = 1.0) -> bool:
        """The last export failed, or one has been waiting on the backend for ``stuck_after_s``."""
        since = self._in_flight_since
        return self._last_failed or (since is not None and time.monotonic() - since > stuck_after_s)

    def shutdown(self) -> None:
        """Once: the processor may stop us early (a failing backend), then again at its end."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


_SDK_TAKES_METER_PROVIDER = (
    "meter_provider" in inspect.signature(BatchSpanProcessor.__init__).parameters
)


class GuardedBatchSpanProcessor(BatchSpanProcessor):
    """A ``BatchSpanProcessor`` that counts, instead of logging, every span it loses.

    ``exporter`` is wrapped in :class:`CountingSpanExporter`; other arguments are the SDK's.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        dropped: DroppedSpans | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        **batch_options: Any,
    ) -> None:
        self.dropped = dropped if dropped is not None else DroppedSpans(meter_provider)
        if meter_provider is not None and _SDK_TAKES_METER_PROVIDER:
            batch_options["meter_provider"] = meter_provider  # SDK self-metrics (newer SDKs)
        self._counting = CountingSpanExporter(exporter, self.dropped)
        super().__init__(self._counting, **batch_options)
        self._closed = False
        self.shutdown_timeout_s = SHUTDOWN_TIMEOUT_S
        queue = getattr(getattr(self, "_batch_processor", None), "_queue", None)
        # The SDK's bounded deque; without it (a future SDK) the SDK's own handling applies.
        self._queue: deque[Any] | None = queue if isinstance(queue, deque) else None

    def on_end(self, span: ReadableSpan) -> None:
        ctx = span.context
        if not (ctx and ctx.trace_flags.sampled):
            return
        if self._closed:
            self.dropped.add(1, semconv.EXPORT_DROP_SHUTDOWN)
            return
        queue = self._queue
        if queue is not None and queue.maxlen is not None and len(queue) >= queue.maxlen:
            self.dropped.add(1, semconv.EXPORT_DROP_QUEUE_FULL)
            return
        super().on_end(span)

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        """The SDK's flush, but never longer than ``timeout_millis`` (the SDK's exports on the
        caller's thread and retries a failing backend past the timeout)."""
        timeout = 30_000 if timeout_millis is None else timeout_millis
        flush = super().force_flush
        flushed = run_bounded(lambda: flush(timeout), timeout / 1000, "span-flush")
        # Some SDK versions report a flush whose export failed as done: not delivered is False.
        return flushed and not self._counting.unhealthy()

    def shutdown(self) -> None:
        """Stop within :attr:`shutdown_timeout_s`. With the backend failing or stuck, queued spans
        are counted as lost (``already_shutdown``) and the exporter is stopped first, which ends
        its retry back-off, instead of being retried for tens of seconds at interpreter exit; what
        is still queued when the budget runs out is counted the same way."""
        self._closed = True
        counting = self._counting
        if counting.unhealthy():
            self._drop_queued()
            self._stop_exporter()
        if not run_bounded(super().shutdown, self.shutdown_timeout_s, "span-shutdown"):
            self._drop_queued()
            self._stop_exporter()  # the SDK's shutdown goes on in the background, briefly

    def _drop_queued(self) -> None:
        queue = self._queue
        if queue is not None:
            lost = len(queue)
            queue.clear()
            self.dropped.add(lost, semconv.EXPORT_DROP_SHUTDOWN)

    def _stop_exporter(self) -> None:
        try:
            self._counting.shutdown()  # ends the OTLP exporters' retry back-off
        except Exception:
            log_once("export-health.shutdown", "genai-trace: exporter shutdown failed")


_EXPORTER_LOGGERS = "opentelemetry.exporter.otlp"
_REPEAT_NOTE = " (genai-trace: further occurrences of this message are not logged)"


class _FirstOfEachMessage(logging.Filter):
    """Lets through the first record of each message template, drops the repeats."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, object]] = set()
        self._lock = threading.Lock()
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        with self._lock:
            if key in self._seen:
                self.suppressed += 1
                return False
            if len(self._seen) < 256:
                self._seen.add(key)
        if isinstance(record.msg, str):
            record.msg = record.msg + _REPEAT_NOTE
        return True


_quiet = _FirstOfEachMessage()


def quiet_exporter_logs() -> None:
    """The OTLP exporters log every failed or retried batch (hundreds of lines while a backend is
    down); keep the first of each kind. Applies to the exporter modules imported so far."""
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(_EXPORTER_LOGGERS):
            log = logging.getLogger(name)
            if _quiet not in log.filters:
                log.addFilter(_quiet)

"""Spans lost on the way to the backend: counted by reason, and reported once.

When the OTLP backend is down, slow or answering 500/429, spans are lost in two places the SDK
does not count: a full queue and a failed export. :class:`DroppedSpans` is a thread-safe tally by
reason (``queue_full``, ``export_failed``, ``already_shutdown``) mirrored on the
``genai_trace.export.spans_dropped`` counter, with one warning on the ``genai_trace`` logger the
first time anything is dropped. :class:`CountingSpanExporter` wraps any exporter: spans of a failed
or raising export are counted, and an exporter that raises never reaches the processor's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from genai_trace_core import semconv
from genai_trace_core._safe import log_once
from genai_trace_core.version import __version__

logger = logging.getLogger("genai_trace")

_SCOPE = "genai_trace"


class DroppedSpans:
    """How many spans were lost before reaching the backend, by reason.

    The first drop logs one warning on the ``genai_trace`` logger (one more, worded apart, for the
    first span that ends after shutdown: the backend is not to blame); later drops only count (in
    :meth:`counts` and on the ``genai_trace.export.spans_dropped`` counter)."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._reported: set[str] = set()  # the warnings logged: "backend", "after_shutdown"
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

    def add(self, count: int, reason: str, *, ended_after_shutdown: bool = False) -> None:
        """Count ``count`` spans lost for ``reason``. ``ended_after_shutdown``: spans that ended
        after the processor was shut down (the app's work, not the backend: its own warning)."""
        if count <= 0:
            return
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + count
            kind = "after_shutdown" if ended_after_shutdown else "backend"
            first = kind not in self._reported
            self._reported.add(kind)
        try:
            self._counter.add(count, {semconv.ERROR_TYPE: reason})
        except Exception:  # counting never breaks the caller
            log_once("export-health.counter", "genai-trace: recording dropped spans failed")
        if first and ended_after_shutdown:
            logger.warning(
                "genai-trace: %d span(s) could not be exported (%s): they ended after the tracer "
                "provider was already shut down (providers.shutdown()); work traced after it is "
                "not exported. The application is not affected. Further such drops are counted "
                "in the %s metric and not logged again.",
                count,
                reason,
                semconv.METRIC_EXPORT_SPANS_DROPPED,
            )
        elif first:
            logger.warning(
                "genai-trace: %d span(s) could not be exported (%s); the tracing backend may be "
                "down or slow. The application is not affected. Further such drops are counted in "
                "the %s metric and not logged again.",
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
        # The export under way: its number and size, and whether shutdown already counted it.
        self._batch_lock = threading.Lock()
        self._batch = 0
        self._batch_spans = 0
        self._batch_counted = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._batch_lock:
            self._batch += 1
            batch = self._batch
            self._batch_spans = len(spans)
            self._batch_counted = False
        self._in_flight_since = time.monotonic()
        try:
            result = self.inner.export(spans)
        except Exception:  # a raising exporter loses the batch, nothing more
            log_once("export-health.raised", "genai-trace: the span exporter raised")
            result = SpanExportResult.FAILURE
        finally:
            self._in_flight_since = None
        self._last_failed = result is not SpanExportResult.SUCCESS
        with self._batch_lock:
            counted = self._batch == batch and self._batch_counted
            if self._batch == batch:
                self._batch_spans = 0
        if self._last_failed and not counted:
            self.dropped.add(len(spans), semconv.EXPORT_DROP_FAILED)
        return result

    def abandon_in_flight(self) -> int:
        """The spans of the export still waiting on the backend, which the caller counts as lost
        (shutdown gave up on them: the process may end before the request does); that export's
        failure, if it comes, is then not counted again. 0 when no export is under way."""
        with self._batch_lock:
            if self._batch_counted or not self._batch_spans:
                return 0
            self._batch_counted = True
            return self._batch_spans

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

"""A ``BatchSpanProcessor`` that never stalls or floods the app when the backend is down.

:class:`GuardedBatchSpanProcessor`: ``on_end`` counts a span it cannot queue (queue full, processor
shut down) in :class:`~._drops.DroppedSpans` instead of logging one warning per span, and returns
at once; ``force_flush``/``shutdown`` return within their time budget.
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from genai_trace_core import semconv
from genai_trace_core._safe import log_once
from genai_trace_core.export._bounded import SHUTDOWN_TIMEOUT_S, run_bounded
from genai_trace_core.export._drops import CountingSpanExporter, DroppedSpans

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
            self.dropped.add(1, semconv.EXPORT_DROP_SHUTDOWN, ended_after_shutdown=True)
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
            # the batch whose request still waits on the backend (a request in flight is not
            # ended by stopping the exporter) is lost too, and the process may exit before it
            # fails: count it now
            self.dropped.add(self._counting.abandon_in_flight(), semconv.EXPORT_DROP_SHUTDOWN)
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

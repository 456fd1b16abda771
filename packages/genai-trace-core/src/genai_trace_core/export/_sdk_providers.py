"""``Providers``: the tracer, meter and logger providers :func:`~.configure` built, flushed and shut
down within a time budget (a down or slow backend never holds the process)."""

from __future__ import annotations

import atexit
import functools
import inspect
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_trace_core._before_shutdown import SpanOwner, run_before_shutdown
from genai_trace_core.export._bounded import SHUTDOWN_TIMEOUT_S, Deadline, run_bounded

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

SHUTDOWN_TIMEOUT_MS = int(SHUTDOWN_TIMEOUT_S * 1000)
ENDING_SHARE = 0.5
"""Of the shutdown budget, what ending the runs still open may take at most."""
_ending = threading.Lock()
_ending_for: set[int] = set()  # the providers whose runs still open are being ended


@dataclass(eq=False)
class Providers:
    """The providers :func:`configure` built. ``mode`` is ``embedded``, ``otlp/http/protobuf``
    or ``otlp/grpc``; ``jsonl_path`` is the JSONL file spans are appended to, if any."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    mode: str
    jsonl_path: Path | None = None
    span_processor: GuardedBatchSpanProcessor | None = None
    _is_shutdown: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def is_shutdown(self) -> bool:
        return self._is_shutdown

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered; ``True`` if every provider flushed in time. Returns within
        ``timeout_millis`` even when the backend is down (the SDK alone would retry past it)."""
        if self._is_shutdown:
            return False
        deadline = Deadline(timeout_millis / 1000)
        ok = True
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            left = deadline.left_ms()
            flushed = run_bounded(functools.partial(_flush, provider, left), left / 1000, "flush")
            ok = flushed and ok
        return ok

    def shutdown(self, timeout_millis: int = SHUTDOWN_TIMEOUT_MS) -> None:
        """End the runs still open as ``abandoned`` (a stream never closed), so they are exported,
        then flush and stop every provider (idempotent; also runs at interpreter exit). Returns
        within ``timeout_millis``: a down or slow backend never holds the process at exit; what
        could not be sent by then is lost (counted in ``genai_trace.export.spans_dropped``)."""
        with self._lock:
            if self._is_shutdown:
                return
            self._is_shutdown = True
        atexit.unregister(self.shutdown)
        deadline = Deadline(timeout_millis / 1000)
        end_open_runs(self.tracer_provider, deadline.left_s() * ENDING_SHARE)
        if self.span_processor is not None:  # it gives up (and counts what it drops) in time
            self.span_processor.shutdown_timeout_s = deadline.left_s() * 0.8
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            left = deadline.left_ms()
            run_bounded(functools.partial(_shutdown, provider, left), left / 1000, "shutdown")


def end_open_runs(provider: TracerProvider, timeout_s: float) -> None:
    """End the runs still open whose spans ``provider`` exports as ``abandoned`` (before it
    shuts down; another provider's runs stay open), waiting at most ``timeout_s`` (a run's lock
    held by a thread a signal interrupted never holds us); at once while an earlier call for
    ``provider`` is still at it (the tracer provider's shutdown after ours)."""
    key = id(provider)  # (the provider outlives the call: it is shut down right after)
    with _ending:
        if key in _ending_for:
            return
        _ending_for.add(key)

    def end() -> None:
        try:
            run_before_shutdown(exported_by(provider))
        finally:
            with _ending:
                _ending_for.discard(key)

    run_bounded(end, timeout_s, "end-open-runs")


def exported_by(provider: TracerProvider) -> SpanOwner:
    """Whether a span was started by ``provider`` (an SDK span holds its provider's processor;
    the global proxy's spans are those of the SDK provider it resolved to)."""
    processor = getattr(provider, "_active_span_processor", None)

    def owns(span: Any) -> bool:
        return processor is not None and getattr(span, "_span_processor", None) is processor

    return owns


def _flush(provider: Any, timeout_millis: int) -> bool:
    return bool(provider.force_flush(timeout_millis))


def _shutdown(provider: Any, timeout_millis: int) -> None:
    # The meter provider takes a timeout (its last export); the others do not.
    if "timeout_millis" in inspect.signature(provider.shutdown).parameters:
        provider.shutdown(timeout_millis=timeout_millis)
    else:
        provider.shutdown()

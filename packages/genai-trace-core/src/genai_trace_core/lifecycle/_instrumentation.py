"""The one way an instrumentation package builds its :class:`Telemetry`."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import _logs, metrics, trace

from genai_trace_core._settings import Settings
from genai_trace_core.lifecycle._telemetry import Telemetry


def instrumentation_telemetry(
    scope_name: str,
    scope_version: str,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    logger_provider: _logs.LoggerProvider | None = None,
    settings: Settings | None = None,
    *,
    clock: Callable[[], int] | None = None,
) -> Telemetry:
    """The :class:`Telemetry` of one instrumentation package (a handler or an instrumentor).

    Every span, metric and log record it emits carries the package's instrumentation scope
    (``scope_name``: its import name, and ``scope_version``), as OpenTelemetry instrumentations
    name theirs. Providers default to the global ones; ``settings`` to the process-wide
    :class:`~genai_trace_core.Settings`; ``clock`` (nanoseconds) is for deterministic tests.
    """
    return Telemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        settings=settings,
        clock=clock,
        scope_name=scope_name,
        scope_version=scope_version,
    )

"""Installing the built providers as the OpenTelemetry globals, never over someone else's."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genai_trace_core.export._sdk_providers import Providers

logger = logging.getLogger("genai_trace")


def _is_unset(provider: object) -> bool:
    """The API's placeholders (proxies) mean nobody installed a provider yet."""
    return type(provider).__name__ in (
        "ProxyTracerProvider",
        "_ProxyMeterProvider",
        "ProxyLoggerProvider",
    )


def install_globals(providers: Providers) -> bool:
    """Install each provider whose global slot is still free; never override (the API would
    log "Overriding of current TracerProvider is not allowed"). ``True`` if tracing was set."""
    from opentelemetry import _logs, metrics, trace

    taken: list[str] = []
    installed_tracing = False
    if _is_unset(trace.get_tracer_provider()):
        trace.set_tracer_provider(providers.tracer_provider)
        installed_tracing = True
    else:
        taken.append("TracerProvider")
    if _is_unset(metrics.get_meter_provider()):
        metrics.set_meter_provider(providers.meter_provider)
    else:
        taken.append("MeterProvider")
    if _is_unset(_logs.get_logger_provider()):
        _logs.set_logger_provider(providers.logger_provider)
    else:
        taken.append("LoggerProvider")
    if taken:
        logger.warning(
            "genai-trace: a global %s is already installed (opentelemetry-instrument, another "
            "library, or an earlier configure() that was shut down); configure() left it in place. "
            "Use the returned providers explicitly or pass set_global=False.",
            "/".join(taken),
        )
    return installed_tracing

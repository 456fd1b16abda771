"""The one hook between lifecycle and the wings above the API: how the tracer is obtained.

Lifecycle starts its spans through the OpenTelemetry API only. A wing that knows a provider's
implementation (``export``, for the SDK's) registers a wrapper here; :func:`get_tracer` offers the
API tracer to each wrapper and uses the first tracer one returns, else the API tracer itself. The
package's ``__init__`` does the registration, so lifecycle never imports that wing.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import trace

from genai_trace_core._safe import log_once

TracerWrapper = Callable[[trace.Tracer], "trace.Tracer | None"]
_wrappers: list[TracerWrapper] = []


def register_tracer_wrapper(wrapper: TracerWrapper) -> None:
    """Offer every tracer lifecycle obtains to ``wrapper`` (once, however often registered)."""
    if wrapper not in _wrappers:
        _wrappers.append(wrapper)


def get_tracer(
    name: str, version: str, provider: trace.TracerProvider | None, schema_url: str
) -> trace.Tracer:
    """``trace.get_tracer(...)``, wrapped by the first registered wrapper that accepts it."""
    tracer = trace.get_tracer(name, version, provider, schema_url)
    for wrapper in _wrappers:
        try:
            wrapped = wrapper(tracer)
        except Exception:  # a wrapper never costs the app its spans: the API tracer then
            log_once("tracer-wrapper", "genai-trace: a tracer wrapper failed; SDK spans used")
            continue
        if wrapped is not None:
            return wrapped
    return tracer

"""The fast span path's entry: offered every tracer lifecycle obtains (registered by the package's
``__init__``), it imports the SDK-touching modules only for an SDK tracer (or a proxy tracer, whose
provider is decided later) and returns ``None`` (spans stay as they are) for anything else."""

from __future__ import annotations

from opentelemetry import trace


def fast_tracer(tracer: trace.Tracer) -> trace.Tracer | None:
    """The fast tracer over an SDK (or still proxy) ``tracer``; ``None`` for any other tracer."""
    kind = type(tracer)
    if kind is not trace.ProxyTracer and kind.__module__ != "opentelemetry.sdk.trace":
        return None
    try:
        from genai_trace_core.export._fast_tracer import wrap
    except ImportError:  # a proxy tracer without the SDK installed
        return None
    return wrap(tracer)

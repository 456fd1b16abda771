"""A context that holds only the ids of another context's current span."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan


def detached_context(ctx: Context) -> Context:
    """A context whose current span is a :class:`NonRecordingSpan` with the ids of ``ctx``'s
    current span, and nothing else: work that starts after that span ended (an async branch, a
    tool's thread) nests under it without keeping the ended span, or anything ``ctx`` held,
    alive."""
    return trace.set_span_in_context(
        NonRecordingSpan(trace.get_current_span(ctx).get_span_context())
    )

"""Context keys that tell provider instrumentations (openai, anthropic, ...) not to create a second
inference span inside ours, scoped exactly to the activated context of one model call."""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry.context import Context

# OpenLLMetry's provider instrumentations check this plain string key.
SUPPRESS_LANGUAGE_MODEL_KEY = "suppress_language_model_instrumentation"


def with_provider_suppression(ctx: Context) -> Context:
    """Return ``ctx`` with the keys set that suppress provider-level LLM spans."""
    return otel_context.set_value(SUPPRESS_LANGUAGE_MODEL_KEY, True, ctx)

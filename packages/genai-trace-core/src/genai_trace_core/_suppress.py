"""Context keys that tell provider instrumentations (openai, anthropic, ...) not to create a second
inference span inside ours, scoped exactly to the activated context of one model call."""

from __future__ import annotations

# OpenLLMetry's provider instrumentations check this plain string key.
SUPPRESS_LANGUAGE_MODEL_KEY = "suppress_language_model_instrumentation"
# The keys (and values) an inference run's activation adds to its context.
SUPPRESSION: dict[str, object] = {SUPPRESS_LANGUAGE_MODEL_KEY: True}

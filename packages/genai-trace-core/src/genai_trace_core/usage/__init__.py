"""Provider payload -> :class:`~genai_trace_core.records.Usage` -> cost. Imports no OpenTelemetry.

``normalize_usage`` reads any provider's usage payload; when a provider reports nothing,
``estimate_usage``/``count_tokens`` count tokens with tiktoken and ``estimate_tokens`` (or
``estimate_usage(..., exact=False)``) estimates them as ``ceil(chars/4)``; ``compute_cost`` prices
a usage with genai-prices (plus overrides); ``resolve_provider`` names the provider of a model call;
``responses_finish_reason`` gives an OpenAI Responses API answer Chat Completions' finish reason.
"""

from __future__ import annotations

from genai_trace_core.usage._cost import (
    PRICES_FILE_ENV,
    clear_prices,
    compute_cost,
    load_prices,
    set_price,
)
from genai_trace_core.usage._fields import as_count, get_field
from genai_trace_core.usage._normalize import merge_usage, normalize_unsafe, normalize_usage
from genai_trace_core.usage._preload import preload_prices, preload_prices_in_background
from genai_trace_core.usage._probe import client_attributes
from genai_trace_core.usage._providers import resolve_provider
from genai_trace_core.usage._responses_api import responses_api_response, responses_finish_reason
from genai_trace_core.usage._server import (
    anthropic_default_base_url,
    client_base_url,
    openai_default_base_url,
    server_from_url,
)
from genai_trace_core.usage._tokens import (
    count_tokens,
    encoding_for_model,
    estimate_tokens,
    estimate_usage,
)

__all__ = [
    "get_field",
    "client_attributes",
    "client_base_url",
    "anthropic_default_base_url",
    "openai_default_base_url",
    "server_from_url",
    "PRICES_FILE_ENV",
    "as_count",
    "clear_prices",
    "compute_cost",
    "count_tokens",
    "encoding_for_model",
    "estimate_tokens",
    "estimate_usage",
    "load_prices",
    "merge_usage",
    "normalize_unsafe",
    "normalize_usage",
    "preload_prices",
    "preload_prices_in_background",
    "resolve_provider",
    "responses_api_response",
    "responses_finish_reason",
    "set_price",
]

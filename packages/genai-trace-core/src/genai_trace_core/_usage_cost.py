"""Normalised token usage and the cost of one operation. Re-exported by ``records``."""

from __future__ import annotations

from dataclasses import dataclass, field

from genai_trace_core import semconv


@dataclass(slots=True)
class Usage:
    """Normalised token usage. ``input_tokens`` includes cache read and cache write tokens;
    ``cache_*`` and ``reasoning`` are subsets. ``source`` is ``provider`` or ``estimated``."""

    input_tokens: int | None = None
    """Every input (prompt) token, cached ones included: ``gen_ai.usage.input_tokens``."""
    output_tokens: int | None = None
    """Every output token, reasoning included: ``gen_ai.usage.output_tokens``."""
    cache_read_input_tokens: int | None = None
    """Input tokens read from the provider's prompt cache (a subset of ``input_tokens``)."""
    cache_write_input_tokens: int | None = None
    """Input tokens written to the provider's prompt cache (a subset of ``input_tokens``)."""
    reasoning_output_tokens: int | None = None
    """Output tokens spent on reasoning (a subset of ``output_tokens``)."""
    modalities: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per modality (``text``, ``image``, ``audio``...): ``{"input_tokens": n,
    "output_tokens": n, "cache_read.input_tokens": n}``, as far as the provider reports them."""
    source: str = semconv.USAGE_SOURCE_PROVIDER
    """``provider`` (reported by the provider) or ``estimated`` (counted by us)."""
    estimator: str | None = None
    """With ``source == "estimated"``: the tiktoken encoding name, or ``heuristic``."""

    @property
    def is_empty(self) -> bool:
        """Neither input nor output tokens are known."""
        return self.input_tokens is None and self.output_tokens is None


@dataclass(slots=True, frozen=True)
class Cost:
    """Cost of one operation in USD. Parts are ``None`` where the price has no such component."""

    total_usd: float
    """The whole cost, per-request fees included: ``genai_trace.cost.usd``."""
    input_usd: float | None = None
    """Input tokens at the input price (cached ones too, unless the price has cache rates)."""
    output_usd: float | None = None
    """Output tokens at the output price (reasoning too, unless the price has a reasoning rate)."""
    cache_read_usd: float | None = None
    """Input tokens read from the cache, at the cache-read rate."""
    cache_write_usd: float | None = None
    """Input tokens written to the cache, at the cache-write rate."""
    reasoning_usd: float | None = None
    """Reasoning output tokens, at the reasoning rate."""
    source: str = "genai-prices"
    """Where the price came from: ``genai-prices``, or ``override`` (a price file or
    :func:`~genai_trace_core.set_price`)."""

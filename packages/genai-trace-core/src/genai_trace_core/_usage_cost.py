"""Normalised token usage and the cost of one operation. Re-exported by ``records``."""

from __future__ import annotations

from dataclasses import dataclass, field

from genai_trace_core import semconv


@dataclass(slots=True)
class Usage:
    """Normalised token usage. ``input_tokens`` includes cache read and cache write tokens;
    ``cache_*`` and ``reasoning`` are subsets. ``source`` is ``provider`` or ``estimated``."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    # modality -> {"input_tokens": n, "output_tokens": n, "cache_read.input_tokens": n}
    modalities: dict[str, dict[str, int]] = field(default_factory=dict)
    source: str = semconv.USAGE_SOURCE_PROVIDER
    estimator: str | None = None  # encoding name or "heuristic" when source == "estimated"

    @property
    def is_empty(self) -> bool:
        return self.input_tokens is None and self.output_tokens is None


@dataclass(slots=True, frozen=True)
class Cost:
    """Cost of one operation in USD. Parts are ``None`` where the price has no such component."""

    total_usd: float
    input_usd: float | None = None
    output_usd: float | None = None
    cache_read_usd: float | None = None
    cache_write_usd: float | None = None
    reasoning_usd: float | None = None
    source: str = "genai-prices"

"""Tokens and cost per span and their totals per model, user or tenant (no formatting)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genai_trace_core import semconv
from genai_trace_core.view._spanview import SpanView
from genai_trace_core.view._tree import TreeRow

__all__ = [
    "UNKNOWN",
    "Totals",
    "UsageFigures",
    "aggregate",
    "by_inherited",
    "by_model",
    "model_of",
    "usage_of",
]

UNKNOWN = "(unknown)"
# Spans that wrap other spans: their usage, if any, is a sum of their children's.
_AGGREGATE_OPERATIONS = frozenset(
    {
        semconv.OP_INVOKE_AGENT,
        semconv.OP_INVOKE_WORKFLOW,
        semconv.OP_HANDLE_CONVERSATION_TURN,
        semconv.OP_EXECUTE_TOOL,
        semconv.OP_CREATE_AGENT,
        semconv.OP_PLAN,
    }
)


def _int(value: object) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _float(value: object) -> float | None:
    """A finite number, or None (a bool, text, NaN or Infinity, which JSON readers accept)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class UsageFigures:
    """The tokens and cost one model span reports (``None`` where it reports none)."""

    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cost_usd: float | None


def model_of(span: SpanView) -> str | None:
    model = span.attributes.get(semconv.GEN_AI_RESPONSE_MODEL) or span.attributes.get(
        semconv.GEN_AI_REQUEST_MODEL
    )
    return str(model) if model else None


def _either(attrs: Mapping[str, Any], key: str, fallback: str) -> Any:
    return attrs.get(key, attrs.get(fallback))


def usage_of(span: SpanView) -> UsageFigures | None:
    """The span's own tokens and cost, or ``None`` if it has none or only wraps other spans."""
    attrs = span.attributes
    if attrs.get(semconv.GEN_AI_OPERATION_NAME) in _AGGREGATE_OPERATIONS:
        return None
    # An offline estimate is under our own names unless the user opted in to gen_ai.usage.*.
    tokens_in = _int(
        _either(attrs, semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.USAGE_ESTIMATED_INPUT_TOKENS)
    )
    tokens_out = _int(
        _either(attrs, semconv.GEN_AI_USAGE_OUTPUT_TOKENS, semconv.USAGE_ESTIMATED_OUTPUT_TOKENS)
    )
    cost = _float(attrs.get(semconv.COST_USD))
    if tokens_in is None and tokens_out is None and cost is None:
        return None
    cache = _int(attrs.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS))
    return UsageFigures(tokens_in, tokens_out, cache, cost)


@dataclass(slots=True)
class Totals:
    """Calls, tokens and cost summed over model spans; ``priced`` once any span had a cost."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = False

    def add(self, usage: UsageFigures) -> None:
        self.calls += 1
        self.input_tokens += usage.input_tokens or 0
        self.output_tokens += usage.output_tokens or 0
        self.cache_read_tokens += usage.cache_read_tokens or 0
        if usage.cost_usd is not None:
            self.cost_usd += usage.cost_usd
            self.priced = True


KeyFn = Callable[[TreeRow], str]


def by_model(row: TreeRow) -> str:
    return model_of(row.span) or UNKNOWN


def by_inherited(key: str) -> KeyFn:
    def fn(row: TreeRow) -> str:
        value = row.inherited.get(key)
        return str(value) if value is not None else UNKNOWN

    return fn


def aggregate(rows: Iterable[TreeRow], key: KeyFn) -> dict[str, Totals]:
    table: dict[str, Totals] = {}
    for row in rows:
        usage = usage_of(row.span)
        if usage is not None:
            table.setdefault(key(row), Totals()).add(usage)
    return table

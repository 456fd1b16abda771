"""A price in genai-prices' units, and the arithmetic that applies it to a usage.

Each priced unit is charged on its "leaf" count (its count minus the counts of its more specific
priced units: cache reads are taken out of input only when the model has a cache-read price,
reasoning out of output only when it has a reasoning price...), with tiered prices chosen by
total input tokens. Resolution (which price a model has) lives in ``_cost``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genai_trace_core._safe import log_once
from genai_trace_core.records import Cost, Usage

_MODALITIES = ("text", "audio", "image", "video")
_PART_INPUT, _PART_OUTPUT, _PART_READ, _PART_WRITE, _PART_REASONING, _PART_NONE = range(6)


def _count_getters() -> dict[str, Any]:
    """genai-prices usage key -> how to read that count from our Usage."""
    getters: dict[str, Any] = {
        "input_tokens": operator.attrgetter("input_tokens"),
        "output_tokens": operator.attrgetter("output_tokens"),
        "cache_read_tokens": operator.attrgetter("cache_read_input_tokens"),
        "cache_write_tokens": operator.attrgetter("cache_write_input_tokens"),
        "output_reasoning_tokens": operator.attrgetter("reasoning_output_tokens"),
    }
    for m in _MODALITIES:
        for key, kind in (
            (f"input_{m}_tokens", "input_tokens"),
            (f"output_{m}_tokens", "output_tokens"),
            (f"cache_{m}_read_tokens", "cache_read.input_tokens"),
        ):
            getters[key] = lambda u, m=m, kind=kind: u.modalities.get(m, {}).get(kind)
    return getters


_GETTERS = _count_getters()

# The units an override can price (genai-prices' definitions, kept here so overrides work alone).
OVERRIDE_UNITS: dict[str, tuple[str, int, Mapping[str, str]]] = {
    "input_mtok": ("input_tokens", 1_000_000, {"family": "tokens", "direction": "input"}),
    "output_mtok": ("output_tokens", 1_000_000, {"family": "tokens", "direction": "output"}),
    "cache_read_mtok": (
        "cache_read_tokens",
        1_000_000,
        {"family": "tokens", "direction": "input", "token_type": "cache_read"},
    ),
    "cache_write_mtok": (
        "cache_write_tokens",
        1_000_000,
        {"family": "tokens", "direction": "input", "token_type": "cache_write"},
    ),
}


@dataclass(frozen=True, slots=True)
class Unit:
    """One priced unit of a model's price: which count it charges, at which rate and tiers."""

    getter: Any  # Callable[[Usage], int | None]; None for counts we never report (always 0)
    rate: float  # USD per unit
    tiers: tuple[tuple[int, float], ...]  # (input-token threshold, USD per unit), descending
    descendants: tuple[int, ...]  # indices of more specific priced units
    part: int


@dataclass(frozen=True, slots=True)
class Price:
    """A model's price, compiled once: its units (most specific first) and per-request fee."""

    units: tuple[Unit, ...]  # most specific first
    per_request: float
    parts: frozenset[int]
    source: str


def _part_of(dims: Mapping[str, str]) -> int:
    token_type = dims.get("token_type")
    if token_type == "cache_read":
        return _PART_READ
    if token_type == "cache_write":
        return _PART_WRITE
    if token_type == "reasoning":
        return _PART_REASONING
    direction = dims.get("direction")
    if direction == "input":
        return _PART_INPUT
    if direction == "output":
        return _PART_OUTPUT
    return _PART_NONE


def build_price(
    priced: Sequence[tuple[str, Mapping[str, str], int, Any]], source: str
) -> Price | None:
    """``priced``: (usage key, dimensions, per, price) with price a number or TieredPrices."""
    rows: list[tuple[str, Mapping[str, str], float, tuple[tuple[int, float], ...]]] = []
    per_request = 0.0
    for usage_key, dims, per, price in priced:
        base = getattr(price, "base", price)
        tiers = tuple(
            sorted(
                ((int(t.start), float(t.price) / per) for t in getattr(price, "tiers", ())),
                reverse=True,
            )
        )
        if usage_key == "requests":
            per_request += float(base) / per
            continue
        rows.append((usage_key, dims, float(base) / per, tiers))
    # Units whose count we never report (web searches, 1h cache writes...) are always 0: drop
    # them, unless a unit we do report is more specific (their leaf then matters).
    rows = [
        r
        for r in rows
        if r[0] in _GETTERS or any(o[0] in _GETTERS and r[1].items() < o[1].items() for o in rows)
    ]
    rows.sort(key=lambda r: (-len(r[1]), r[0]))
    units: list[Unit] = []
    for i, (usage_key, dims, rate, tiers) in enumerate(rows):
        descendants = tuple(
            j for j, (_, other, _, _) in enumerate(rows) if j != i and dims.items() <= other.items()
        )
        units.append(Unit(_GETTERS.get(usage_key), rate, tiers, descendants, _part_of(dims)))
    if not units and not per_request:
        return None
    return Price(tuple(units), per_request, frozenset(u.part for u in units), source)


def apply_price(price: Price, usage: Usage) -> Cost | None:
    total_input = usage.input_tokens or 0
    leaves: list[int] = []
    sums = [0.0] * 6
    for unit in price.units:
        getter = unit.getter
        leaf = (getter(usage) or 0) if getter is not None else 0
        for i in unit.descendants:
            leaf -= leaves[i]
        if leaf < 0:
            log_once("cost.inconsistent", "genai-trace: inconsistent usage %r", usage)
            return None
        leaves.append(leaf)
        rate = unit.rate
        if unit.tiers:
            for start, tier_rate in unit.tiers:
                if total_input > start:
                    rate = tier_rate
                    break
        sums[unit.part] += leaf * rate
    total = sum(sums) + price.per_request
    if not math.isfinite(total):
        return None
    parts = price.parts
    return Cost(
        total_usd=total,
        input_usd=sums[_PART_INPUT] if _PART_INPUT in parts else None,
        output_usd=sums[_PART_OUTPUT] if _PART_OUTPUT in parts else None,
        cache_read_usd=sums[_PART_READ] if _PART_READ in parts else None,
        cache_write_usd=sums[_PART_WRITE] if _PART_WRITE in parts else None,
        reasoning_usd=sums[_PART_REASONING] if _PART_REASONING in parts else None,
        source=price.source,
    )

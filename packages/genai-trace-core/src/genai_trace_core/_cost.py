"""Client-side cost in USD, from the genai-prices table or user overrides.

Resolution, once per (provider, model), then cached (bounded) so later calls are arithmetic only:

1. a user override (:func:`set_price`, :func:`load_prices`, or the JSON file named by the
   ``GENAI_TRACE_PRICES_FILE`` environment variable, read once, lazily) for (provider, model),
   then for (any provider, model): ``Cost.source == "override"``;
2. the price bundled with the installed ``genai-prices`` package, looked up with the
   genai-prices id of the provider (or by model name alone when the provider is unknown):
   ``Cost.source == "genai-prices"``. The bundled snapshot is used as is: genai-prices' network
   updater (``UpdatePrices``) is never started here. A price is resolved for the time of the
   first lookup and kept for the life of the process (or until the overrides change).

A provider we know but genai-prices does not price (local Ollama, IBM...) or an unknown model
gives ``None`` (logged once per model at debug): never a guessed number.

The arithmetic is genai-prices' own: each priced unit is charged on its "leaf" count (its count
minus the counts of its more specific priced units: cache reads are taken out of input only when
the model has a cache-read price, reasoning out of output only when it has a reasoning price...),
with tiered prices chosen by total input tokens. ``Cost`` parts follow the price: a part is
``None`` when the price has no such component (those tokens are then charged, and counted, in
``input_usd``/``output_usd``). Per-request fees count in ``total_usd`` only.
"""

from __future__ import annotations

import json
import math
import operator
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genai_trace_core._providers import prices_provider_id, resolve_provider
from genai_trace_core._safe import log_once, logger
from genai_trace_core._types import Cost, Usage

__all__ = [
    "PRICES_FILE_ENV",
    "clear_prices",
    "compute_cost",
    "load_prices",
    "preload_prices",
    "set_price",
]

PRICES_FILE_ENV = "GENAI_TRACE_PRICES_FILE"
SOURCE_OVERRIDE = "override"
SOURCE_GENAI_PRICES = "genai-prices"

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
_OVERRIDE_UNITS: dict[str, tuple[str, int, Mapping[str, str]]] = {
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
class _Unit:
    getter: Any  # Callable[[Usage], int | None]; None for counts we never report (always 0)
    rate: float  # USD per unit
    tiers: tuple[tuple[int, float], ...]  # (input-token threshold, USD per unit), descending
    descendants: tuple[int, ...]  # indices of more specific priced units
    part: int


@dataclass(frozen=True, slots=True)
class _Price:
    units: tuple[_Unit, ...]  # most specific first
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


def _build(priced: Sequence[tuple[str, Mapping[str, str], int, Any]], source: str) -> _Price | None:
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
    units: list[_Unit] = []
    for i, (usage_key, dims, rate, tiers) in enumerate(rows):
        descendants = tuple(
            j for j, (_, other, _, _) in enumerate(rows) if j != i and dims.items() <= other.items()
        )
        units.append(_Unit(_GETTERS.get(usage_key), rate, tiers, descendants, _part_of(dims)))
    if not units and not per_request:
        return None
    return _Price(tuple(units), per_request, frozenset(u.part for u in units), source)


# --- resolution -----------------------------------------------------------------------------------

_lock = threading.Lock()
_overrides: dict[tuple[str | None, str], _Price] = {}
_resolved: dict[tuple[str | None, str], _Price | None] = {}
_MAX_RESOLVED = 4096
_env_loaded = False


def _from_genai_prices(model: str, provider: str | None) -> _Price | None:
    pid = prices_provider_id(provider)
    if provider is not None and pid is None:
        return None
    from genai_prices import data_snapshot
    from genai_prices.data_units import unit_data

    snapshot = data_snapshot.get_snapshot()
    try:
        _, info = snapshot.find_provider_model(model, None, pid, None)
    except LookupError:
        return None
    model_price = info.get_prices(datetime.now(tz=timezone.utc))
    priced: list[tuple[str, Mapping[str, str], int, Any]] = []
    for usage_key, unit in unit_data.items():
        value = getattr(model_price, unit["price_key"], None)
        if value is not None:
            priced.append((usage_key, unit["dimensions"], int(unit["per"]), value))
    return _build(priced, SOURCE_GENAI_PRICES)


def _resolve(model: str, provider: str | None) -> _Price | None:
    override = _overrides.get((provider, model)) or _overrides.get((None, model))
    if override is not None:
        return override
    price = _from_genai_prices(model, provider)
    if price is None:
        log_once(
            f"cost.unknown.{provider}.{model}", "genai-trace: no price for %s (%s)", model, provider
        )
    return price


def _price_for(model: str, provider: str | None) -> _Price | None:
    key = (provider, model)
    try:
        return _resolved[key]
    except KeyError:
        pass
    if not _env_loaded:
        _load_env_file()
    price = _resolve(model.strip().lower(), provider)
    if len(_resolved) >= _MAX_RESOLVED:
        _resolved.clear()
    _resolved[key] = price
    return price


# --- arithmetic -----------------------------------------------------------------------------------


def compute_cost(model: str | None, provider: str | None, usage: Usage) -> Cost | None:
    """The cost of one operation in USD, or ``None`` (unknown model, no usage, bad counts).

    ``provider`` is a ``gen_ai.provider.name`` value. Never raises.
    """
    try:
        if not isinstance(model, str) or not model or not isinstance(usage, Usage):
            return None
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        price = _price_for(model, provider)
        if price is None:
            return None
        return _apply(price, usage)
    except Exception:  # telemetry never raises
        log_once("cost.compute", "genai-trace: cost computation failed for %s", model)
        return None


def _apply(price: _Price, usage: Usage) -> Cost | None:
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


# --- overrides ------------------------------------------------------------------------------------


def _rate(name: str, value: Any, required: bool) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    return float(value)


def set_price(
    model: str,
    *,
    input_per_mtok: float,
    output_per_mtok: float,
    cache_read_per_mtok: float | None = None,
    cache_write_per_mtok: float | None = None,
    provider: str | None = None,
) -> None:
    """Price ``model`` (USD per million tokens) ahead of genai-prices; ``provider`` limits the
    override to one provider (a ``gen_ai.provider.name`` or a framework hint).

    Raises ``ValueError`` for a missing model name or a negative / non-numeric price.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty string")
    rates = {
        "input_mtok": _rate("input_per_mtok", input_per_mtok, True),
        "output_mtok": _rate("output_per_mtok", output_per_mtok, True),
        "cache_read_mtok": _rate("cache_read_per_mtok", cache_read_per_mtok, False),
        "cache_write_mtok": _rate("cache_write_per_mtok", cache_write_per_mtok, False),
    }
    priced = []
    for key, value in rates.items():
        if value is not None:
            usage_key, per, dims = _OVERRIDE_UNITS[key]
            priced.append((usage_key, dims, per, value))
    price = _build(priced, SOURCE_OVERRIDE)
    assert price is not None
    resolved_provider = resolve_provider(provider) if provider else None
    with _lock:
        _overrides[(resolved_provider, model.strip().lower())] = price
        _resolved.clear()


def clear_prices() -> None:
    """Remove every override (including those loaded from a file) and the resolved-price cache.
    The ``GENAI_TRACE_PRICES_FILE`` file is not read again."""
    with _lock:
        _overrides.clear()
        _resolved.clear()


def _entries(data: Any) -> list[Mapping[str, Any]]:
    if isinstance(data, Mapping):
        if isinstance(data.get("models"), list):
            data = data["models"]
        else:
            return [
                {"model": name, **entry}
                for name, entry in data.items()
                if isinstance(entry, Mapping)
            ]
    if isinstance(data, list):
        return [e for e in data if isinstance(e, Mapping)]
    raise ValueError("expected a list of prices, {'models': [...]}, or {model: price}")


def load_prices(source: str | os.PathLike[str] | Mapping[str, Any] | list[Any]) -> int:
    """Load overrides from a JSON file (path) or already-parsed data; return how many loaded.

    Accepted shapes: ``[{"model": ..., "input_per_mtok": ..., "output_per_mtok": ...,
    "cache_read_per_mtok"?: ..., "cache_write_per_mtok"?: ..., "provider"?: ...}, ...]``, the
    same list under ``{"models": [...]}``, or ``{"<model>": {"input_per_mtok": ..., ...}}``.
    Never raises: an unreadable file or a bad entry is logged as a warning and skipped.
    """
    try:
        if isinstance(source, (str, os.PathLike)):
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        else:
            data = source
        entries = _entries(data)
    except (OSError, ValueError) as exc:
        logger.warning("genai-trace: cannot load prices from %s: %s", source, exc)
        return 0
    loaded = 0
    for entry in entries:
        try:
            set_price(
                entry.get("model"),  # type: ignore[arg-type]  # validated by set_price
                input_per_mtok=entry.get("input_per_mtok"),  # type: ignore[arg-type]
                output_per_mtok=entry.get("output_per_mtok"),  # type: ignore[arg-type]
                cache_read_per_mtok=entry.get("cache_read_per_mtok"),
                cache_write_per_mtok=entry.get("cache_write_per_mtok"),
                provider=entry.get("provider"),
            )
            loaded += 1
        except (ValueError, TypeError) as exc:
            logger.warning("genai-trace: skipping price entry %r: %s", entry, exc)
    return loaded


def _load_env_file() -> None:
    global _env_loaded
    with _lock:
        if _env_loaded:
            return
        _env_loaded = True
    path = os.environ.get(PRICES_FILE_ENV, "").strip()
    if path:
        load_prices(path)


def preload_prices() -> None:
    """Import genai-prices and build its table now (about a second, once per process) instead of
    at the first :func:`compute_cost`. Meant for ``configure()``/instrumentation start, possibly in
    a background thread. Never raises."""
    try:
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()
    except Exception:  # telemetry never raises
        log_once("cost.preload", "genai-trace: genai-prices could not be loaded")


_preload_started = False


def preload_prices_in_background() -> None:
    """Start :func:`preload_prices` once per process in a daemon thread (never blocks)."""
    global _preload_started
    with _lock:
        if _preload_started:
            return
        _preload_started = True
    threading.Thread(target=preload_prices, name="genai-trace-prices", daemon=True).start()


def _reset_for_tests() -> None:
    """Forget overrides, resolved prices, and that the env file was read."""
    global _env_loaded
    clear_prices()
    with _lock:
        _env_loaded = False

"""Client-side cost in USD, from the genai-prices table or user overrides.

Resolution, once per (provider, model), then cached (bounded) so later calls are arithmetic only:

1. a user override (:func:`set_price`, :func:`load_prices`, or the JSON file named by the
   ``GENAI_TRACE_PRICES_FILE`` environment variable, read once, lazily) for (provider, model),
   then for (any provider, model), then the same for the request model when the call names one
   (a price keyed ``gpt-4o-mini`` covers an answer from ``gpt-4o-mini-2024-07-18``):
   ``Cost.source == "override"`` (with no override set, nothing more is looked up);
2. the price bundled with the installed ``genai-prices`` package, looked up with the
   genai-prices id of the provider (or by model name alone when the provider is unknown):
   ``Cost.source == "genai-prices"``. The bundled snapshot is used as is: genai-prices' network
   updater (``UpdatePrices``) is never started here. A price is resolved for the time of the
   first lookup and kept for the life of the process (or until the overrides change).

A provider we know but genai-prices does not price (local Ollama, IBM...) or an unknown model
gives ``None`` (logged once per model at debug): never a guessed number.

The arithmetic (in ``_price``) is genai-prices' own: each priced unit is charged on its "leaf"
count (its count minus the counts of its more specific priced units), with tiered prices chosen
by total input tokens. ``Cost`` parts follow the price: a part is ``None`` when the price has no
such component (those tokens are then charged, and counted, in ``input_usd``/``output_usd``).
Per-request fees count in ``total_usd`` only.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genai_trace_core._safe import log_once, logger
from genai_trace_core.records import Cost, Usage
from genai_trace_core.usage._price import OVERRIDE_UNITS, Price, apply_price, build_price
from genai_trace_core.usage._providers import prices_provider_id, resolve_provider

__all__ = [
    "PRICES_FILE_ENV",
    "clear_prices",
    "compute_cost",
    "load_prices",
    "set_price",
]

PRICES_FILE_ENV = "GENAI_TRACE_PRICES_FILE"
SOURCE_OVERRIDE = "override"
SOURCE_GENAI_PRICES = "genai-prices"

# --- resolution -----------------------------------------------------------------------------------

_lock = threading.Lock()
_overrides: dict[tuple[str | None, str], Price] = {}
# (provider, model, request model or None when it cannot matter) -> price
_resolved: dict[tuple[str | None, str, str | None], Price | None] = {}
_MAX_RESOLVED = 4096
_env_loaded = False


def _from_genai_prices(model: str, provider: str | None) -> Price | None:
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
    return build_price(priced, SOURCE_GENAI_PRICES)


def _override(model: str, provider: str | None) -> Price | None:
    return _overrides.get((provider, model)) or _overrides.get((None, model))


def _resolve(model: str, provider: str | None, request_model: str | None) -> Price | None:
    override = _override(model, provider)
    if override is None and request_model is not None:
        override = _override(request_model, provider)
    if override is not None:
        return override
    price = _from_genai_prices(model, provider)
    if price is None:  # the model name as the provider answered it: shown cut, keyed cut
        shown, by = model[:100], str(provider)[:100]
        log_once(f"cost.unknown.{by}.{shown}", "genai-trace: no price for %r (%s)", shown, by)
    return price


def _price_for(model: str, provider: str | None, request_model: str | None = None) -> Price | None:
    if not _env_loaded:
        _load_env_file()
    if not _overrides or request_model == model:  # then only the model's own price can apply
        request_model = None
    key = (provider, model, request_model)
    try:
        return _resolved[key]
    except KeyError:
        pass
    requested = request_model.strip().lower() if request_model else None
    price = _resolve(model.strip().lower(), provider, requested)
    if len(_resolved) >= _MAX_RESOLVED:
        _resolved.clear()
    _resolved[key] = price
    return price


# --- arithmetic -----------------------------------------------------------------------------------


def compute_cost(
    model: str | None, provider: str | None, usage: Usage, *, request_model: str | None = None
) -> Cost | None:
    """The cost of one operation in USD, or ``None`` (unknown model, no usage, bad counts).

    ``model`` is the model that answered (``gen_ai.response.model``, else the requested one) and
    ``provider`` a ``gen_ai.provider.name`` value. ``request_model``, the model asked for, is
    looked up among the overrides when ``model`` has none, before genai-prices. Never raises.
    """
    try:
        if not isinstance(model, str) or not model or not isinstance(usage, Usage):
            return None
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        if not isinstance(request_model, str) or not request_model.strip():
            request_model = None
        price = _price_for(model, provider, request_model)
        if price is None:
            return None
        return apply_price(price, usage)
    except Exception:  # telemetry never raises
        log_once("cost.compute", "genai-trace: cost computation failed for %r", str(model)[:100])
        return None


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
            usage_key, per, dims = OVERRIDE_UNITS[key]
            priced.append((usage_key, dims, per, value))
    price = build_price(priced, SOURCE_OVERRIDE)
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


def _reset_for_tests() -> None:
    """Forget overrides, resolved prices, and that the env file was read."""
    global _env_loaded
    clear_prices()
    with _lock:
        _env_loaded = False

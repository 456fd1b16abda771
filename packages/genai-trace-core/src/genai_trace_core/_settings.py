"""Run-time settings: environment variables first, then ``configure``/``set_settings`` overrides.

Read once per :class:`Settings` instance; the hot path only reads attributes of a frozen object.
An invalid value is never an error: the setting keeps its default (content capture stays off) and
one warning on the ``genai_trace`` logger names the variable and what it accepts.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from genai_trace_core import semconv
from genai_trace_core._safe import warn_once

Redactor = Callable[[str], str]


class CaptureMode(str, enum.Enum):
    """Which content is exported, and where (on spans, on events, both, or none)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    # Plain attributes of each member (set below), not properties: read per span on the hot path.
    on_span: bool
    """Content goes on spans (``SPAN_ONLY``, ``SPAN_AND_EVENT``)."""
    on_event: bool
    """Content goes on log events (``EVENT_ONLY``, ``SPAN_AND_EVENT``)."""
    any: bool
    """Some content is captured (every mode but ``NO_CONTENT``)."""


for _mode in CaptureMode:
    _mode.on_span = _mode in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)
    _mode.on_event = _mode in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)
    _mode.any = _mode is not CaptureMode.NO_CONTENT
del _mode


# The older contrib on/off switch: ``true`` meant content on spans.
_ON, _OFF = CaptureMode.SPAN_ONLY, CaptureMode.NO_CONTENT
_CAPTURE_ALIASES = {"TRUE": _ON, "1": _ON, "YES": _ON, "FALSE": _OFF, "0": _OFF, "NO": _OFF}
METRICS_NAMINGS = ("latest", "v1.41")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")  # switches


def _invalid(name: str, raw: str, accepted: str, fallback: object) -> None:
    msg = "genai-trace: %s=%r%s is not valid (expected %s); using %s"  # configure(name=value)
    warn_once(f"settings.{name}={raw}", msg, name, raw, ")" * ("(" in name), accepted, fallback)


_CAPTURE_ACCEPTED = ", ".join(m.value for m in CaptureMode) + " (or true/false)"


def parse_capture_mode(
    value: str | None, name: str = semconv.ENV_CAPTURE_MESSAGE_CONTENT
) -> CaptureMode:
    """Parse a capture mode, case-insensitively; empty means NO_CONTENT. ``true``/``1``/``yes``
    (the older contrib switch) mean SPAN_ONLY, ``false``/``0``/``no`` NO_CONTENT. Any other value
    fails closed, NO_CONTENT, with one warning naming ``name`` and the accepted values."""
    if not value or not value.strip():
        return CaptureMode.NO_CONTENT
    mode = _capture_mode_of(value)
    if mode is None:
        _invalid(name, value, _CAPTURE_ACCEPTED, "NO_CONTENT (content capture off)")
        return CaptureMode.NO_CONTENT
    return mode


def _capture_mode_of(value: str) -> CaptureMode | None:
    v = value.strip().upper()
    alias = _CAPTURE_ALIASES.get(v)
    if alias is not None:
        return alias
    try:
        return CaptureMode(v)
    except ValueError:
        return None


def env_bool(name: str, default: bool, invalid: bool | None = None) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case); unset is
    ``default``; anything else is ``invalid`` (``default`` unless given), warned about once."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    fallback = default if invalid is None else invalid
    _invalid(name, raw, "true or false", str(fallback).lower())
    return fallback


def _env_emit_events() -> bool | None:
    """``OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT`` as opentelemetry-util-genai reads it: ``true`` or
    ``false`` (any case); unset, empty or anything else (warned once) follows the capture mode."""
    raw = os.environ.get(semconv.ENV_EMIT_EVENT, "").strip()
    if not raw:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    _invalid(semconv.ENV_EMIT_EVENT, raw, "true or false", "the capture mode's default")
    return None


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """``value`` as ``kind`` (a string read as its variable is), or None; never a bool."""
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            return None
    real = (int,) if kind is int else (int, float)
    return value if isinstance(value, real) and not isinstance(value, bool) else None


def _env_int(name: str, default: int, minimum: int) -> int:
    """An integer >= ``minimum``; anything else is the default, with one warning."""
    raw = os.environ.get(name, "").strip()
    value = _number(raw, int) if raw else default
    if value is None or value < minimum:
        _invalid(name, raw, f"an integer >= {minimum}", default)
        return default
    return int(value)


def _env_seconds(name: str, default: float) -> float:
    """A finite number of seconds > 0 (``1.5`` too); anything else is the default, warned once."""
    raw = os.environ.get(name, "").strip()
    value = _number(raw, float) if raw else default
    if value is None or not (math.isfinite(value) and value > 0):
        _invalid(name, raw, "a number of seconds > 0", default)
        return default
    return float(value)


def _env_metrics_naming() -> str:
    name = "GENAI_TRACE_METRICS_NAMING"
    raw = os.environ.get(name, "").strip()
    if raw.lower() in METRICS_NAMINGS:
        return raw.lower()
    if raw:
        _invalid(name, raw, " or ".join(METRICS_NAMINGS), "latest")
    return "latest"


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(x.strip() for x in raw.split(",") if x.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings: from the environment, overridden by ``configure(**overrides)``."""

    capture_mode: CaptureMode = CaptureMode.NO_CONTENT
    emit_events: bool | None = None  # None: follow capture_mode
    max_attribute_length: int = 8192  # per content attribute, in characters
    max_span_content: int = 65536  # per span, all content attributes together
    redact_builtin: bool = False  # emails, phones, cards, IBANs, IPs, API keys
    redactor: Redactor | None = None  # user hook, applied before anything is set
    metrics_naming: str = "latest"  # "latest" | "v1.41"
    hide_internal_spans: bool = False
    metadata_keys: tuple[str, ...] = ()  # allow-listed metadata keys -> span attributes
    metric_attribute_keys: tuple[str, ...] = ()  # low-cardinality attribution keys on metrics
    registry_max_size: int = 10_000
    registry_ttl_seconds: float = 3600.0
    suppress_provider_spans: bool = True
    # Prices for private or fine-tuned models, as ``GENAI_TRACE_PRICES_FILE``'s JSON (a mapping
    # of model to USD per million tokens); loaded when an instrumentation starts.
    price_overrides: Mapping[str, Any] = field(default_factory=dict)
    # Offline (tiktoken) token counts exported as gen_ai.usage.* and on the token metrics, counted
    # on the app's thread. Off by default (the conventions allow offline counts only on the user's
    # opt-in): the estimate is then ceil(chars/4), no tokenizer, under
    # genai_trace.usage.estimated.*, and still prices the call.
    estimate_usage: bool = False

    @property
    def emits_events(self) -> bool:
        """Whether inference-details log events are emitted: ``emit_events`` when set, else
        the capture mode (EVENT_ONLY, SPAN_AND_EVENT). An event carries content only when the
        capture mode puts content on events."""
        if self.emit_events is not None:
            return self.emit_events
        return self.capture_mode.on_event

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (``configure(**overrides)``), each read as its environment
        variable is: strings accepted (``capture_mode="span_only"``, ``metadata_keys="a,b"``), and
        a value of the wrong type or range keeps this copy's value with one warning."""
        return replace(self, **{k: _override(k, v, getattr(self, k)) for k, v in changes.items()})


_SWITCHES = ("redact_builtin", "hide_internal_spans", "suppress_provider_spans", "estimate_usage")
_MINIMUMS = {"max_attribute_length": 0, "max_span_content": 0, "registry_max_size": 1}


def _override(name: str, value: Any, current: Any) -> Any:
    """``value`` for setting ``name`` as its type, or ``current`` with one warning."""
    text = value.strip().lower() if isinstance(value, str) else None
    if name == "capture_mode":
        if isinstance(value, CaptureMode):
            return value
        if text == "":
            return CaptureMode.NO_CONTENT
        mode = _capture_mode_of(value) if text else None
        if mode is not None:
            return mode
        accepted = f"a CaptureMode or {_CAPTURE_ACCEPTED}"
        current = CaptureMode.NO_CONTENT  # fails closed, as the environment variable does
    elif name in _SWITCHES or name == "emit_events":
        if isinstance(value, bool) or (value is None and name == "emit_events"):
            return value
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        accepted = "True or False"
        current = True if name == "redact_builtin" else current  # fails closed, as the env does
    elif name in _MINIMUMS:
        number = _number(value, int)
        if number is not None and number >= _MINIMUMS[name]:
            return number
        accepted = f"an integer >= {_MINIMUMS[name]}"
    elif name == "registry_ttl_seconds":
        number = _number(value, float)
        if number is not None and math.isfinite(number) and number > 0:
            return float(number)
        accepted = "a number of seconds > 0"
    elif name == "metrics_naming":
        if text in METRICS_NAMINGS:
            return text
        accepted = " or ".join(METRICS_NAMINGS)
    elif name in ("metadata_keys", "metric_attribute_keys"):
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple, set, frozenset)) and all(
            isinstance(k, str) for k in items
        ):
            return tuple(k.strip() for k in items if k.strip())
        accepted = "a list of attribute names or a comma-separated string"
    elif name == "redactor":
        if value is None or callable(value):
            return value
        accepted = "a function of str to str, or None"
    else:
        return value
    warn_once(
        f"settings.configure({name}={value!r})",
        "genai-trace: configure(%s=%r) is not valid (expected %s); using %s",
        name,
        value,
        accepted,
        getattr(current, "value", current),
    )
    return current


def settings_from_env() -> Settings:
    """Settings read from the environment now (each invalid value warned about once)."""
    return Settings(
        capture_mode=parse_capture_mode(os.environ.get(semconv.ENV_CAPTURE_MESSAGE_CONTENT)),
        emit_events=_env_emit_events(),
        max_attribute_length=_env_int("GENAI_TRACE_MAX_ATTRIBUTE_LENGTH", 8192, 0),
        max_span_content=_env_int("GENAI_TRACE_MAX_SPAN_CONTENT", 65536, 0),
        # an unreadable switch for redaction fails closed: redaction on
        redact_builtin=env_bool("GENAI_TRACE_REDACT", False, invalid=True),
        metrics_naming=_env_metrics_naming(),
        hide_internal_spans=env_bool("GENAI_TRACE_HIDE_INTERNAL_SPANS", False),
        metadata_keys=_env_list("GENAI_TRACE_METADATA_KEYS"),
        metric_attribute_keys=_env_list("GENAI_TRACE_METRIC_ATTRIBUTE_KEYS"),
        registry_max_size=_env_int("GENAI_TRACE_REGISTRY_MAX_SIZE", 10_000, 1),
        registry_ttl_seconds=_env_seconds("GENAI_TRACE_REGISTRY_TTL_SECONDS", 3600.0),
        suppress_provider_spans=env_bool("GENAI_TRACE_SUPPRESS_PROVIDER_SPANS", True),
        estimate_usage=env_bool(semconv.ENV_ESTIMATE_USAGE, False),
    )


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings (from the environment on first use)."""
    global _current
    if _current is None:
        _current = settings_from_env()
    return _current


def set_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings; ``None`` re-reads the environment on next use."""
    global _current
    _current = settings

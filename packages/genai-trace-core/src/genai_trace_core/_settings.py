"""Run-time settings: environment variables first, then ``configure``/``set_settings`` overrides.

Read once per :class:`Settings` instance; the hot path only reads attributes of a frozen object.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from genai_trace_core import semconv

Redactor = Callable[[str], str]


class CaptureMode(str, enum.Enum):
    """Which content is exported, and where (on spans, on events, both, or none)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def any(self) -> bool:
        return self is not CaptureMode.NO_CONTENT


def parse_capture_mode(value: str | None) -> CaptureMode:
    """Parse the env var value; unknown values, ``false`` and empty mean NO_CONTENT.
    ``true`` (the older contrib switch) means SPAN_ONLY."""
    if not value:
        return CaptureMode.NO_CONTENT
    v = value.strip().upper()
    if v in ("TRUE", "1", "YES"):
        return CaptureMode.SPAN_ONLY
    try:
        return CaptureMode(v)
    except ValueError:
        return CaptureMode.NO_CONTENT


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


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
    price_overrides: Mapping[str, Any] = field(default_factory=dict)
    # Offline (tiktoken) token counts exported as gen_ai.usage.* and on the token metrics, counted
    # on the app's thread. Off by default (the conventions allow offline counts only on the user's
    # opt-in): the estimate is then ceil(chars/4), no tokenizer, under
    # genai_trace.usage.estimated.*, and still prices the call.
    estimate_usage: bool = False

    @property
    def emits_events(self) -> bool:
        if self.emit_events is not None:
            return self.emit_events and self.capture_mode.on_event
        return self.capture_mode.on_event

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def settings_from_env() -> Settings:
    emit = os.environ.get(semconv.ENV_EMIT_EVENT)
    return Settings(
        capture_mode=parse_capture_mode(os.environ.get(semconv.ENV_CAPTURE_MESSAGE_CONTENT)),
        emit_events=None
        if emit is None or emit.strip() == ""
        else _env_bool(semconv.ENV_EMIT_EVENT, True),
        max_attribute_length=_env_int("GENAI_TRACE_MAX_ATTRIBUTE_LENGTH", 8192),
        max_span_content=_env_int("GENAI_TRACE_MAX_SPAN_CONTENT", 65536),
        redact_builtin=_env_bool("GENAI_TRACE_REDACT", False),
        metrics_naming="v1.41"
        if os.environ.get("GENAI_TRACE_METRICS_NAMING", "").strip() == "v1.41"
        else "latest",
        hide_internal_spans=_env_bool("GENAI_TRACE_HIDE_INTERNAL_SPANS", False),
        metadata_keys=_env_list("GENAI_TRACE_METADATA_KEYS"),
        metric_attribute_keys=_env_list("GENAI_TRACE_METRIC_ATTRIBUTE_KEYS"),
        registry_max_size=_env_int("GENAI_TRACE_REGISTRY_MAX_SIZE", 10_000),
        registry_ttl_seconds=float(_env_int("GENAI_TRACE_REGISTRY_TTL_SECONDS", 3600)),
        suppress_provider_spans=_env_bool("GENAI_TRACE_SUPPRESS_PROVIDER_SPANS", True),
        estimate_usage=_env_bool(semconv.ENV_ESTIMATE_USAGE, False),
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

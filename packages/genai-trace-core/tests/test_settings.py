"""Settings from the environment: capture mode parsing and switches."""

from __future__ import annotations

import pytest

from genai_trace_core import CaptureMode, semconv

# internal: the env-var parsers behind get_settings() are not public names
from genai_trace_core._settings import parse_capture_mode, settings_from_env


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (None, CaptureMode.NO_CONTENT),
        ("", CaptureMode.NO_CONTENT),
        ("no_content", CaptureMode.NO_CONTENT),
        ("SPAN_ONLY", CaptureMode.SPAN_ONLY),
        ("event_only", CaptureMode.EVENT_ONLY),
        (" Span_And_Event ", CaptureMode.SPAN_AND_EVENT),
        ("true", CaptureMode.SPAN_ONLY),
        ("false", CaptureMode.NO_CONTENT),
        ("bogus", CaptureMode.NO_CONTENT),
    ],
)
def test_capture_mode_parsing(raw: str | None, mode: CaptureMode) -> None:
    assert parse_capture_mode(raw) is mode


def test_content_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, raising=False)
    s = settings_from_env()
    assert s.capture_mode is CaptureMode.NO_CONTENT
    assert not s.emits_events


def test_env_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPAN_AND_EVENT")
    monkeypatch.setenv(semconv.ENV_EMIT_EVENT, "false")
    monkeypatch.setenv("GENAI_TRACE_METRICS_NAMING", "v1.41")
    monkeypatch.setenv("GENAI_TRACE_METADATA_KEYS", "a, b,,c")
    monkeypatch.setenv("GENAI_TRACE_REGISTRY_MAX_SIZE", "not-a-number")
    monkeypatch.setenv("GENAI_TRACE_REDACT", "1")
    s = settings_from_env()
    assert s.capture_mode.on_span
    assert not s.emits_events
    assert s.metrics_naming == "v1.41"
    assert s.metadata_keys == ("a", "b", "c")
    assert s.registry_max_size == 10_000
    assert s.redact_builtin

"""``GENAI_TRACE_SDK_SPANS`` and ``GENAI_TRACE_OTLP_ENCODER``: an invalid value warns once.

The README promises that a switch that is neither true nor false warns once, naming the
variable; both were read silently before 2026-12-06 (``maybe`` was simply false, ``bogus`` fast).
"""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from genai_trace_core import _safe
from genai_trace_core.export import _fast_tracer, _otlp_exporter


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    _safe._logged.clear()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_an_invalid_sdk_spans_switch_warns_once_and_keeps_the_fast_path(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GENAI_TRACE_SDK_SPANS", "maybe")
    tracer = TracerProvider().get_tracer("t")
    assert isinstance(_fast_tracer.wrap(tracer), _fast_tracer.FastTracer)
    assert isinstance(_fast_tracer.wrap(tracer), _fast_tracer.FastTracer)
    assert _warnings(caplog) == [
        "genai-trace: GENAI_TRACE_SDK_SPANS='maybe' is not valid (expected true or false); "
        "using false"
    ]
    monkeypatch.setenv("GENAI_TRACE_SDK_SPANS", "ON")
    assert _fast_tracer.wrap(tracer) is None


def test_an_invalid_encoder_choice_warns_once_and_keeps_the_fast_encoder(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GENAI_TRACE_OTLP_ENCODER", "bogus")
    assert _otlp_exporter.fast_encoder_works() is True
    assert _otlp_exporter.fast_encoder_works() is True
    assert _warnings(caplog) == [
        "genai-trace: GENAI_TRACE_OTLP_ENCODER='bogus' is not valid (expected fast or sdk); "
        "using fast"
    ]
    monkeypatch.setenv("GENAI_TRACE_OTLP_ENCODER", "SDK")
    assert _otlp_exporter.fast_encoder_works() is False

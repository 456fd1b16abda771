"""The conformance check itself can fail: spans, metric points and log records with planted
violations, written straight to the OpenTelemetry SDK (no genai-trace in between), are each
reported; a clean span of the same shape is not."""

from __future__ import annotations

import json

from conformance_check import (
    check_logs,
    check_metrics,
    check_span,
    check_token_points,
    metric_points,
)
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.trace import SpanKind

from genai_trace_core.testing import OTelHarness

GOOD_OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}]
CLEAN = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 10,
    "gen_ai.usage.output_tokens": 2,
    "server.address": "api.openai.com",
    "server.port": 443,
}


def _span(otel: OTelHarness, name: str, attrs: dict[str, object]) -> list[str]:
    tracer = otel.tracer_provider.get_tracer("planted")
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attrs):
        pass
    spans = otel.spans()
    return [v for s in spans for v in check_span(s, spans, capture=False)]


def test_a_clean_chat_span_passes(otel: OTelHarness) -> None:
    assert _span(otel, "chat gpt-4o-mini", CLEAN) == []


def test_every_planted_span_violation_is_reported(otel: OTelHarness) -> None:
    planted = {
        **{k: v for k, v in CLEAN.items() if k not in ("gen_ai.provider.name", "server.port")},
        "gen_ai.system": "openai",  # deprecated name
        "gen_ai.request.max_tokens": "10",  # wrong type
        "gen_ai.output.type": "yaml",  # not an enum value
        "gen_ai.madeup": 1,  # not in the registry
        # opt-in content with capture off, and against its schema (no finish_reason)
        "gen_ai.output.messages": json.dumps(GOOD_OUTPUT),
    }
    found = "\n".join(_span(otel, "chat", planted))
    for expected in (
        "name should be 'chat gpt-4o-mini'",
        "required gen_ai.provider.name missing",
        "server.port is required once server.address is set",
        "deprecated gen_ai.system",
        "gen_ai.request.max_tokens='10' is string, not int",
        "gen_ai.output.type='yaml' not in",
        "gen_ai.madeup is not in the GenAI registry",
        "opt-in gen_ai.output.messages exported with capture off",
        "gen_ai.output.messages schema: 'finish_reason' is a required property",
    ):
        assert expected in found, expected


def test_a_metric_point_without_its_required_attributes_is_reported(otel: OTelHarness) -> None:
    meter = otel.meter_provider.get_meter("planted")
    meter.create_histogram("gen_ai.client.inference.duration", unit="ms").record(
        0.5, {"gen_ai.operation.name": "chat", "gen_ai.response.id": "chatcmpl-1"}
    )
    found = "\n".join(check_metrics(metric_points(otel.metric_reader)))
    assert "histogram ms, expected histogram s" in found
    assert "required gen_ai.provider.name missing" in found
    assert "gen_ai.response.id must not be on metrics" in found


def test_a_failed_model_call_without_a_token_data_point_is_reported(otel: OTelHarness) -> None:
    tracer = otel.tracer_provider.get_tracer("planted")
    histogram = otel.meter_provider.get_meter("planted").create_histogram(
        "gen_ai.client.inference.operation.input_tokens", unit="{token}"
    )
    failed = {
        k: v for k, v in CLEAN.items() if not k.startswith(("gen_ai.usage", "gen_ai.response"))
    }
    failed["error.type"] = "TimeoutError"
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=failed):
        pass
    # a point for another error type (and one for a success) is not this call's point
    keys = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model")
    base = {k: CLEAN[k] for k in keys}
    histogram.record(0, {**base, "error.type": "ConnectionError"})
    histogram.record(10, base)
    found = check_token_points(otel.spans(), metric_points(otel.metric_reader))
    assert found == [
        "metric gen_ai.client.inference.operation.input_tokens: no data point for span "
        "'chat gpt-4o-mini' (error.type=TimeoutError)"
    ]

    histogram.record(0, {**base, "error.type": "TimeoutError"})
    assert check_token_points(otel.spans(), metric_points(otel.metric_reader)) == []


def test_a_details_event_at_info_unlike_its_span_is_reported(otel: OTelHarness) -> None:
    tracer = otel.tracer_provider.get_tracer("planted")
    logger = otel.logger_provider.get_logger("planted")
    attrs = {**CLEAN, "gen_ai.output.type": "json"}
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs):
        logger.emit(
            LogRecord(
                severity_number=SeverityNumber.INFO,
                event_name="gen_ai.client.inference.operation.details",
                attributes={"gen_ai.operation.name": "chat", "gen_ai.output.type": "text"},
            )
        )
    found = "\n".join(check_logs(otel.logs(), otel.spans(), capture_events=True))
    assert "severity INFO" in found
    assert "gen_ai.output.type differs from its span's" in found
    assert "gen_ai.input.messages missing in an event capture mode" in found

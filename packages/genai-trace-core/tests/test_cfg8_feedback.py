"""A feedback score that is not a finite number is refused as invalid input (``False``): no
event claiming ``NaN``, no count without its score, and no OpenTelemetry warning (the SDK's
histogram drops a non-finite value and logs "Record amount nan is not finite")."""

from __future__ import annotations

import logging
import math

import pytest
from opentelemetry import trace

from genai_trace_core import record_feedback, semconv, trace_ids
from genai_trace_core.testing import OTelHarness


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf, "nan"])
def test_a_score_that_is_not_a_finite_number_is_refused_without_any_warning(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture, score: float
) -> None:
    tracer = otel.tracer_provider.get_tracer("support-app")
    with tracer.start_as_current_span("handle_question"):
        ids = trace_ids()
    assert ids is not None
    providers = {"logger_provider": otel.logger_provider, "meter_provider": otel.meter_provider}

    with caplog.at_level(logging.WARNING):
        refused = record_feedback(
            "user_feedback", score=score, trace_id=ids.trace_id, span_id=ids.span_id, **providers
        )
        recorded = record_feedback(
            "user_feedback",
            score=1.0,
            label="thumbs_up",
            trace_id=ids.trace_id,
            span_id=ids.span_id,
            **providers,
        )

    assert (refused, recorded) == (False, True)
    assert [r.getMessage() for r in caplog.records] == []
    [event] = otel.logs()
    assert trace.format_trace_id(event.trace_id) == ids.trace_id
    assert dict(event.attributes) == {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
        semconv.GEN_AI_EVALUATION_SCORE_VALUE: 1.0,
    }
    labels = {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
    }
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_EVALUATION_COUNT] == [{"attributes": labels, "value": 1}]
    [score_point] = metrics[semconv.METRIC_EVALUATION_SCORE]
    assert (score_point["attributes"], score_point["count"], score_point["sum"]) == (labels, 1, 1.0)

"""Feedback and evaluation results recorded after the fact: the ``gen_ai.evaluation.result``
event parented to the given trace/span (from another process too) and the score/count metrics."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanContext, TraceFlags

from genai_trace_core import TraceIds, record_feedback, semconv, trace_ids

# internal: the score buckets a feedback label is derived from are not a public name
from genai_trace_core._feedback import SCORE_BUCKETS
from genai_trace_core.testing import OTelHarness

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def _ids(record: Any) -> tuple[str, str]:
    return f"{record.trace_id:032x}", f"{record.span_id:016x}"


def test_thumbs_up_from_another_process_is_parented_to_the_given_hex_ids(
    otel: OTelHarness,
) -> None:
    ok = record_feedback(
        "user_feedback",
        score=1.0,
        label="thumbs_up",
        explanation="exactly what I needed",
        trace_id=TRACE,
        span_id=SPAN,
        response_id="chatcmpl-abc",
        model="gpt-4o-mini",
        provider="openai",
        feature="support-chat",
        prompt_version="v3",
        logger_provider=otel.logger_provider,
        meter_provider=otel.meter_provider,
        timestamp_ns=1_700_000_000_000_000_000,
    )
    assert ok is True
    [record] = otel.logs()
    assert _ids(record) == (TRACE, SPAN)
    assert record.event_name == semconv.EVENT_EVALUATION_RESULT
    assert record.severity_number.name == "INFO"
    assert record.timestamp == 1_700_000_000_000_000_000
    assert dict(record.attributes) == {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_VALUE: 1.0,
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
        semconv.GEN_AI_EVALUATION_EXPLANATION: "exactly what I needed",
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-abc",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.FEATURE: "support-chat",
        semconv.GEN_AI_PROMPT_VERSION: "v3",
    }
    dims = {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.FEATURE: "support-chat",
        semconv.GEN_AI_PROMPT_VERSION: "v3",
    }
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_EVALUATION_SCORE] == [
        {"attributes": dims, "count": 1, "sum": 1.0, "bounds": list(SCORE_BUCKETS)}
    ]
    assert metrics[semconv.METRIC_EVALUATION_COUNT] == [{"attributes": dims, "value": 1}]


def test_scores_and_labels_aggregate_by_name_and_label_without_ids_or_text(
    otel: OTelHarness,
) -> None:
    common: dict[str, Any] = {
        "logger_provider": otel.logger_provider,
        "meter_provider": otel.meter_provider,
        "model": "gpt-4o",
        "trace_id": TRACE,
        "span_id": SPAN,
    }
    record_feedback("user_feedback", score=1.0, label="thumbs_up", **common)
    record_feedback("user_feedback", score=0.0, label="thumbs_down", explanation="wrong", **common)
    record_feedback("user_feedback", score=1.0, label="thumbs_up", **common)
    record_feedback("relevance", label="irrelevant", **common)  # a label alone: counted only
    metrics = otel.metrics()
    scores = {
        p["attributes"][semconv.GEN_AI_EVALUATION_SCORE_LABEL]: (p["count"], p["sum"])
        for p in metrics[semconv.METRIC_EVALUATION_SCORE]
    }
    assert scores == {"thumbs_up": (2, 2.0), "thumbs_down": (1, 0.0)}
    counts = {
        (
            p["attributes"][semconv.GEN_AI_EVALUATION_NAME],
            p["attributes"][semconv.GEN_AI_EVALUATION_SCORE_LABEL],
        ): p["value"]
        for p in metrics[semconv.METRIC_EVALUATION_COUNT]
    }
    assert counts == {
        ("user_feedback", "thumbs_up"): 2,
        ("user_feedback", "thumbs_down"): 1,
        ("relevance", "irrelevant"): 1,
    }
    for points in metrics.values():
        for p in points:
            assert set(p["attributes"]) <= {
                semconv.GEN_AI_EVALUATION_NAME,
                semconv.GEN_AI_EVALUATION_SCORE_LABEL,
                semconv.GEN_AI_REQUEST_MODEL,
            }
    assert [r.attributes.get(semconv.GEN_AI_EVALUATION_SCORE_VALUE) for r in otel.logs()] == [
        1.0,
        0.0,
        1.0,
        None,
    ]


def test_without_ids_the_event_attaches_to_the_current_span(otel: OTelHarness) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as span:
        record_feedback(
            "user_feedback",
            score=0.0,
            logger_provider=otel.logger_provider,
            meter_provider=otel.meter_provider,
        )
        ids = trace_ids()
    [record] = otel.logs()
    sc = span.get_span_context()
    assert ids == TraceIds(f"{sc.trace_id:032x}", f"{sc.span_id:016x}")
    assert _ids(record) == ids


def test_a_span_context_can_be_given_instead_of_hex_ids(otel: OTelHarness) -> None:
    sc = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    record_feedback(
        "accuracy",
        score=0.75,
        span_context=sc,
        logger_provider=otel.logger_provider,
        meter_provider=otel.meter_provider,
    )
    [record] = otel.logs()
    assert _ids(record) == (f"{0xABC:032x}", f"{0xDEF:016x}")
    assert trace_ids(sc) == TraceIds(f"{0xABC:032x}", f"{0xDEF:016x}")


def test_trace_ids_of_a_run_context_name_the_runs_span(otel: OTelHarness) -> None:
    tel = otel.telemetry()
    from genai_trace_core import Operation, OperationKind

    tel.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    ids = trace_ids(tel.context_of("wf"))
    tel.end("wf")
    [span] = otel.span_dicts()
    assert ids == TraceIds(span["trace_id"], span["span_id"])
    assert trace_ids() is None  # no current span here
    assert trace_ids(trace.INVALID_SPAN) is None


def test_invalid_input_records_nothing_and_never_raises(otel: OTelHarness) -> None:
    kw: dict[str, Any] = {
        "logger_provider": otel.logger_provider,
        "meter_provider": otel.meter_provider,
    }
    assert record_feedback("user_feedback", **kw) is False  # neither score nor label
    assert record_feedback("", score=1.0, **kw) is False
    assert record_feedback("x", score=1.0, trace_id="not-hex", span_id=SPAN, **kw) is False
    assert record_feedback("x", score=1.0, trace_id="0" * 32, span_id=SPAN, **kw) is False
    assert record_feedback("x", score=1.0, trace_id=TRACE, **kw) is False  # span id missing
    assert otel.logs() == []
    assert semconv.METRIC_EVALUATION_COUNT not in otel.metrics()


def test_a_span_id_without_its_trace_id_is_refused_like_a_trace_id_alone(
    otel: OTelHarness,
) -> None:
    """A span id names a span only within its trace: alone, it is refused (nothing recorded),
    never attached to the current span (or to none) instead."""
    kw: dict[str, Any] = {
        "logger_provider": otel.logger_provider,
        "meter_provider": otel.meter_provider,
    }
    assert record_feedback("user_feedback", score=1.0, span_id=SPAN, **kw) is False
    with otel.tracer_provider.get_tracer("app").start_as_current_span("request"):
        assert record_feedback("user_feedback", label="thumbs_up", span_id=SPAN, **kw) is False
    assert otel.logs() == []
    assert semconv.METRIC_EVALUATION_COUNT not in otel.metrics()
    assert semconv.METRIC_EVALUATION_SCORE not in otel.metrics()

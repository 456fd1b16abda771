"""A stream's time to first chunk goes on its metric at the call's end, attributed as its
duration (response model, error type); the gaps between chunks are recorded as they arrive."""

from __future__ import annotations

from genai_trace_core import Operation, OperationKind, Outcome, RequestParams, semconv
from genai_trace_core.testing import OTelHarness

START = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
}


def _stream_op() -> Operation:
    return Operation(
        OperationKind.CHAT,
        provider="openai",
        request_model="gpt-4o-mini",
        request=RequestParams(stream=True),
    )


def _series(otel: OTelHarness, name: str) -> list[tuple[dict[str, object], int]]:
    return sorted(
        ((p["attributes"], p["count"]) for p in otel.metrics().get(name, [])),
        key=lambda s: sorted(s[0].items()),
    )


def test_time_to_first_chunk_carries_the_response_model_and_error_type(
    otel: OTelHarness,
) -> None:
    t = otel.telemetry()
    t.start("ok", _stream_op())
    t.start("bad", _stream_op())
    for _ in range(3):
        t.chunk("ok")
        t.chunk("bad")
    # Gaps as they arrive (two per stream), the first chunk's time not before the end.
    assert _series(otel, semconv.METRIC_INFERENCE_TPOC) == [(START, 4)]
    assert _series(otel, semconv.METRIC_INFERENCE_TTFC) == []
    t.end("ok", Outcome(response_model="gpt-4o-mini-2024-07-18"))
    t.fail("bad", TimeoutError("cut"))
    ttfc = _series(otel, semconv.METRIC_INFERENCE_TTFC)
    assert ttfc == [
        ({**START, "error.type": "TimeoutError"}, 1),
        ({**START, "gen_ai.response.model": "gpt-4o-mini-2024-07-18"}, 1),
    ]
    duration = _series(otel, semconv.METRIC_INFERENCE_DURATION)
    assert [a for a, _ in duration] == [a for a, _ in ttfc]


def test_a_call_that_does_not_stream_records_no_chunk_times(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", _stream_op())
    t.end("c", Outcome(response_model="m"))
    assert _series(otel, semconv.METRIC_INFERENCE_TTFC) == []
    assert _series(otel, semconv.METRIC_INFERENCE_TPOC) == []
    assert _series(otel, semconv.METRIC_INFERENCE_DURATION) != []

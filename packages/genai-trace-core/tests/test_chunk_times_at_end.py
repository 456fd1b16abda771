"""A stream's time to first chunk and gaps between chunks go on the metrics at the call's end,
attributed as its duration (response model, error type), with a bounded number kept per run."""

from __future__ import annotations

from genai_trace_core import Operation, OperationKind, Outcome, RequestParams, semconv
from genai_trace_core.lifecycle._first_chunk import MAX_KEPT_GAPS
from genai_trace_core.testing import OTelHarness


def _stream_op() -> Operation:
    return Operation(
        OperationKind.CHAT,
        provider="openai",
        request_model="gpt-4o-mini",
        request=RequestParams(stream=True),
    )


def _series(otel: OTelHarness, name: str) -> list[tuple[dict[str, object], int]]:
    return [(p["attributes"], p["count"]) for p in otel.metrics().get(name, [])]


def test_chunk_times_carry_the_response_model_and_error_type(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("ok", _stream_op())
    t.start("bad", _stream_op())
    for _ in range(3):
        t.chunk("ok")
        t.chunk("bad")
    assert _series(otel, semconv.METRIC_INFERENCE_TTFC) == []  # nothing before the end
    t.end("ok", Outcome(response_model="gpt-4o-mini-2024-07-18"))
    t.fail("bad", TimeoutError("cut"))
    duration = {
        tuple(sorted(a.items())): n for a, n in _series(otel, semconv.METRIC_INFERENCE_DURATION)
    }
    for name, per_call in ((semconv.METRIC_INFERENCE_TTFC, 1), (semconv.METRIC_INFERENCE_TPOC, 2)):
        points = _series(otel, name)
        assert {tuple(sorted(a.items())): n for a, n in points} == {
            key: per_call for key in duration
        }
    models = [
        a.get(semconv.GEN_AI_RESPONSE_MODEL)
        for a, _ in _series(otel, semconv.METRIC_INFERENCE_TTFC)
    ]
    assert sorted(map(str, models)) == ["None", "gpt-4o-mini-2024-07-18"]


def test_a_very_long_stream_keeps_a_bounded_number_of_gaps(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", _stream_op())
    chunks = 2 * MAX_KEPT_GAPS + 10
    for _ in range(chunks):
        t.chunk("c")
    run = t._registry.get("c")
    assert run is not None and run.chunk_gaps is not None
    assert len(run.chunk_gaps) == (chunks - 1) % MAX_KEPT_GAPS  # the full batches recorded
    t.end("c", Outcome(response_model="m-1"))
    counts = _series(otel, semconv.METRIC_INFERENCE_TPOC)
    assert sum(n for _, n in counts) == chunks - 1  # one point per gap, none lost
    # The batches recorded before the end have the start's attributes; the rest the end's.
    assert sorted(n for _, n in counts) == [(chunks - 1) % MAX_KEPT_GAPS, 2 * MAX_KEPT_GAPS]

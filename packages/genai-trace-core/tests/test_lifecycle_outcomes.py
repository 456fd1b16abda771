"""What a run's end records: errors (status, qualified type, exception event), streaming time
to first chunk and gaps, events and attributes added while open."""

from __future__ import annotations

import asyncio

from inline_snapshot import snapshot

from genai_trace_core import Operation, OperationKind, Outcome, RequestParams, semconv
from genai_trace_core.testing import OTelHarness

WF = OperationKind.INVOKE_WORKFLOW
CHAT = OperationKind.CHAT


def chat_op(model: str = "gpt-4o-mini", **kw: object) -> Operation:
    return Operation(CHAT, provider="openai", request_model=model, **kw)  # type: ignore[arg-type]


def test_fail_sets_error_status_type_and_exception_event(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.fail("c", TimeoutError("too slow"))
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "TimeoutError",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                },
                "status_description": "TimeoutError: message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "message not captured: content capture is off",
                            "exception.stacktrace": "TimeoutError: "
                            "message not captured: content capture is off",
                            "exception.type": "TimeoutError",
                        },
                    }
                ],
            }
        ]
    )
    duration = otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    assert duration[0]["attributes"][semconv.ERROR_TYPE] == "TimeoutError"


def test_error_type_of_library_exception_is_qualified(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.fail("c", asyncio.CancelledError())
    (span,) = otel.span_dicts()
    assert span["attributes"][semconv.ERROR_TYPE] in (
        "asyncio.exceptions.CancelledError",
        "CancelledError",
    )


def test_streaming_chunks_record_ttfc_and_gaps(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op(request=RequestParams(stream=True)))
    otel.clock.advance(250_000_000)
    t.chunk("c")
    t.chunk("c")
    t.chunk("c")
    t.end("c")
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "gen_ai.response.time_to_first_chunk": 0.251,
                },
            }
        ]
    )
    m = otel.metrics()
    assert m[semconv.METRIC_INFERENCE_TTFC][0]["count"] == 1
    assert m[semconv.METRIC_INFERENCE_TPOC][0]["count"] == 2
    assert abs(m[semconv.METRIC_INFERENCE_TPOC][0]["sum"] - 0.002) < 1e-9


def test_events_and_attributes_on_open_runs(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("c", chat_op())
    t.add_event("c", semconv.EVENT_RETRY, {semconv.EVENT_RETRY_ATTEMPT: 1})
    t.set_attributes("c", {semconv.LANGGRAPH_NODE: "agent"})
    t.end(
        "c",
        Outcome(response_model="gpt-4o-mini-2024-07-18", response_id="r1", finish_reasons=["stop"]),
    )
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "r1",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "genai_trace.langgraph.node": "agent",
                },
                "events": [
                    {"name": "genai_trace.retry", "attributes": {"genai_trace.retry.attempt": 1}}
                ],
            }
        ]
    )

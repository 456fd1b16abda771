"""A root's streamed inferences end with it only when its ender says so (``with_streams``).

By default a streamed model call open under a root that ends keeps going: it is consumed after its
caller returned (a LlamaIndex streaming response) and ends with its stream. An integration whose
app stopped reading the stream (closed, or the reading task cancelled) and whose framework reports
no end for the model call passes ``with_streams=True``: the stream then ends with the root, once,
keeping what it streamed (time to first chunk), and not later as ``abandoned`` by the TTL.
"""

from __future__ import annotations

from typing import Any

from genai_trace_core import Operation, OperationKind, RequestParams, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape

WF = OperationKind.INVOKE_WORKFLOW


def chat_op(**kw: Any) -> Operation:
    return Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini", **kw)


def _open_tree(otel: OTelHarness) -> Any:
    """A workflow root, its node, under it a model streaming (one chunk in) and a model asked to
    stream that has no chunk yet."""
    t = otel.telemetry()
    t.start("wf", Operation(WF, name="flow"))
    t.start("node", Operation(OperationKind.STEP, name="answer"), parent_run_id="wf")
    t.start("streaming", chat_op(), parent_run_id="node")
    otel.clock.advance(5_000_000)
    t.chunk("streaming")
    t.start("asked", chat_op(request=RequestParams(stream=True)), parent_run_id="node")
    t.end("node")  # the node ended first: its open model calls move up to the root
    return t


def _durations(otel: OTelHarness) -> list[tuple[int, Any]]:
    points = otel.metrics().get(semconv.METRIC_INFERENCE_DURATION, [])
    return sorted((p["count"], p["attributes"].get(semconv.ERROR_TYPE)) for p in points)


def _tree(model_status: str) -> list[Any]:
    model = ["chat gpt-4o-mini", "CLIENT", model_status, []]
    node = ["answer", "INTERNAL", "UNSET", [model, model]]
    return [
        [
            "invoke_workflow flow",
            "INTERNAL",
            "ERROR" if model_status == "ERROR" else "UNSET",
            [node],
        ]
    ]


def _errors(otel: OTelHarness) -> list[tuple[str, Any]]:
    return [(s["name"], s["attributes"].get(semconv.ERROR_TYPE)) for s in otel.span_dicts()]


def _ttfc(otel: OTelHarness) -> list[Any]:
    attr = semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
    return [s["attributes"].get(attr) for s in otel.span_dicts() if s["name"].startswith("chat")]


def test_a_root_ended_with_streams_ends_its_streams_successfully_and_once(
    otel: OTelHarness,
) -> None:
    t = _open_tree(otel)
    t.end("wf", with_descendants=True, with_streams=True)
    assert t.open_count() == 0
    t.end("streaming")  # the framework's own late end, if it comes: ignored
    t.fail("asked", "cancelled")
    assert shape(otel.tree()) == _tree("UNSET")
    assert all(e is None for _, e in _errors(otel))
    assert sorted(_ttfc(otel), key=str) == [0.006, None]  # what it streamed stays on the span
    assert _durations(otel) == [(2, None)]  # one record per model call
    assert semconv.METRIC_SPANS_DROPPED not in otel.metrics()


def test_a_root_failed_with_streams_ends_its_streams_as_abandoned(otel: OTelHarness) -> None:
    t = _open_tree(otel)
    t.fail("wf", semconv.ERROR_TYPE_CANCELLED, with_streams=True)
    assert t.open_count() == 0
    assert shape(otel.tree()) == _tree("ERROR")
    assert sorted(_errors(otel), key=str) == [
        ("answer", None),
        ("chat gpt-4o-mini", "abandoned"),
        ("chat gpt-4o-mini", "abandoned"),
        ("invoke_workflow flow", "cancelled"),
    ]
    assert sorted(_ttfc(otel), key=str) == [0.006, None]
    assert _durations(otel) == [(2, "abandoned")]
    assert otel.metrics()[semconv.METRIC_SPANS_DROPPED][0]["value"] == 2


def test_by_default_a_root_leaves_its_streams_to_end_on_their_own(otel: OTelHarness) -> None:
    """LlamaIndex's streaming response, read after its query returned: unchanged."""
    for end in ("end", "end_with_descendants", "fail"):
        otel.clear()
        t = _open_tree(otel)
        if end == "fail":
            t.fail("wf", semconv.ERROR_TYPE_CANCELLED)
        else:
            t.end("wf", with_descendants=end != "end")
        assert (t.is_open("streaming"), t.is_open("asked")) == (True, True), end
        t.chunk("asked")
        t.end("streaming")
        t.end("asked")
        assert t.open_count() == 0
        assert all(
            semconv.ERROR_TYPE not in s["attributes"]
            for s in otel.span_dicts()
            if s["name"].startswith("chat")
        ), end

"""Core behaviour the LlamaIndex integration relies on (added with issue 4)."""

from __future__ import annotations

from genai_trace_core import Document, Operation, OperationKind, Outcome, semconv
from genai_trace_core.testing import OTelHarness


def test_retrieval_document_ids_follow_content_capture(otel: OTelHarness) -> None:
    for mode in ("NO_CONTENT", "EVENT_ONLY"):
        tel = otel.telemetry(capture_mode=mode)
        tel.start(mode, Operation(kind=OperationKind.RETRIEVAL, name="docs"))
        tel.end(mode, Outcome(documents=[Document("a", 0.9, "secret text"), Document("b", None)]))
    off, events = otel.span_dicts()
    assert off["attributes"][semconv.DOCUMENT_COUNT] == 2
    assert semconv.GEN_AI_RETRIEVAL_DOCUMENTS not in off["attributes"]
    assert events["attributes"][semconv.GEN_AI_RETRIEVAL_DOCUMENTS] == [
        {"id": "a", "score": 0.9},
        {"id": "b"},
    ]
    assert "secret text" not in str(off["attributes"]) + str(events["attributes"])


def test_embeddings_estimate_has_input_tokens_and_no_output_count(otel: OTelHarness) -> None:
    tel = otel.telemetry()
    op = Operation(
        kind=OperationKind.EMBEDDINGS,
        request_model="text-embedding-3-small",
        estimate_input=lambda: ["hello world"],
    )
    tel.start("e", op)
    tel.end("e", Outcome(embedding_dimension=8, embedding_input_count=1))
    (span,) = otel.span_dicts()
    attrs = span["attributes"]
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 2
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in attrs
    assert attrs[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED

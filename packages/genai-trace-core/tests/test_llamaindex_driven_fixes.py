"""Core behaviour the LlamaIndex integration relies on (added with issue 4)."""

from __future__ import annotations

from genai_trace_core import Document, Operation, OperationKind, Outcome, semconv
from genai_trace_core.testing import OTelHarness


def test_retrieval_documents_are_opt_in_with_content_off(
    otel: OTelHarness,
) -> None:
    tel = otel.telemetry()
    tel.start("r", Operation(kind=OperationKind.RETRIEVAL, name="docs"))
    tel.end("r", Outcome(documents=[Document("a", 0.9, "secret text"), Document("b", None)]))
    (span,) = otel.span_dicts()
    assert semconv.GEN_AI_RETRIEVAL_DOCUMENTS not in span["attributes"]  # opt-in
    assert span["attributes"][semconv.DOCUMENT_COUNT] == 2
    assert "secret text" not in str(span["attributes"])


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
    # An offline estimate is ours, not gen_ai.usage.* (GENAI_TRACE_ESTIMATE_USAGE is off).
    assert attrs[semconv.USAGE_ESTIMATED_INPUT_TOKENS] == 2
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert semconv.USAGE_ESTIMATED_OUTPUT_TOKENS not in attrs
    assert attrs[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED

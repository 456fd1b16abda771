"""A retrieval span records document ids and scores only when content is captured, never their
text without it; an
embeddings estimate counts input tokens and no output tokens."""

from __future__ import annotations

from inline_snapshot import snapshot

from genai_trace_core import Document, Operation, OperationKind, Outcome
from genai_trace_core.testing import OTelHarness


def test_retrieval_document_ids_follow_content_capture(otel: OTelHarness) -> None:
    for mode in ("NO_CONTENT", "EVENT_ONLY"):
        tel = otel.telemetry(capture_mode=mode)
        tel.start(mode, Operation(kind=OperationKind.RETRIEVAL, name="docs"))
        tel.end(mode, Outcome(documents=[Document("a", 0.9, "secret text"), Document("b", None)]))
    assert "secret text" not in repr(otel.snapshot_dicts())
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "retrieval docs",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.data_source.id": "docs",
                    "gen_ai.operation.name": "retrieval",
                    "genai_trace.documents.count": 2,
                },
            },
            {
                "name": "retrieval docs",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.data_source.id": "docs",
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.documents": [{"id": "a", "score": 0.9}, {"id": "b"}],
                    "genai_trace.documents.count": 2,
                },
            },
        ]
    )


def test_embeddings_estimate_has_input_tokens_and_no_output_count(otel: OTelHarness) -> None:
    tel = otel.telemetry()
    op = Operation(
        kind=OperationKind.EMBEDDINGS,
        request_model="text-embedding-3-small",
        estimate_input=lambda: ["hello world"],
    )
    tel.start("e", op)
    tel.end("e", Outcome(embedding_dimension=8, embedding_input_count=1))
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.embeddings.dimension.count": 8,
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "unknown",
                    "gen_ai.request.model": "text-embedding-3-small",
                    "genai_trace.usage.estimated.input_tokens": 3,
                    "genai_trace.embeddings.input_count": 1,
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                },
            }
        ]
    )

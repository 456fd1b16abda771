"""Query engines: one readable trace per query (scenarios 1, 2, 3 and the span budget)."""

from __future__ import annotations

import asyncio
import gc
import json

from li_support import Instrument, shape
from llama_index.core import VectorStoreIndex

from genai_trace_core import attribution
from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import walk_tree as walk

KEYS = (
    s.GEN_AI_OPERATION_NAME,
    s.GEN_AI_PROVIDER_NAME,
    s.GEN_AI_REQUEST_MODEL,
    s.GEN_AI_RESPONSE_MODEL,
    s.GEN_AI_RESPONSE_ID,
    s.GEN_AI_RESPONSE_FINISH_REASONS,
    s.GEN_AI_USAGE_INPUT_TOKENS,
    s.GEN_AI_USAGE_OUTPUT_TOKENS,
    s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    s.USAGE_SOURCE,
    s.USAGE_ESTIMATED_INPUT_TOKENS,
    s.GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
    s.EMBEDDINGS_INPUT_COUNT,
    s.GEN_AI_DATA_SOURCE_ID,
    s.GEN_AI_RETRIEVAL_TOP_K,
    s.GEN_AI_RETRIEVAL_DOCUMENTS,
    s.DOCUMENT_COUNT,
    s.RUN_TYPE,
    s.GEN_AI_REQUEST_STREAM,
)


def test_query_is_one_trace_query_retrieval_embeddings_synthesize_chat(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    index.as_query_engine(similarity_top_k=2).query("What is the capital of France?")

    tree = otel.tree(attributes=KEYS)
    # Document ids are content (URIs, file names): not exported with capture off.
    retrieval = next(n for n in walk(tree) if n["name"] == "retrieval capitals")
    assert s.GEN_AI_RETRIEVAL_DOCUMENTS not in retrieval["attributes"]
    chat = next(n for n in walk(tree) if n["name"] == "chat gpt-4o-mini")
    usage = chat["attributes"]
    assert tree == [
        {
            "name": "RetrieverQueryEngine.query",
            "kind": "INTERNAL",
            "status": "UNSET",
            "attributes": {s.RUN_TYPE: "query"},
            "children": [
                {
                    "name": "retrieval capitals",
                    "kind": "CLIENT",
                    "status": "UNSET",
                    "attributes": {
                        s.GEN_AI_OPERATION_NAME: "retrieval",
                        s.GEN_AI_DATA_SOURCE_ID: "capitals",
                        s.GEN_AI_RETRIEVAL_TOP_K: 2,
                        s.DOCUMENT_COUNT: 2,
                    },
                    "children": [
                        {
                            "name": "embeddings text-embedding-3-small",
                            "kind": "CLIENT",
                            "status": "UNSET",
                            "attributes": {
                                s.GEN_AI_OPERATION_NAME: "embeddings",
                                s.GEN_AI_PROVIDER_NAME: "openai",
                                s.GEN_AI_REQUEST_MODEL: "text-embedding-3-small",
                                s.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 8,
                                s.EMBEDDINGS_INPUT_COUNT: 1,
                                s.USAGE_ESTIMATED_INPUT_TOKENS: 8,  # ceil(30 chars / 4)
                                s.USAGE_SOURCE: "estimated",
                            },
                            "children": [],
                        }
                    ],
                },
                {
                    "name": "CompactAndRefine.synthesize",
                    "kind": "INTERNAL",
                    "status": "UNSET",
                    "attributes": {s.RUN_TYPE: "synthesize", s.DOCUMENT_COUNT: 2},
                    "children": [
                        {
                            "name": "chat gpt-4o-mini",
                            "kind": "CLIENT",
                            "status": "UNSET",
                            "attributes": {
                                s.GEN_AI_OPERATION_NAME: "chat",
                                s.GEN_AI_PROVIDER_NAME: "openai",
                                s.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                                s.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
                                s.GEN_AI_RESPONSE_ID: "chatcmpl-0001",
                                s.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
                                s.GEN_AI_USAGE_INPUT_TOKENS: usage[s.GEN_AI_USAGE_INPUT_TOKENS],
                                s.GEN_AI_USAGE_OUTPUT_TOKENS: usage[s.GEN_AI_USAGE_OUTPUT_TOKENS],
                                s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 0,
                                s.USAGE_SOURCE: "provider",
                            },
                            "children": [],
                        }
                    ],
                },
            ],
        }
    ]
    assert len({d["trace_id"] for d in otel.span_dicts()}) == 1
    # CompactAndRefine's predict -> chat is one model call: one inference span, usage once
    assert usage[s.GEN_AI_USAGE_INPUT_TOKENS] > 20


def test_simple_query_stays_within_the_span_budget_and_verbose_shows_every_span(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrumentor = instrument()
    engine = index.as_query_engine(similarity_top_k=2)
    engine.query("capital of France?")
    default_count = len(otel.spans())
    instrumentor.uninstrument()
    otel.clear()
    instrument(verbose=True)
    engine.query("capital of France?")
    verbose = otel.tree(attributes=False)

    assert default_count == 5 <= 12
    names = [n["name"] for n in walk(verbose)]
    assert len(names) > 12
    assert {"VectorIndexRetriever._retrieve", "DeterministicEmbedding._get_query_embedding"} <= set(
        names
    )
    # still exactly one inference span per model call
    assert names.count("chat gpt-4o-mini") == 1


def test_streaming_query_keeps_the_llm_span_in_the_query_trace_until_the_last_chunk(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    response = index.as_query_engine(similarity_top_k=1, streaming=True).query("capital of Spain?")
    assert [d["name"] for d in otel.span_dicts()][-1] == "RetrieverQueryEngine.query"
    otel.clock.advance(5_000_000)
    chunks = list(response.response_gen)

    spans = {d["name"]: d for d in otel.span_dicts()}
    chat = spans["chat gpt-4o-mini"]
    synth = spans["CompactAndRefine.synthesize"]
    assert chat["parent_id"] == synth["span_id"]
    assert len({d["trace_id"] for d in spans.values()}) == 1
    # the steps that returned the unread stream say a model call is still to come (console)
    assert synth["attributes"][s.STREAM_DEFERRED] is True
    assert spans["RetrieverQueryEngine.query"]["attributes"][s.STREAM_DEFERRED] is True
    assert chat["attributes"][s.GEN_AI_REQUEST_STREAM] is True
    assert chat["attributes"][s.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert chat["attributes"][s.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert chat["end"] > spans["RetrieverQueryEngine.query"]["end"]
    assert "".join(chunks).startswith("Answer:")
    assert otel.metrics()[s.METRIC_INFERENCE_TTFC][0]["count"] == 1


def test_streamed_chat_read_after_the_query_keeps_the_callers_attribution(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    engine = index.as_query_engine(similarity_top_k=1, streaming=True)
    with attribution(user_id="u-7", tenant_id="acme"):
        response = engine.query("capital of Spain?")
        list(response.response_gen)  # the model call runs here, after query() returned

    tenants = {
        d["name"]: (d["attributes"].get(s.USER_ID), d["attributes"].get(s.TENANT_ID))
        for d in otel.span_dicts()
    }
    assert tenants == {
        "RetrieverQueryEngine.query": ("u-7", "acme"),
        "retrieval capitals": ("u-7", "acme"),
        "embeddings text-embedding-3-small": ("u-7", "acme"),
        "CompactAndRefine.synthesize": ("u-7", "acme"),
        "chat gpt-4o-mini": ("u-7", "acme"),
    }


def test_abandoned_stream_ends_its_span_without_error_or_leak(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrumentor = instrument()
    response = index.as_query_engine(similarity_top_k=1, streaming=True).query("capital of Spain?")
    gen = response.response_gen
    next(gen)
    gen.close()  # the user stops reading

    spans = {d["name"]: d for d in otel.span_dicts()}
    assert spans["chat gpt-4o-mini"]["status"] == "UNSET"
    assert s.ERROR_TYPE not in spans["chat gpt-4o-mini"]["attributes"]
    bridge = instrumentor._handlers[0].bridge  # type: ignore[index]
    assert bridge.telemetry.open_count() == 0


def test_never_iterated_llm_stream_ends_when_collected(
    otel: OTelHarness, instrument: Instrument
) -> None:
    from llama_index.core import Settings as LISettings
    from llama_index.core.llms import ChatMessage

    instrumentor = instrument()
    stream = LISettings.llm.stream_chat([ChatMessage(role="user", content="hi")])
    bridge = instrumentor._handlers[0].bridge  # type: ignore[index]
    assert bridge.telemetry.open_count() == 1
    del stream
    gc.collect()
    assert bridge.telemetry.open_count() == 0
    assert [d["name"] for d in otel.span_dicts()] == ["chat gpt-4o-mini"]


async def test_twenty_concurrent_aqueries_make_twenty_complete_traces(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    engine = index.as_query_engine(similarity_top_k=2)
    await asyncio.gather(*(engine.aquery(f"question {i}?") for i in range(20)))

    tree = otel.tree(attributes=False)
    assert len(tree) == 20
    expected = [
        "RetrieverQueryEngine.query",
        [
            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
            ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
        ],
    ]
    assert shape(tree) == [expected] * 20
    by_trace: dict[str, int] = {}
    for d in otel.span_dicts():
        by_trace[d["trace_id"]] = by_trace.get(d["trace_id"], 0) + 1
    assert sorted(by_trace.values()) == [5] * 20


def test_retrieval_document_ids_are_the_retrieved_nodes(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument(capture_mode="EVENT_ONLY")  # ids and scores, no text, on the span
    nodes = index.as_retriever(similarity_top_k=3).retrieve("capital?")
    (span,) = [d for d in otel.span_dicts() if d["name"] == "retrieval capitals"]
    docs = span["attributes"][s.GEN_AI_RETRIEVAL_DOCUMENTS]
    assert docs == json.loads(json.dumps([{"id": n.node.node_id, "score": n.score} for n in nodes]))

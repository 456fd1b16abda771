"""The real clients (llama-index-llms-openai, llama-index-embeddings-openai) over an
``httpx.MockTransport`` speaking OpenAI's wire format: no network."""

from __future__ import annotations

import json

import pytest
from li_openai_wire import API_KEY, WORDS, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness


@pytest.fixture
def clients() -> tuple[OpenAI, OpenAIEmbedding]:
    return openai_clients()


def _no_secret(otel: OTelHarness) -> None:
    dumped = json.dumps([dict(sp.attributes or {}) for sp in otel.spans()], default=str)
    assert API_KEY not in dumped


def test_openai_chat_span_has_provider_usage_cache_and_cost(
    otel: OTelHarness, instrument: Instrument, clients: tuple[OpenAI, OpenAIEmbedding]
) -> None:
    instrument()
    llm, _ = clients
    llm.chat([ChatMessage(role="user", content="Capital of France?")])

    (span,) = otel.span_dicts()
    a = span["attributes"]
    assert span["name"] == "chat gpt-4o-mini" and span["kind"] == "CLIENT"
    assert {
        k: a[k]
        for k in (
            s.GEN_AI_PROVIDER_NAME,
            s.GEN_AI_REQUEST_TEMPERATURE,
            s.SERVER_ADDRESS,
            s.GEN_AI_RESPONSE_ID,
            s.GEN_AI_RESPONSE_MODEL,
            s.GEN_AI_RESPONSE_FINISH_REASONS,
            s.GEN_AI_USAGE_INPUT_TOKENS,
            s.GEN_AI_USAGE_OUTPUT_TOKENS,
            s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            s.USAGE_SOURCE,
        )
    } == {
        s.GEN_AI_PROVIDER_NAME: "openai",
        s.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        s.SERVER_ADDRESS: "api.openai.com",
        s.GEN_AI_RESPONSE_ID: "chatcmpl-abc123",
        s.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        s.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
        s.GEN_AI_USAGE_INPUT_TOKENS: 42,
        s.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
        s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 10,
        s.USAGE_SOURCE: "provider",
    }
    assert a[s.COST_USD] > 0
    _no_secret(otel)


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_stream_chat_ends_at_last_chunk_with_usage_from_the_usage_chunk(
    otel: OTelHarness,
    instrument: Instrument,
    clients: tuple[OpenAI, OpenAIEmbedding],
    include_usage: bool,
) -> None:
    instrument()
    llm, _ = clients
    if include_usage:
        llm.additional_kwargs = {"stream_options": {"include_usage": True}}
    text = "".join(
        r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="Capital?")])
    )

    assert text == "".join(WORDS)
    (span,) = otel.span_dicts()
    a = span["attributes"]
    assert a[s.GEN_AI_REQUEST_STREAM] is True
    assert s.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in a
    if include_usage:
        assert (a[s.GEN_AI_USAGE_INPUT_TOKENS], a[s.GEN_AI_USAGE_OUTPUT_TOKENS]) == (42, 5)
        assert a[s.USAGE_SOURCE] == "provider"
    else:  # no usage on the wire: a flagged estimate, never silence
        assert a[s.USAGE_SOURCE] == "estimated"
        assert a[s.USAGE_ESTIMATED_OUTPUT_TOKENS] > 0
    _no_secret(otel)


async def test_openai_astream_chat_and_rag_query_with_openai_embeddings(
    otel: OTelHarness, instrument: Instrument, clients: tuple[OpenAI, OpenAIEmbedding]
) -> None:
    llm, embed = clients
    LISettings.llm = llm
    LISettings.embed_model = embed
    index = VectorStoreIndex.from_documents([Document(text="Paris is the capital of France.")])
    index.set_index_id("capitals")
    instrument()
    engine = index.as_query_engine(similarity_top_k=1, streaming=True)
    response = await engine.aquery("Capital of France?")
    chunks = [t async for t in response.async_response_gen()]

    assert "".join(chunks) == "".join(WORDS)
    assert shape(otel.tree(attributes=False)) == [
        [
            "RetrieverQueryEngine.query",
            [
                ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
            ],
        ]
    ]
    spans = {d["name"]: d["attributes"] for d in otel.span_dicts()}
    emb = spans["embeddings text-embedding-3-small"]
    assert (emb[s.GEN_AI_PROVIDER_NAME], emb[s.GEN_AI_EMBEDDINGS_DIMENSION_COUNT]) == ("openai", 16)
    assert emb[s.EMBEDDINGS_INPUT_COUNT] == 1
    _no_secret(otel)

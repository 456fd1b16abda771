"""Embeddings over the real client: langchain-openai's ``OpenAIEmbeddings`` (and the ``openai``
SDK under it) over ``httpx.MockTransport``: dimension, input count, estimated usage and cost, and a
retrieval that nests its query embedding."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.vectorstores import InMemoryVectorStore
from openai_clients import (
    EMBED_MODEL,
    embedder,
    expected_cost,
)
from openai_wire import (
    OpenAIWire,
    embeddings,
)

from genai_trace_core import Usage, count_tokens, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import estimate_tokens
from genai_trace_langchain import trace_embeddings

pytest.importorskip("langchain_openai")


def _sent_tokens(wire: OpenAIWire) -> int:
    """Token ids langchain-openai sent (it tokenizes with tiktoken before calling the API)."""
    return sum(len(i) for body in wire.bodies() for i in body["input"])


def test_openai_embeddings_span_dimension_input_count_usage_and_cost(
    otel: OTelHarness, make_handler: Any, clients: Any
) -> None:
    wire = OpenAIWire(embeddings(dimensions=12))
    texts = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
    # Offline counts opted in: exported as gen_ai.usage.*, counted with tiktoken on this thread.
    handler = make_handler(estimate_usage=True)
    traced = trace_embeddings(embedder(wire, clients), handler=handler)

    vectors = traced.embed_documents(texts)

    assert [len(v) for v in vectors] == [12, 12]
    [body] = wire.bodies()
    assert body["model"] == EMBED_MODEL
    [span] = otel.snapshot_dicts()
    assert span == snapshot(
        {
            "name": "embeddings text-embedding-3-small",
            "kind": "CLIENT",
            "parent": None,
            "status": "UNSET",
            "attributes": {
                "gen_ai.embeddings.dimension.count": 12,
                "gen_ai.operation.name": "embeddings",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "text-embedding-3-small",
                "gen_ai.usage.input_tokens": 14,
                "genai_trace.cost.input_usd": 2.8e-07,
                "genai_trace.cost.source": "genai-prices",
                "genai_trace.cost.usd": 2.8e-07,
                "genai_trace.embeddings.input_count": 2,
                "genai_trace.framework": "langchain",
                "genai_trace.usage.estimator": "cl100k_base",
                "genai_trace.usage.source": "estimated",
                "server.address": "api.openai.com",
                "server.port": 443,
            },
        }
    )
    a = span["attributes"]
    sent = _sent_tokens(wire)
    # LangChain drops the provider's usage; opted in, core counts with the model's own tokenizer:
    # the count equals what was sent, and the cost is the price of exactly that.
    assert sent == count_tokens(texts, EMBED_MODEL)[0]
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == sent
    expected = expected_cost(EMBED_MODEL, Usage(input_tokens=sent))
    assert a[semconv.COST_USD] == pytest.approx(expected.total_usd)


async def test_async_retrieval_over_openai_embeddings_nests_the_query_embedding(
    otel: OTelHarness, instrumented: Any, clients: Any
) -> None:
    wire = OpenAIWire(embeddings(dimensions=8))
    model = embedder(wire, clients)
    store = InMemoryVectorStore(model)
    await store.aadd_texts(["Paris is in France.", "Berlin is in Germany.", "Oslo is in Norway."])
    otel.clear()  # keep only the query's trace
    retriever = store.as_retriever(search_kwargs={"k": 2})

    docs = await retriever.ainvoke("Where is Paris?")

    assert len(docs) == 2
    spans = otel.snapshot_dicts()
    assert spans == snapshot(
        [
            {
                "name": "retrieval",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.top_k": 2,
                    "genai_trace.documents.count": 2,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "VectorStoreRetriever",
                    "genai_trace.run.tags": ["InMemoryVectorStore", "OpenAIEmbeddings"],
                },
            },
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.embeddings.dimension.count": 8,
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "text-embedding-3-small",
                    "genai_trace.cost.input_usd": 8e-08,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 8e-08,
                    "genai_trace.embeddings.input_count": 1,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.estimated.input_tokens": 4,
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
        ]
    )
    emb = spans[1]["attributes"]
    # By default the estimate is ceil(chars / 4), no tokenizer: "Where is Paris?" is 15 characters.
    query_tokens = estimate_tokens(["Where is Paris?"])
    assert query_tokens == 4
    assert emb[semconv.USAGE_ESTIMATED_INPUT_TOKENS] == query_tokens
    assert emb[semconv.COST_USD] == pytest.approx(
        expected_cost(EMBED_MODEL, Usage(input_tokens=query_tokens)).total_usd
    )

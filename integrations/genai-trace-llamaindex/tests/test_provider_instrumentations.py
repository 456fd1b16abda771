"""One span per model call when a util-genai provider instrumentation runs too: inside our LLM
and embedding spans, ``opentelemetry-instrumentation-genai-openai`` emits no second span (and no
second token count) for the OpenAI SDK call it wraps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from li_openai_wire import WORDS, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from llama_index.core.llms import ChatMessage

from genai_trace_core.testing import OTelHarness

genai_openai = pytest.importorskip(
    "opentelemetry.instrumentation.genai.openai",
    reason="opentelemetry-instrumentation-genai-openai is installed in the latest-deps sessions",
)
PROVIDER_SCOPE = "opentelemetry.instrumentation.genai.openai"


@pytest.fixture
def provider_instrumentation(otel: OTelHarness) -> Iterator[None]:
    """genai-openai's instrumentor on the same in-memory providers as ours."""
    with otel.instrumented(genai_openai.OpenAIInstrumentor()):
        yield


def _provider_spans(otel: OTelHarness) -> list[str]:
    return [s.name for s in otel.spans_of_scope(PROVIDER_SCOPE)]


def _rag_query(otel: OTelHarness, instrument: Instrument, **overrides: object) -> str:
    llm, embed = openai_clients()
    LISettings.llm = llm
    LISettings.embed_model = embed
    index = VectorStoreIndex.from_documents([Document(text="Paris is the capital of France.")])
    index.set_index_id("capitals")
    otel.clear()  # indexing ran before our instrumentation: the provider traced it alone
    instrument(**overrides)
    return str(index.as_query_engine(similarity_top_k=1).query("Capital of France?"))


RAG = [
    "RetrieverQueryEngine.query",
    [
        ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
        ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
    ],
]


def test_rag_query_has_one_embeddings_and_one_chat_span_per_call(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: None
) -> None:
    assert _rag_query(otel, instrument) == "".join(WORDS)

    assert shape(otel.tree(attributes=False)) == [RAG]
    assert _provider_spans(otel) == []


def test_without_suppression_provider_spans_nest_under_ours(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: None
) -> None:
    _rag_query(otel, instrument, suppress_provider_spans=False)

    nested = [
        "RetrieverQueryEngine.query",
        [
            [
                "retrieval capitals",
                [
                    [
                        "embeddings text-embedding-3-small",
                        [["embeddings text-embedding-3-small", []]],
                    ]
                ],
            ],
            ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", [["chat gpt-4o-mini", []]]]]],
        ],
    ]
    assert shape(otel.tree(attributes=False)) == [nested]
    assert _provider_spans(otel) == ["embeddings text-embedding-3-small", "chat gpt-4o-mini"]


def test_streamed_chat_is_one_span(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: None
) -> None:
    llm, _ = openai_clients()
    llm.additional_kwargs = {"stream_options": {"include_usage": True}}
    instrument()

    text = "".join(r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="?")]))

    assert text == "".join(WORDS)
    assert shape(otel.tree(attributes=False)) == [["chat gpt-4o-mini", []]]
    assert _provider_spans(otel) == []

"""One span per model call when a provider instrumentation runs too: inside our LLM and embedding
spans, ``opentelemetry-instrumentation-genai-openai`` (util-genai) and OpenLLMetry's
``opentelemetry-instrumentation-openai`` emit no second span for the OpenAI SDK call they wrap."""

from __future__ import annotations

from li_openai_wire import WORDS, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from llama_index.core.llms import ChatMessage

from genai_trace_core import semconv
from genai_trace_core.testing import (
    OTelHarness,
    ProviderInstrumentation,
)


def _provider_spans(
    otel: OTelHarness, provider_instrumentation: ProviderInstrumentation
) -> list[str]:
    return [s.name for s in otel.spans_of_scope(provider_instrumentation.scope)]


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
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
) -> None:
    assert _rag_query(otel, instrument) == "".join(WORDS)

    assert shape(otel.tree(attributes=False)) == [RAG]
    assert _provider_spans(otel, provider_instrumentation) == []
    # LlamaIndex reports no embeddings usage; a util-genai instrumentation hands the provider's
    # (3 tokens on this wire) to our span, else it is a flagged estimate.
    emb = next(d for d in otel.span_dicts() if d["name"].startswith("embeddings"))["attributes"]
    if provider_instrumentation.publishes_usage:
        assert emb[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3
        assert emb[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_PROVIDER
    else:
        assert emb[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED


async def test_an_awaited_query_has_one_span_per_call_on_every_python(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
) -> None:
    """``aquery`` awaited in the caller's own task: its runs start there, and their ends come
    back in copies of it. Python 3.10/3.11 undo the activation in place (until 2026-12-06 they
    did not activate it, and the provider's chat span came out beside ours)."""
    llm, embed = openai_clients()
    LISettings.llm = llm
    LISettings.embed_model = embed
    index = VectorStoreIndex.from_documents([Document(text="Paris is the capital of France.")])
    index.set_index_id("capitals")
    otel.clear()
    instrument()
    engine = index.as_query_engine(similarity_top_k=1)
    answers = [str(await engine.aquery("Capital of France?")) for _ in range(2)]

    assert answers == ["".join(WORDS)] * 2
    assert shape(otel.tree(attributes=False)) == [RAG, RAG]
    assert _provider_spans(otel, provider_instrumentation) == []


def test_without_suppression_provider_spans_nest_under_ours(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
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
                        [[provider_instrumentation.embeddings_span, []]],
                    ]
                ],
            ],
            [
                "CompactAndRefine.synthesize",
                [["chat gpt-4o-mini", [[provider_instrumentation.chat_span, []]]]],
            ],
        ],
    ]
    assert shape(otel.tree(attributes=False)) == [nested]
    assert _provider_spans(otel, provider_instrumentation) == [
        provider_instrumentation.embeddings_span,
        provider_instrumentation.chat_span,
    ]


def test_streamed_chat_is_one_span(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
) -> None:
    llm, _ = openai_clients()
    llm.additional_kwargs = {"stream_options": {"include_usage": True}}
    instrument()

    text = "".join(r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="?")]))

    assert text == "".join(WORDS)
    assert shape(otel.tree(attributes=False)) == [["chat gpt-4o-mini", []]]
    assert _provider_spans(otel, provider_instrumentation) == []
    # LlamaIndex reports the response itself: kept, whatever the provider published
    [span] = otel.span_dicts()
    a = span["attributes"]
    assert (a[semconv.GEN_AI_RESPONSE_ID], a[semconv.GEN_AI_RESPONSE_MODEL]) == (
        "chatcmpl-abc123",
        "gpt-4o-mini-2024-07-18",
    )
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 42

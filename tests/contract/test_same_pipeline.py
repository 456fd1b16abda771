"""Contract: the LangChain and the LlamaIndex versions of one RAG pipeline trace the same.

The pipeline: embed the question, retrieve the two best of the same three documents, ask the same
chat model. Both run offline on their package's ``testing`` fakes, pinned to the same provider
usage for the chat call (the same OpenAI-style ``usage`` a real ``gpt-4o-mini`` would report), so
what they emit for the same work can be compared:

* the same GenAI operations (the ``gen_ai.operation.name`` multiset of the GenAI spans): one
  ``embeddings``, one ``retrieval`` and one ``chat``, without and with streaming;
* the same GenAI attribute keys (``gen_ai.*``) on each operation;
* the same token usage and cost, per operation and in total.

Where they legitimately differ (not compared): the framework step spans around the GenAI spans
(LangChain's ``RunnableSequence``/prompt/parser runs, LlamaIndex's ``RetrieverQueryEngine.query``/
``synthesize`` steps, each with our ``genai_trace.*`` step attributes) and therefore the parent
of each GenAI span; the prompt text (each framework has its own template), so the *estimated*
embedding tokens only agree because both embed the same question text; ``genai_trace.framework``;
``gen_ai.data_source.id``, set only where the store has an identity (the LlamaIndex index id
``capitals``; LangChain's ``InMemoryVectorStore`` has none, so its retrieval span goes without).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from inline_snapshot import snapshot

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness

QUESTION = "What is the capital of France?"
TEXTS = {
    "doc-paris": "Paris is the capital of France.",
    "doc-berlin": "Berlin is the capital of Germany.",
    "doc-madrid": "Madrid is the capital of Spain.",
}
ANSWER = "Paris is the capital of France."
# What the provider reports for the chat call, in both frameworks.
INPUT_TOKENS, OUTPUT_TOKENS, CACHED_TOKENS = 120, 7, 64
TOP_K = 2


def _langchain(otel: OTelHarness, stream: bool) -> None:
    from langchain_core.documents import Document
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.messages.ai import UsageMetadata
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    from genai_trace_langchain import LangChainInstrumentor
    from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

    class PinnedUsageChat(FakeChatOpenAI):
        def _reply(self, messages: list[BaseMessage]) -> AIMessage:
            reply = super()._reply(messages)
            reply.usage_metadata = UsageMetadata(
                input_tokens=INPUT_TOKENS,
                output_tokens=OUTPUT_TOKENS,
                total_tokens=INPUT_TOKENS + OUTPUT_TOKENS,
                input_token_details={"cache_read": CACHED_TOKENS},
                output_token_details={"reasoning": 0},
            )
            return reply

    store = InMemoryVectorStore(DeterministicEmbeddings(size=8))
    store.add_documents([Document(t, id=i) for i, t in TEXTS.items()])
    retriever = store.as_retriever(search_kwargs={"k": TOP_K})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context.\n{context}"), ("human", "{question}")]
    )
    chat = PinnedUsageChat(responses=[ANSWER])
    chain = (
        {
            "context": retriever | (lambda docs: "\n".join(d.page_content for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | chat
        | StrOutputParser()
    )
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
    )
    try:
        if stream:
            assert "".join(chain.stream(QUESTION)) == ANSWER
        else:
            assert chain.invoke(QUESTION) == ANSWER
    finally:
        instrumentor.uninstrument()


def _llamaindex(otel: OTelHarness, stream: bool) -> None:
    from llama_index.core import Document, VectorStoreIndex

    from genai_trace_llamaindex import LlamaIndexInstrumentor
    from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

    class PinnedUsageLLM(DeterministicLLM):
        temperature: float = 0.0  # FakeChatOpenAI's request parameters
        max_tokens: int = 256

        def _raw(self, messages: Any, reply: Any, chunk: bool) -> dict[str, Any]:
            raw = super()._raw(messages, reply, chunk)
            raw["usage"] = {
                "prompt_tokens": INPUT_TOKENS,
                "completion_tokens": OUTPUT_TOKENS,
                "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
                "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS},
                "completion_tokens_details": {"reasoning_tokens": 0},
            }
            return raw

    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=i) for i, t in TEXTS.items()],
        embed_model=DeterministicEmbedding(),
    )
    index.set_index_id("capitals")
    engine = index.as_query_engine(
        llm=PinnedUsageLLM(answer=ANSWER), similarity_top_k=TOP_K, streaming=stream
    )
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
        clock=otel.clock,
    )
    try:
        response = engine.query(QUESTION)
        if stream:
            assert "".join(response.response_gen) == ANSWER  # type: ignore[union-attr]
        else:
            assert str(response) == ANSWER
    finally:
        instrumentor.uninstrument()


RUNNERS = {"langchain": _langchain, "llamaindex": _llamaindex}


def _genai_spans(otel: OTelHarness) -> list[dict[str, Any]]:
    return [d for d in otel.span_dicts() if s.GEN_AI_OPERATION_NAME in d["attributes"]]


@pytest.fixture
def run_both(otel: OTelHarness) -> Iterator[Any]:
    def run(stream: bool) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for name, runner in RUNNERS.items():
            otel.clear()
            runner(otel, stream)
            out[name] = _genai_spans(otel)
        return out

    yield run


MODEL_OPS = Counter({s.OP_EMBEDDINGS: 1, s.OP_RETRIEVAL: 1, s.OP_CHAT: 1})
USAGE_KEYS = (
    s.GEN_AI_USAGE_INPUT_TOKENS,
    s.GEN_AI_USAGE_OUTPUT_TOKENS,
    s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    s.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    s.COST_USD,
)
STREAM = pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])


def _by_operation(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The one span of each model/data operation (the contract has one of each)."""
    out: dict[str, dict[str, Any]] = {}
    for d in spans:
        op = d["attributes"][s.GEN_AI_OPERATION_NAME]
        if op in MODEL_OPS:
            assert op not in out, f"two {op} spans"
            out[op] = d
    return out


@STREAM
def test_both_frameworks_emit_the_same_model_and_data_operations(
    run_both: Any, stream: bool
) -> None:
    got = run_both(stream)
    ops = {
        name: Counter(d["attributes"][s.GEN_AI_OPERATION_NAME] for d in spans)
        for name, spans in got.items()
    }
    # The LCEL chain itself is an ``invoke_workflow``; LlamaIndex's query engine is a step span
    # (semconv has no query operation): the one orchestration-level difference.
    assert ops == {
        "langchain": MODEL_OPS + Counter({s.OP_INVOKE_WORKFLOW: 1}),
        "llamaindex": MODEL_OPS,
    }
    kinds = {
        name: sorted((d["name"].split()[0], d["kind"]) for d in spans if d["kind"] == "CLIENT")
        for name, spans in got.items()
    }
    assert (
        kinds["langchain"]
        == kinds["llamaindex"]
        == [
            ("chat", "CLIENT"),
            ("embeddings", "CLIENT"),
            ("retrieval", "CLIENT"),
        ]
    )


@STREAM
def test_each_operation_has_the_same_genai_attribute_keys(run_both: Any, stream: bool) -> None:
    got = {name: _by_operation(spans) for name, spans in run_both(stream).items()}
    keys = {
        name: {
            op: sorted(k for k in d["attributes"] if k.startswith("gen_ai."))
            for op, d in by_op.items()
        }
        for name, by_op in got.items()
    }
    unnamed = {  # the LlamaIndex index has an id; the in-memory LangChain store has none
        op: [k for k in ks if k != s.GEN_AI_DATA_SOURCE_ID] for op, ks in keys["llamaindex"].items()
    }
    assert keys["langchain"] == unnamed
    # ... and exactly these keys: one that should not be there fails too
    assert (
        keys["llamaindex"]
        == snapshot(
            {
                "invoke": {
                    "embeddings": [
                        "gen_ai.embeddings.dimension.count",
                        "gen_ai.operation.name",
                        "gen_ai.provider.name",
                        "gen_ai.request.model",
                    ],
                    "retrieval": [
                        "gen_ai.data_source.id",
                        "gen_ai.operation.name",
                        "gen_ai.retrieval.top_k",
                    ],
                    "chat": [
                        "gen_ai.operation.name",
                        "gen_ai.provider.name",
                        "gen_ai.request.max_tokens",
                        "gen_ai.request.model",
                        "gen_ai.request.temperature",
                        "gen_ai.response.finish_reasons",
                        "gen_ai.response.id",
                        "gen_ai.response.model",
                        "gen_ai.usage.cache_read.input_tokens",
                        "gen_ai.usage.input_tokens",
                        "gen_ai.usage.output_tokens",
                        "gen_ai.usage.reasoning.output_tokens",
                    ],
                },
                "stream": {
                    "embeddings": [
                        "gen_ai.embeddings.dimension.count",
                        "gen_ai.operation.name",
                        "gen_ai.provider.name",
                        "gen_ai.request.model",
                    ],
                    "retrieval": [
                        "gen_ai.data_source.id",
                        "gen_ai.operation.name",
                        "gen_ai.retrieval.top_k",
                    ],
                    "chat": [
                        "gen_ai.operation.name",
                        "gen_ai.provider.name",
                        "gen_ai.request.max_tokens",
                        "gen_ai.request.model",
                        "gen_ai.request.stream",
                        "gen_ai.request.temperature",
                        "gen_ai.response.finish_reasons",
                        "gen_ai.response.id",
                        "gen_ai.response.model",
                        "gen_ai.response.time_to_first_chunk",
                        "gen_ai.usage.cache_read.input_tokens",
                        "gen_ai.usage.input_tokens",
                        "gen_ai.usage.output_tokens",
                        "gen_ai.usage.reasoning.output_tokens",
                    ],
                },
            }
        )["stream" if stream else "invoke"]
    )
    chat_keys = keys["llamaindex"][s.OP_CHAT]
    assert s.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS in chat_keys
    assert (s.GEN_AI_REQUEST_STREAM in chat_keys) is stream


@STREAM
def test_same_provider_usage_gives_the_same_usage_and_cost(run_both: Any, stream: bool) -> None:
    got = {name: _by_operation(spans) for name, spans in run_both(stream).items()}
    usage = {
        name: {
            op: {k: d["attributes"].get(k) for k in (*USAGE_KEYS, s.USAGE_SOURCE)}
            for op, d in by_op.items()
        }
        for name, by_op in got.items()
    }
    assert usage["langchain"] == usage["llamaindex"]
    chat = usage["llamaindex"][s.OP_CHAT]
    assert (chat[s.GEN_AI_USAGE_INPUT_TOKENS], chat[s.GEN_AI_USAGE_OUTPUT_TOKENS]) == (
        INPUT_TOKENS,
        OUTPUT_TOKENS,
    )
    assert chat[s.USAGE_SOURCE] == "provider"
    assert usage["llamaindex"][s.OP_EMBEDDINGS][s.USAGE_SOURCE] == "estimated"
    totals = {
        name: (
            sum(u[s.GEN_AI_USAGE_INPUT_TOKENS] or 0 for u in by_op.values()),
            sum(u[s.GEN_AI_USAGE_OUTPUT_TOKENS] or 0 for u in by_op.values()),
            round(sum(u[s.COST_USD] or 0.0 for u in by_op.values()), 12),
        )
        for name, by_op in usage.items()
    }
    assert totals["langchain"] == totals["llamaindex"]
    assert totals["llamaindex"][2] > 0


def test_each_framework_names_its_instrumentation_scope_after_its_package(
    otel: OTelHarness,
) -> None:
    spans: dict[str, set[str]] = {}
    for name, runner in RUNNERS.items():
        otel.clear()
        runner(otel, False)
        spans[name] = {sp.instrumentation_scope.name for sp in otel.spans()}  # type: ignore[union-attr]
    data = otel.metric_reader.get_metrics_data()
    assert data is not None
    metric_scopes = {sm.scope.name for rm in data.resource_metrics for sm in rm.scope_metrics}

    assert spans == {
        "langchain": {"genai_trace_langchain"},
        "llamaindex": {"genai_trace_llamaindex"},
    }
    assert metric_scopes == {"genai_trace_langchain", "genai_trace_llamaindex"}

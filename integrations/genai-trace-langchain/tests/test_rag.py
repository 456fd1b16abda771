from __future__ import annotations

from typing import Any

from inline_snapshot import snapshot
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

DOCS = [
    Document("Paris is the capital of France.", id="d1"),
    Document("Berlin is the capital of Germany.", id="d2"),
    Document("Madrid is the capital of Spain.", id="d3"),
]


def _rag_chain() -> Any:
    store = InMemoryVectorStore(DeterministicEmbeddings())
    store.add_documents(DOCS)
    retriever = store.as_retriever(search_kwargs={"k": 2})
    fmt = RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs)).with_config(
        run_name="format_docs"
    )
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("user", "{question}")]
    )
    return (
        {"context": retriever | fmt, "question": RunnablePassthrough()}
        | prompt
        | FakeChatOpenAI()
        | StrOutputParser()
    ).with_config(run_name="rag")


def test_lcel_rag_is_one_trace_workflow_retrieval_embeddings_chat(
    otel: OTelHarness, instrumented: Any
) -> None:
    chain = _rag_chain()
    otel.clear()  # drop the embeddings spans of indexing
    answer = chain.invoke("What is the capital of France?")
    assert answer.startswith("Answer:")

    # RunnableParallel runs its branches on a thread pool: either may start first.
    assert otel.snapshot_dicts(unordered=("RunnableParallel",)) == snapshot(
        [
            {
                "name": "invoke_workflow rag",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "rag",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "rag",
                },
            },
            {
                "name": "RunnableParallel<context,question>",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableParallel<context,question>",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnablePassthrough",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnablePassthrough",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "retrieval",
                "kind": "CLIENT",
                "parent": 3,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.top_k": 2,
                    "genai_trace.documents.count": 2,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "VectorStoreRetriever",
                    "genai_trace.run.tags": ["InMemoryVectorStore", "DeterministicEmbeddings"],
                },
            },
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "parent": 4,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.embeddings.dimension.count": 64,
                    "gen_ai.operation.name": "embeddings",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "text-embedding-3-small",
                    "genai_trace.cost.input_usd": 1.6e-07,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.6e-07,
                    "genai_trace.embeddings.input_count": 1,
                    "genai_trace.usage.estimated.input_tokens": 8,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                },
            },
            {
                "name": "format_docs",
                "kind": "INTERNAL",
                "parent": 3,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "format_docs",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "ChatPromptTemplate",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "ChatPromptTemplate",
                    "genai_trace.run.type": "prompt",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-abae826aaf6d808f",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 30,
                    "gen_ai.usage.output_tokens": 7,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 4.5e-06,
                    "genai_trace.cost.output_usd": 4.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 8.7e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "StrOutputParser",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "StrOutputParser",
                    "genai_trace.run.type": "parser",
                },
            },
        ]
    )
    assert len({s["trace_id"] for s in otel.span_dicts()}) == 1


def test_hide_internal_spans_keeps_only_genai_spans_nested(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(hide_internal_spans=True)
    _rag_chain().invoke("capital?", config={"callbacks": [handler]})
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow rag",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "rag",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "rag",
                },
            },
            {
                "name": "retrieval",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "retrieval",
                    "genai_trace.documents.count": 2,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "VectorStoreRetriever",
                    "genai_trace.run.tags": ["InMemoryVectorStore", "DeterministicEmbeddings"],
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-3a5baa2168b5ee74",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 25,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 3.75e-06,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 4.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
        ]
    )
    assert handler.telemetry.open_count() == 0


def test_content_is_off_by_default_no_text_anywhere(otel: OTelHarness, make_handler: Any) -> None:
    handler = make_handler()
    _rag_chain().invoke("What is the SECRET-QUESTION?", config={"callbacks": [handler]})
    blob = repr(otel.span_dicts()) + repr([s.events for s in otel.spans()]) + repr(otel.logs())
    for text in ("SECRET-QUESTION", "Paris is the capital", "Answer from the context"):
        assert text not in blob
    assert otel.logs() == []


def test_content_on_records_messages_query_and_documents(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(capture_mode="SPAN_ONLY")
    _rag_chain().invoke("What is the SECRET-QUESTION?", config={"callbacks": [handler]})
    spans = {s["name"]: s["attributes"] for s in otel.span_dicts()}
    chat = spans["chat gpt-4o-mini"]
    assert "SECRET-QUESTION" in repr(chat[semconv.GEN_AI_INPUT_MESSAGES])
    assert "Answer:" in repr(chat[semconv.GEN_AI_OUTPUT_MESSAGES])
    retrieval = spans["retrieval"]  # an in-memory store has no identity: named by operation
    assert retrieval[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] == "What is the SECRET-QUESTION?"
    assert semconv.GEN_AI_RETRIEVAL_DOCUMENTS in retrieval

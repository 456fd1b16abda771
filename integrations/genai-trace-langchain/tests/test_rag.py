from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
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

    tree = otel.tree()
    # RunnableParallel runs its branches on a thread pool: either may start first.
    assert shape(tree, unordered=("RunnableParallel",)) == [
        [
            "invoke_workflow rag",
            "INTERNAL",
            "UNSET",
            [
                [
                    "RunnableParallel<context,question>",
                    "INTERNAL",
                    "UNSET",
                    [
                        ["RunnablePassthrough", "INTERNAL", "UNSET", []],
                        [
                            "RunnableSequence",
                            "INTERNAL",
                            "UNSET",
                            [
                                [
                                    "retrieval InMemoryVectorStore",
                                    "CLIENT",
                                    "UNSET",
                                    [
                                        [
                                            "embeddings text-embedding-3-small",
                                            "CLIENT",
                                            "UNSET",
                                            [],
                                        ],
                                    ],
                                ],
                                ["format_docs", "INTERNAL", "UNSET", []],
                            ],
                        ],
                    ],
                ],
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["StrOutputParser", "INTERNAL", "UNSET", []],
            ],
        ],
    ]
    root = tree[0]
    assert root["attributes"][semconv.GEN_AI_WORKFLOW_NAME] == "rag"
    (sequence,) = [c for c in root["children"][0]["children"] if c["name"] == "RunnableSequence"]
    retrieval = sequence["children"][0]
    assert retrieval["attributes"][semconv.GEN_AI_RETRIEVAL_TOP_K] == 2
    assert retrieval["attributes"][semconv.DOCUMENT_COUNT] == 2
    emb = retrieval["children"][0]["attributes"]
    assert emb[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert emb[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 64
    assert emb[semconv.EMBEDDINGS_INPUT_COUNT] == 1
    assert emb[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED
    assert emb[semconv.USAGE_ESTIMATED_INPUT_TOKENS] > 0
    chat = root["children"][2]["attributes"]
    assert chat[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert chat[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert chat[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert chat[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert chat[semconv.GEN_AI_RESPONSE_ID].startswith("chatcmpl-")
    assert chat[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_PROVIDER
    assert chat[semconv.COST_USD] > 0
    assert root["children"][1]["attributes"][semconv.RUN_TYPE] == "prompt"
    assert len({s["trace_id"] for s in otel.span_dicts()}) == 1


def test_hide_internal_spans_keeps_only_genai_spans_nested(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(hide_internal_spans=True)
    _rag_chain().invoke("capital?", config={"callbacks": [handler]})
    assert shape(otel.tree()) == [
        [
            "invoke_workflow rag",
            "INTERNAL",
            "UNSET",
            [
                ["retrieval InMemoryVectorStore", "CLIENT", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ],
        ],
    ]
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
    pytest.importorskip("genai_trace_core.content._capture")
    handler = make_handler(capture_mode="SPAN_ONLY")
    _rag_chain().invoke("What is the SECRET-QUESTION?", config={"callbacks": [handler]})
    spans = {s["name"]: s["attributes"] for s in otel.span_dicts()}
    chat = spans["chat gpt-4o-mini"]
    assert "SECRET-QUESTION" in repr(chat[semconv.GEN_AI_INPUT_MESSAGES])
    assert "Answer:" in repr(chat[semconv.GEN_AI_OUTPUT_MESSAGES])
    retrieval = spans["retrieval InMemoryVectorStore"]
    assert retrieval[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] == "What is the SECRET-QUESTION?"
    assert semconv.GEN_AI_RETRIEVAL_DOCUMENTS in retrieval

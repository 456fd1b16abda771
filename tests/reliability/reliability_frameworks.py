"""Framework fixtures for the reliability suite: a LangChain RAG chain and agent on the offline
fakes, LlamaIndex instrumented on a harness, and one text view of everything a harness exported
(span attributes, span event attributes, log records, metric attributes) for leak scans."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from genai_trace_core import Settings
from genai_trace_core.testing import OTelHarness, span_tree, tree_shape


def langchain_rag(**model: Any) -> Any:
    """``{context: retriever | format, question} | prompt | FakeChatOpenAI | parser``."""
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

    store = InMemoryVectorStore(DeterministicEmbeddings())
    store.add_documents(
        [
            Document("Paris is the capital of France.", id="d1"),
            Document("Berlin is the capital of Germany.", id="d2"),
        ]
    )
    fmt = RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs)).with_config(
        run_name="format_docs"
    )
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("user", "{question}")]
    )
    retriever = store.as_retriever(search_kwargs={"k": 1})
    return (
        {"context": retriever | fmt, "question": RunnablePassthrough()}
        | prompt
        | FakeChatOpenAI(**model)
        | StrOutputParser()
    ).with_config(run_name="rag")


def shapes_by_trace(harness: OTelHarness) -> dict[int, list[Any]]:
    """``{trace id: tree shape}`` of every finished span, grouped by trace. The branches of a
    ``RunnableParallel`` run on a thread pool and may start in either order: they are listed in
    name order; every other sibling order is start order, and compared as such."""
    by_trace: dict[int, list[Any]] = {}
    for s in harness.spans():
        assert s.context is not None
        by_trace.setdefault(s.context.trace_id, []).append(s)
    unordered = ("RunnableParallel",)
    return {
        tid: tree_shape(span_tree(spans), unordered=unordered) for tid, spans in by_trace.items()
    }


@contextmanager
def llamaindex_instrumented(harness: OTelHarness, settings: Settings) -> Iterator[Any]:
    """``LlamaIndexInstrumentor`` on ``harness`` with deterministic models as LlamaIndex's
    defaults; everything is restored afterwards (handlers, models, the sync event loop)."""
    from llama_index.core import Settings as LISettings

    from genai_trace_llamaindex import LlamaIndexInstrumentor
    from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

    LISettings.llm = DeterministicLLM()
    LISettings.embed_model = DeterministicEmbedding()
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=harness.tracer_provider,
        meter_provider=harness.meter_provider,
        logger_provider=harness.logger_provider,
        settings=settings,
        clock=harness.clock,
    )
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()
        LISettings.llm = None  # type: ignore[assignment]
        LISettings.embed_model = None  # type: ignore[assignment]
        _close_sync_event_loop()


def _close_sync_event_loop() -> None:
    """LlamaIndex's sync paths create a main-thread event loop they never close."""
    if asyncio._get_running_loop() is not None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
    asyncio.set_event_loop(None)


def exported_text(harness: OTelHarness) -> str:
    """Every exported string, one blob: span names, attributes and span event attributes, log
    record bodies and attributes, metric data point attributes."""
    parts: list[Any] = []
    for s in harness.spans():
        parts.append([s.name, dict(s.attributes or {}), s.status.description])
        parts.extend([e.name, dict(e.attributes or {})] for e in s.events)
    for record in harness.logs():
        parts.append([record.body, dict(record.attributes or {})])
    for points in harness.metrics().values():
        parts.extend(p["attributes"] for p in points)
    # ensure_ascii=False: the scan must see the text as exported, not \\u escapes
    return json.dumps(parts, default=str, ensure_ascii=False)

"""LangChain and LlamaIndex, through their real entry points, export the same spans through SDK
spans and through the fast span path: nested under an app span, with app and provider spans
nested under ours, ``get_current_span()`` writes on our spans, a failing run, streaming, and
across samplers and span limits (field by field, as OTLP bytes, and propagation headers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastpath_support import Providers, assert_equivalent, run
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased

from genai_trace_core.testing import PROVIDER_INSTRUMENTATIONS

QUESTION = "What is the capital of France?"
TEXTS = ["Paris is the capital of France.", "Berlin is in Germany.", "Madrid is in Spain."]
SAMPLERS: dict[str, Sampler | None] = {
    "default": None,
    "parent_based_ratio": ParentBased(TraceIdRatioBased(0.5)),
    "always_off": ALWAYS_OFF,
}
LIMITS = {"default": None, "tight": SpanLimits(max_span_attributes=6, max_attribute_length=12)}


@pytest.fixture(autouse=True)
def _event_loop() -> Iterator[None]:
    """LlamaIndex's sync token estimate runs a coroutine on the main thread's event loop (Python
    3.13 warns when there is none): one loop per test, closed after it."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


@contextmanager
def _provider_call(p: Providers, name: str) -> Iterator[Callable[[], None]]:
    """A function that makes one OpenAI SDK call (to a loopback-free mock transport) under the
    named provider instrumentation, or only an app span when ``name`` is ``none``."""
    if name == "none":
        yield lambda: p.user_tracer().start_span("db.query").end()
        return
    module = pytest.importorskip(
        PROVIDER_INSTRUMENTATIONS[name].module, reason="provider instrumentations: latest deps only"
    )
    openai = pytest.importorskip("openai")
    from openai_wire import OpenAIWire, embeddings

    http = OpenAIWire(embeddings(4)).client()
    client = openai.OpenAI(api_key="sk-test", max_retries=0, http_client=http)
    instrumentor = module.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=p.tracer_provider, meter_provider=p.meter_provider)
    try:
        yield lambda: client.embeddings.create(model="text-embedding-3-small", input="q")
    finally:
        instrumentor.uninstrument()


def _step(p: Providers, call: Callable[[], None]) -> Callable[[Any], Any]:
    """An app step inside a framework run: writes on the current (our) span, propagates, and
    calls a provider whose span nests under ours."""

    def step(value: Any) -> Any:
        current = trace_api.get_current_span()
        current.set_attribute("app.step", "format")
        current.add_event("app.formatted", {"n": 3})
        p.inject()
        call()
        return value

    return step


def _langchain(provider: str) -> Callable[[Providers], None]:
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    from genai_trace_langchain import LangChainInstrumentor
    from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

    def program(p: Providers) -> None:
        store = InMemoryVectorStore(DeterministicEmbeddings(size=8))
        store.add_documents([Document(t, id=str(i)) for i, t in enumerate(TEXTS)])
        retriever = store.as_retriever(search_kwargs={"k": 2})
        prompt = ChatPromptTemplate.from_messages(
            [("system", "{context}"), ("human", "{question}")]
        )
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(
            tracer_provider=p.tracer_provider,
            meter_provider=p.meter_provider,
            logger_provider=p.logger_provider,
        )
        try:
            with _provider_call(p, provider) as call:
                chain = (
                    {
                        "context": retriever | RunnableLambda(_step(p, call), name="format"),
                        "question": RunnablePassthrough(),
                    }
                    | prompt
                    | FakeChatOpenAI(responses=["Paris."] * 4)
                    | StrOutputParser()
                )
                config: Any = {"max_concurrency": 1}  # one thread at a time: deterministic ids
                with p.user_tracer().start_as_current_span("app.request"):
                    assert chain.invoke(QUESTION, config=config) == "Paris."
                # Streaming and failing without the parallel step (its branches race when streamed).
                sequential = (
                    RunnableLambda(lambda q: {"context": TEXTS[0], "question": q}, name="inputs")
                    | prompt
                    | FakeChatOpenAI(responses=["Paris."] * 4)
                    | StrOutputParser()
                )
                assert "".join(sequential.stream(QUESTION)) == "Paris."
                failing = sequential | RunnableLambda(_fail, name="check")
                with pytest.raises(ValueError, match="refused"):
                    failing.invoke(QUESTION)
        finally:
            instrumentor.uninstrument()

    return program


def _fail(_: Any) -> None:
    raise ValueError("refused")


def _llamaindex(provider: str) -> Callable[[Providers], None]:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.postprocessor.types import BaseNodePostprocessor

    from genai_trace_llamaindex import LlamaIndexInstrumentor
    from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

    def program(p: Providers) -> None:
        instrumentor = LlamaIndexInstrumentor()
        instrumentor.instrument(
            tracer_provider=p.tracer_provider,
            meter_provider=p.meter_provider,
            logger_provider=p.logger_provider,
        )
        try:
            with _provider_call(p, provider) as call:
                step = _step(p, call)

                class Tagging(BaseNodePostprocessor):
                    def _postprocess_nodes(self, nodes: Any, query_bundle: Any = None) -> Any:
                        return step(nodes)

                index = VectorStoreIndex.from_documents(
                    [Document(text=t, doc_id=f"doc-{i}") for i, t in enumerate(TEXTS)],
                    embed_model=DeterministicEmbedding(),
                )
                llm = DeterministicLLM(responses=["Paris."] * 4)
                kwargs: Any = {"similarity_top_k": 2, "llm": llm}
                engine = index.as_query_engine(node_postprocessors=[Tagging()], **kwargs)
                with p.user_tracer().start_as_current_span("app.request"):
                    assert str(engine.query(QUESTION))
                streaming = index.as_query_engine(streaming=True, **kwargs)
                assert "".join(streaming.query(QUESTION).response_gen)
        finally:
            instrumentor.uninstrument()

    return program


def _both(program: Callable[[Providers], None], **kwargs: Any) -> tuple[Any, Any]:
    """A warm-up run first: the frameworks' once-per-process work (first-use warnings, whose
    log records read the clock on Python 3.13) is then behind both compared runs."""
    run(program, fast=False, **kwargs)
    return run(program, fast=False, **kwargs), run(program, fast=True, **kwargs)


def _scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope else ""


# OpenLLMetry's OpenAI instrumentation leaves a wrapper behind on uninstrument (each later run
# adds a layer that still calls the earlier, shut-down providers), so two runs in one process do
# not read the clock alike: the util-genai based one is the provider instrumentation compared.
PROVIDERS = ["none", "genai-openai"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_frameworks_export_the_same_spans_with_provider_spans_beside_ours(
    framework: str, provider: str
) -> None:
    program = (_langchain if framework == "langchain" else _llamaindex)(provider)
    sdk, fast = _both(program)
    assert_equivalent(sdk, fast)
    ours = sum(1 for s in fast.spans if _scope(s).startswith("genai_trace"))
    assert ours >= 5 and fast.started.count("FastSpan") == ours
    assert "FastSpan" not in sdk.started
    assert len(fast.headers) == 1  # the app step ran once, under our span


@pytest.mark.parametrize("limits", list(LIMITS), ids=list(LIMITS))
@pytest.mark.parametrize("sampler", list(SAMPLERS), ids=list(SAMPLERS))
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_frameworks_export_the_same_spans_across_samplers_and_limits(
    framework: str, sampler: str, limits: str
) -> None:
    program = (_langchain if framework == "langchain" else _llamaindex)("none")
    sdk, fast = _both(program, sampler=SAMPLERS[sampler], limits=LIMITS[limits])
    assert_equivalent(sdk, fast)
    if sampler == "always_off":
        assert fast.spans == [] and fast.headers
    else:
        assert fast.started.count("FastSpan") > 0
    if limits == "tight" and sampler == "default":
        assert any(s.dropped_attributes for s in fast.spans)

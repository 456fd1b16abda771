"""Load: many concurrent runs through one handler give complete, separate, correct traces, and
memory stays flat.

A reference run alone gives the expected tree (its RAG structure is asserted); then every trace
of the concurrent runs must have exactly that tree, each in its own trace id, and the handler's
registry must be empty. Memory: after a warm-up round, two more rounds of the same runs (the
in-memory exporters cleared between rounds) may grow the traced heap by less than
``LEAK_BYTES_PER_RUN`` per run: a leak of even one span, run record or context per run costs
more than that (a finished span alone is several kilobytes), while caches that fill once
(classifier, ``log_once``, LangChain's own) are paid in the warm-up.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from reliability_frameworks import langchain_rag, llamaindex_instrumented, shapes_by_trace

from genai_trace_core import Settings
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

LEAK_BYTES_PER_RUN = 1024

LANGCHAIN_RAG_NAMES = [
    "invoke_workflow rag",
    "RunnableParallel<context,question>",
    "RunnablePassthrough",  # parallel branches in name order (see shapes_by_trace)
    "RunnableSequence",
    "retrieval",  # no store identity; embeddings are traced by the instrumentor, not here
    "format_docs",
    "ChatPromptTemplate",
    "chat gpt-4o-mini",
    "StrOutputParser",
]
LLAMAINDEX_QUERY_NAMES = [
    "RetrieverQueryEngine.query",
    "retrieval capitals",
    "embeddings text-embedding-3-small",
    "CompactAndRefine.synthesize",
    "chat gpt-4o-mini",
]


def _names(shape: list[Any]) -> list[str]:
    out: list[str] = []
    for node in shape:
        out.append(node[0])
        out.extend(_names(node[-1]))
    return out


def _reference(otel: OTelHarness, expected_names: list[str]) -> list[Any]:
    """The tree of the one trace recorded so far (checked to be the expected operations)."""
    (shape,) = shapes_by_trace(otel).values()
    assert _names(shape) == expected_names
    otel.clear()
    return shape


def _assert_traces(otel: OTelHarness, n: int, expected: list[Any]) -> None:
    shapes = shapes_by_trace(otel)
    assert len(shapes) == n  # one trace id per run: no run joined another's trace
    assert [s for s in shapes.values() if s != expected] == []


# --- LangChain --------------------------------------------------------------------------------


async def test_1000_concurrent_async_langchain_rag_runs_give_1000_complete_traces(
    otel: OTelHarness,
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    chain = langchain_rag(delay_s=0.001)
    config: Any = {"callbacks": [handler]}
    await chain.ainvoke("warm-up?", config=config)
    expected = _reference(otel, LANGCHAIN_RAG_NAMES)

    answers = await asyncio.gather(*(chain.ainvoke(f"q{i}?", config=config) for i in range(1000)))

    assert [a.startswith("Answer:") for a in answers] == [True] * 1000
    _assert_traces(otel, 1000, expected)
    assert handler.telemetry.open_count() == 0


def test_16_threads_hammering_one_langchain_handler_give_complete_traces(
    otel: OTelHarness,
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    chain = langchain_rag()
    config: Any = {"callbacks": [handler]}
    chain.invoke("warm-up?", config=config)
    expected = _reference(otel, LANGCHAIN_RAG_NAMES)

    def work(i: int) -> None:
        for j in range(20):
            chain.invoke(f"{i}-{j}?", config=config)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))

    _assert_traces(otel, 16 * 20, expected)
    assert handler.telemetry.open_count() == 0


def _heap_growth(rounds: Callable[[], None], otel: OTelHarness) -> int:
    """Traced heap after round 3 minus after round 2 (round 1 warms caches up)."""
    sizes: list[int] = []
    tracemalloc.start()
    try:
        for _ in range(3):
            rounds()
            otel.clear()
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    return sizes[2] - sizes[1]


def test_langchain_memory_is_flat_across_rounds_of_runs(otel: OTelHarness) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    chain = langchain_rag()
    config: Any = {"callbacks": [handler]}
    n = 100

    def round_() -> None:
        async def burst() -> None:
            await asyncio.gather(*(chain.ainvoke(f"q{i}?", config=config) for i in range(n)))

        asyncio.run(burst())
        assert handler.telemetry.open_count() == 0

    growth = _heap_growth(round_, otel)
    assert growth < LEAK_BYTES_PER_RUN * n, growth


# --- LlamaIndex -------------------------------------------------------------------------------


def _llamaindex_engine() -> Any:
    from llama_index.core import Document, VectorStoreIndex

    index = VectorStoreIndex.from_documents(
        [
            Document(text="Paris is the capital of France.", id_="doc-paris"),
            Document(text="Berlin is the capital of Germany.", id_="doc-berlin"),
        ]
    )
    index.set_index_id("capitals")
    return index.as_query_engine(similarity_top_k=1)


async def _gather(make: Callable[[int], Awaitable[Any]], n: int) -> list[Any]:
    return list(await asyncio.gather(*(make(i) for i in range(n))))


@pytest.mark.parametrize(
    "n",
    [200, pytest.param(1000, marks=pytest.mark.slow)],  # 1,000 take ~17 s: slow run only
)
async def test_concurrent_llamaindex_aqueries_give_one_complete_trace_each(
    otel: OTelHarness, n: int
) -> None:
    with llamaindex_instrumented(otel, Settings()) as instrumentor:
        engine = _llamaindex_engine()
        otel.clear()
        await engine.aquery("warm-up?")
        expected = _reference(otel, LLAMAINDEX_QUERY_NAMES)

        answers = await _gather(lambda i: engine.aquery(f"question {i}?"), n)

        assert all(str(a).startswith("Answer:") for a in answers)
        _assert_traces(otel, n, expected)
        (span_handler, _) = instrumentor._handlers
        assert span_handler.bridge.telemetry.open_count() == 0


def test_16_threads_of_llamaindex_queries_give_complete_traces(otel: OTelHarness) -> None:
    with llamaindex_instrumented(otel, Settings()) as instrumentor:
        engine = _llamaindex_engine()
        otel.clear()
        engine.query("warm-up?")
        expected = _reference(otel, LLAMAINDEX_QUERY_NAMES)

        def work(i: int) -> None:
            for j in range(10):
                engine.query(f"{i}-{j}?")

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(work, range(16)))

        _assert_traces(otel, 16 * 10, expected)
        (span_handler, _) = instrumentor._handlers
        assert span_handler.bridge.telemetry.open_count() == 0


@pytest.mark.slow
def test_llamaindex_memory_is_flat_across_rounds_of_queries(otel: OTelHarness) -> None:
    with llamaindex_instrumented(otel, Settings()) as instrumentor:
        engine = _llamaindex_engine()
        (span_handler, _) = instrumentor._handlers
        n = 100

        def round_() -> None:
            asyncio.run(_gather(lambda i: engine.aquery(f"question {i}?"), n))
            assert span_handler.bridge.telemetry.open_count() == 0

        growth = _heap_growth(round_, otel)
    assert growth < LEAK_BYTES_PER_RUN * n, growth

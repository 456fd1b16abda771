"""Chat engines, every way a user calls them: each request is one trace, nested where it ran,
every span ends, and OpenTelemetry logs nothing (issue 13, item 2).

``chat``, ``achat``, ``stream_chat`` and ``astream_chat`` on the simple, context, condense-plus-
context and condense-question engines; four requests one after another, from a thread pool (sync;
each thread with its own engine: LlamaIndex's chat memory hangs when threads share one engine,
instrumented or not) and from ``asyncio.gather`` (async). The model is ``MockLLM``, a
``CustomLLM``: its ``astream_chat`` returns a generator that calls its own ``stream_chat`` when
first read (one model call, one span), and the engines' async streams are read by a history
task created inside ``astream_chat`` that runs after it returned (still the request's trace).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from inline_snapshot import snapshot
from li_lifecycle import Lifecycle, traces
from li_support import Instrument, shape
from llama_index.core import VectorStoreIndex
from llama_index.core.chat_engine import (
    CondensePlusContextChatEngine,
    CondenseQuestionChatEngine,
    ContextChatEngine,
    SimpleChatEngine,
)
from llama_index.core.llms import MockLLM

from genai_trace_core.testing import OTelHarness, span_tree

pytestmark = [
    # llama-index-core's chat memory opens an aiosqlite connection it never closes (its own
    # ResourceWarning, collected here so that it cannot surface in a later test)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    # its sync chat memory asks asyncio for an event loop none has set yet (Python 3.12+)
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def _collect_llama_index_memory() -> Iterator[None]:
    """Collect the engines' unclosed connections here, under this module's warning filters."""
    yield
    gc.collect()


KINDS = ("simple", "context", "condense_plus_context", "condense_question")
N = 4


def _engine(kind: str, index: VectorStoreIndex) -> Any:
    llm = MockLLM(max_tokens=6)
    if kind == "simple":
        return SimpleChatEngine.from_defaults(llm=llm)
    if kind == "context":
        return ContextChatEngine.from_defaults(retriever=index.as_retriever(), llm=llm)
    if kind == "condense_plus_context":
        return CondensePlusContextChatEngine.from_defaults(retriever=index.as_retriever(), llm=llm)
    query_engine = index.as_query_engine(llm=llm)
    return CondenseQuestionChatEngine.from_defaults(query_engine=query_engine, llm=llm)


def _ask(engine: Any, method: str, i: int) -> str:
    if method == "chat":
        return str(engine.chat(f"where is city {i}").response)
    response = engine.stream_chat(f"where is city {i}")
    return "".join(response.response_gen)


async def _aask(engine: Any, method: str, i: int) -> str:
    if method == "achat":
        return str((await engine.achat(f"where is city {i}")).response)
    response = await engine.astream_chat(f"where is city {i}")
    return "".join([t async for t in response.async_response_gen()])


def _run(kind: str, method: str, index: VectorStoreIndex, concurrent: bool) -> list[str]:
    engines = [_engine(kind, index) for _ in range(N)]
    if not method.startswith("a"):
        if not concurrent:
            return [_ask(e, method, i) for i, e in enumerate(engines)]
        with ThreadPoolExecutor(N) as pool:
            return list(pool.map(lambda i: _ask(engines[i], method, i), range(N)))

    async def main() -> list[str]:
        if not concurrent:
            return [await _aask(e, method, i) for i, e in enumerate(engines)]
        return list(await asyncio.gather(*(_aask(e, method, i) for i, e in enumerate(engines))))

    return asyncio.run(main())


def _unnamed_model(tree: list[Any]) -> list[Any]:
    """``chat unknown`` (0.14: MockLLM has no model name) -> ``chat`` (as 0.12 names it)."""
    return [[name.removesuffix(" unknown"), _unnamed_model(kids)] for name, kids in tree]


def _one_trace_per_request(otel: OTelHarness, life: Lifecycle) -> list[Any]:
    """The trees of the requests (all alike), after checking the lifecycle."""
    gc.collect()
    life.check()
    by_trace = traces(otel)
    assert len(by_trace) == N
    trees = []
    for spans in by_trace.values():
        roots = [s for s in spans if s.parent is None]
        assert len(roots) == 1
        tree = _unnamed_model(shape(span_tree(spans, attributes=False)))
        trees.append(tree)
    assert all(t == trees[0] for t in trees)
    return trees[0]  # type: ignore[no-any-return]


TREES = snapshot(
    {
        "simple chat": [["SimpleChatEngine.chat", [["chat", []]]]],
        "simple achat": [["SimpleChatEngine.chat", [["chat", []]]]],
        "simple stream_chat": [["SimpleChatEngine.stream_chat", [["chat", []]]]],
        "simple astream_chat": [["SimpleChatEngine.stream_chat", [["chat", []]]]],
        "context chat": [
            [
                "ContextChatEngine.chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "context achat": [
            [
                "ContextChatEngine.chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "context stream_chat": [
            [
                "ContextChatEngine.stream_chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "context astream_chat": [
            [
                "ContextChatEngine.stream_chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "condense_plus_context chat": [
            [
                "CondensePlusContextChatEngine.chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "condense_plus_context achat": [
            [
                "CondensePlusContextChatEngine.chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "condense_plus_context stream_chat": [
            [
                "CondensePlusContextChatEngine.stream_chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "condense_plus_context astream_chat": [
            [
                "CondensePlusContextChatEngine.stream_chat",
                [
                    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                    ["CompactAndRefine.synthesize", [["text_completion", []]]],
                ],
            ]
        ],
        "condense_question chat": [
            [
                "CondenseQuestionChatEngine.chat",
                [
                    [
                        "RetrieverQueryEngine.query",
                        [
                            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                            ["CompactAndRefine.synthesize", [["text_completion", []]]],
                        ],
                    ]
                ],
            ]
        ],
        "condense_question achat": [
            [
                "CondenseQuestionChatEngine.chat",
                [
                    [
                        "RetrieverQueryEngine.query",
                        [
                            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                            ["CompactAndRefine.synthesize", [["text_completion", []]]],
                        ],
                    ]
                ],
            ]
        ],
        "condense_question stream_chat": [
            [
                "CondenseQuestionChatEngine.stream_chat",
                [
                    [
                        "RetrieverQueryEngine.query",
                        [
                            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                            ["CompactAndRefine.synthesize", [["text_completion", []]]],
                        ],
                    ],
                ],
            ]
        ],
        "condense_question astream_chat": [
            [
                "CondenseQuestionChatEngine.stream_chat",
                [
                    [
                        "RetrieverQueryEngine.query",
                        [
                            ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                            ["CompactAndRefine.synthesize", [["text_completion", []]]],
                        ],
                    ],
                ],
            ]
        ],
    }
)


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
@pytest.mark.parametrize("method", ["chat", "achat", "stream_chat", "astream_chat"])
@pytest.mark.parametrize("kind", KINDS)
def test_four_requests_are_four_complete_traces(
    kind: str,
    method: str,
    concurrent: bool,
    index: VectorStoreIndex,
    otel: OTelHarness,
    instrument: Instrument,
    lifecycle: Lifecycle,
) -> None:
    instrument()
    answers = _run(kind, method, index, concurrent)
    assert all(answers)
    tree = _one_trace_per_request(otel, lifecycle)
    assert tree == TREES[f"{kind} {method}"]

"""The instrumentor's embeddings wrapper is invisible to the caller: the same call, made with and
without instrumentation, takes the same arguments, sees the same input, returns the same object
and raises the same exception; and the wrapped method has the same signature."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from openai_wire import OpenAIWire, embeddings

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import LangChainInstrumentor

langchain_openai = pytest.importorskip("langchain_openai")
EMBED = "text-embedding-3-small"


class NumpyEmbeddings(Embeddings):
    """Returns numpy arrays (as sentence-transformers-style wrappers do) and consumes its input
    lazily, recording what it saw."""

    model = "numpy-embed"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def embed_documents(self, texts: Iterable[str]) -> Any:
        got = list(texts)  # consumes a generator: it must still be full when it arrives here
        self.seen.append(got)
        return np.array([[float(len(t)), 1.0, 2.0] for t in got])

    def embed_query(self, text: str) -> Any:
        if not text:
            raise ValueError("empty query")
        return np.array([float(len(text)), 1.0, 2.0])

    async def aembed_documents(self, texts: Iterable[str]) -> Any:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> Any:
        return self.embed_query(text)


def _gen(*texts: str) -> Iterator[str]:
    yield from texts


def _calls(emb: NumpyEmbeddings) -> list[Any]:
    """Every call shape a caller (or a vector store) makes, with its outcome."""
    out: list[Any] = []
    for call in (
        lambda: emb.embed_query(text="paris"),
        lambda: emb.embed_query("paris"),
        lambda: emb.embed_documents(texts=["a", "bb"]),
        lambda: emb.embed_documents(_gen("ccc", "dddd")),
        lambda: emb.embed_documents([]),
        lambda: emb.embed_query(""),
        lambda: emb.embed_query(),  # type: ignore[call-arg]  # noqa: PLW0108
        lambda: emb.embed_query("a", "b"),  # type: ignore[call-arg]
        lambda: emb.embed_documents(texts=["x"], extra=1),  # type: ignore[call-arg]
    ):
        try:
            result = call()
        except Exception as exc:
            out.append(("raised", type(exc), str(exc)))
        else:
            out.append(("returned", type(result), np.asarray(result).tolist()))
    return out


def test_instrumented_calls_return_see_and_raise_exactly_what_uninstrumented_calls_do(
    otel: OTelHarness,
) -> None:
    plain = NumpyEmbeddings()
    expected = _calls(plain)
    signatures = {m: inspect.signature(getattr(NumpyEmbeddings, m)) for m in ("embed_query",)}
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        traced = NumpyEmbeddings()
        assert _calls(traced) == expected
        assert traced.seen == plain.seen == [["a", "bb"], ["ccc", "dddd"], []]
        for name in ("embed_query", "embed_documents", "aembed_query", "aembed_documents"):
            wrapped = getattr(NumpyEmbeddings, name)
            assert hasattr(wrapped, "__wrapped__")  # really instrumented
            assert inspect.signature(wrapped) == inspect.signature(wrapped.__wrapped__)
            assert wrapped.__name__ == name
        assert inspect.signature(NumpyEmbeddings.embed_query) == signatures["embed_query"]
        assert inspect.iscoroutinefunction(NumpyEmbeddings.aembed_query)
    finally:
        inst.uninstrument()
    spans = otel.span_dicts()
    # one span per call that reached the model (the argument errors never did)
    assert [
        (
            s["status"],
            s["attributes"].get(semconv.EMBEDDINGS_INPUT_COUNT),
            s["attributes"].get(semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT),
        )
        for s in spans
    ] == [
        ("UNSET", 1, 3),
        ("UNSET", 1, 3),
        ("UNSET", 2, 3),
        ("UNSET", 2, 3),  # a generator input: counted from the vectors, never read by us
        ("UNSET", 0, None),
        ("ERROR", None, None),
        ("ERROR", None, None),
        ("ERROR", None, None),
        ("ERROR", None, None),
    ]
    assert {s["name"] for s in spans} == {"embeddings numpy-embed"}


async def test_async_variants_are_transparent_too(otel: OTelHarness, instrumented: Any) -> None:
    emb = NumpyEmbeddings()
    vec = await emb.aembed_query(text="paris")
    docs = await emb.aembed_documents(texts=_gen("a", "bb"))
    assert isinstance(vec, np.ndarray) and vec.tolist() == [5.0, 1.0, 2.0]
    assert docs.tolist() == [[1.0, 1.0, 2.0], [2.0, 1.0, 2.0]]
    with pytest.raises(ValueError, match="empty query") as raised:
        await emb.aembed_query("")
    assert raised.value.__traceback__ is not None
    assert [s["status"] for s in otel.span_dicts()] == ["UNSET", "UNSET", "ERROR"]
    assert otel.span_dicts()[1]["attributes"][semconv.EMBEDDINGS_INPUT_COUNT] == 2


@pytest.fixture
async def openai_embedder() -> AsyncIterator[Any]:
    wire = OpenAIWire(embeddings(dimensions=6))
    sync, async_ = wire.client(), wire.async_client()
    yield langchain_openai.OpenAIEmbeddings(
        model=EMBED, api_key="sk-test-x", http_client=sync, http_async_client=async_
    )
    sync.close()
    await async_.aclose()


async def test_real_openai_embeddings_by_keyword_as_vector_stores_call_them(
    otel: OTelHarness, instrumented: Any, openai_embedder: Any
) -> None:
    q = openai_embedder.embed_query(text="capital of France")
    docs = openai_embedder.embed_documents(texts=["Paris.", "Berlin.", "Rome."])
    aq = await openai_embedder.aembed_query(text="capital")
    adocs = await openai_embedder.aembed_documents(texts=["Oslo."])
    store = InMemoryVectorStore(embedding=openai_embedder)
    store.add_texts(["Madrid.", "Lisbon."])
    hits = store.similarity_search("Spain", k=1)
    assert (len(q), [len(d) for d in docs], len(aq), len(adocs), len(hits)) == (6, [6] * 3, 6, 1, 1)
    spans = otel.span_dicts()
    assert [
        (s["name"], s["parent_id"], s["attributes"][semconv.EMBEDDINGS_INPUT_COUNT]) for s in spans
    ] == [(f"embeddings {EMBED}", None, n) for n in (1, 3, 1, 1, 2, 1)]
    assert all(s["attributes"][semconv.USAGE_SOURCE] == "estimated" for s in spans)


class _Later:
    """An awaitable that is no coroutine (a future-like object a client library returns)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


class PlainDefAsync(Embeddings):
    """``aembed_*`` written as plain ``def`` returning awaitables: the work runs when awaited."""

    model = "plain-def-async"

    def __init__(self) -> None:
        self.vectors = [[1.0, 2.0, 3.0]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[0]

    def aembed_query(self, text: str) -> Any:  # type: ignore[override]
        async def run() -> list[float]:
            await asyncio.sleep(0)
            if not text:
                raise ValueError("empty query")
            return self.vectors[0]

        return run()

    def aembed_documents(self, texts: list[str]) -> Any:  # type: ignore[override]
        return _Later(self.vectors)


async def test_plain_def_async_methods_returning_awaitables_end_their_span_when_awaited(
    otel: OTelHarness, instrumented: Any
) -> None:
    emb = PlainDefAsync()
    assert not inspect.iscoroutinefunction(PlainDefAsync.aembed_query)
    assert hasattr(PlainDefAsync.aembed_query, "__wrapped__")  # really instrumented
    assert await emb.aembed_query("paris") is emb.vectors[0]
    assert await emb.aembed_documents(["a"]) is emb.vectors
    with pytest.raises(ValueError, match="empty query"):
        await emb.aembed_query("")
    assert [
        (
            s["status"],
            s["attributes"].get(semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT),
            s["attributes"].get(semconv.ERROR_TYPE),
        )
        for s in otel.span_dicts()
    ] == [("UNSET", 3, None), ("UNSET", 3, None), ("ERROR", None, "ValueError")]

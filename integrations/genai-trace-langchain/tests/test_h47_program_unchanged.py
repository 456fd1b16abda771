"""A user's program sees the same objects, results and exceptions with the instrumentor on.

Pydantic embeddings classes (defined before or after ``instrument()``) keep their fields, dumps,
copies and pickles; a user's subclass of a wrapped class keeps its overrides; an exception keeps
its type, message and last frame; ``instrument()``/``uninstrument()`` cycles re-wrap classes
defined in between and leave them as they were; a class made and dropped while instrumented
is garbage collected as without it.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import pickle
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever
from langgraph.graph import MessagesState, StateGraph
from pydantic import BaseModel, ConfigDict

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import DeterministicEmbeddings


class DefinedBefore(BaseModel, Embeddings):
    """Defined before ``instrument()``: wrapped when the instrumentor walks the subclasses."""

    model_config = ConfigDict(frozen=True)
    model: str = "before-embed"
    size: int = 2

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t))] * self.size for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(len(text))] * self.size


class Flavoured(Embeddings):
    """A user base class taking class keywords (``__init_subclass__``)."""

    flavour = "plain"

    def __init_subclass__(cls, flavour: str = "plain", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.flavour = flavour

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.0]


def _observe(cls: type[Any]) -> list[Any]:
    """Everything a program may look at on a pydantic embeddings model and its methods."""
    model = cls()
    return [
        model.embed_query("abc"),
        model.embed_documents(["a", "bb"]),
        asyncio.run(model.aembed_query("abcd")),
        sorted(cls.model_fields),
        model.model_dump(),
        model.model_copy(update={"size": 3}).embed_query("x"),
        copy.deepcopy(model) == model,
        pickle.loads(pickle.dumps(model)) == model,
        str(inspect.signature(cls.embed_query)),
        (cls.embed_query.__name__, cls.embed_query.__qualname__, cls.embed_query.__doc__),
        inspect.iscoroutinefunction(cls.aembed_query),
    ]


def test_pydantic_embeddings_classes_behave_the_same_when_instrumented(
    otel: OTelHarness,
) -> None:
    without = _observe(DefinedBefore)
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:

        class DefinedAfter(DefinedBefore):
            """Defined while instrumented: wrapped by the ``__init_subclass__`` hook."""

            def embed_query(self, text: str) -> list[float]:
                return super().embed_query(text)  # nested call: one span

        class Spicy(Flavoured, flavour="spicy"):
            pass

        # as if defined at the top of a module imported after instrument(): pickled by name
        DefinedAfter.__qualname__ = "DefinedAfter"
        globals()["DefinedAfter"] = DefinedAfter

        assert _observe(DefinedBefore) == without
        after = _observe(DefinedAfter)
        assert after[:8] == without[:8]
        original = DefinedAfter.__dict__["embed_query"].__wrapped__
        assert after[8:] == [
            without[8],
            ("embed_query", original.__qualname__, None),
            without[10],
        ]
        assert Spicy.flavour == "spicy"
        assert Spicy().embed_query("x") == [0.0]
    finally:
        inst.uninstrument()
    one = ["embeddings before-embed", "CLIENT", "UNSET", []]
    # per class: embed_query, embed_documents, aembed_query (one span: it runs embed_query),
    # model_copy's embed_query; then Spicy's embed_query (no model name)
    assert shape(otel.tree()) == [one] * 8 + [["embeddings", "CLIENT", "UNSET", []]]
    assert not hasattr(DefinedBefore.__dict__["embed_query"], "__wrapped__")
    assert not hasattr(DefinedAfter.__dict__["embed_query"], "__wrapped__")


class MyRetriever(VectorStoreRetriever):
    """A user's retriever overriding the method the instrumentor wraps on its base."""

    def _get_ls_params(self, **kwargs: Any) -> Any:
        params = super()._get_ls_params(**kwargs)
        params["ls_mine"] = "yes"  # type: ignore[typeddict-unknown-key]
        return params


def test_user_subclass_of_a_wrapped_retriever_keeps_its_override(
    otel: OTelHarness, instrumented: Any
) -> None:
    store = InMemoryVectorStore(DeterministicEmbeddings(size=4))
    store.add_texts(["Paris", "Berlin"])
    retriever = MyRetriever(vectorstore=store, search_kwargs={"k": 1})
    docs = retriever.invoke("Paris")
    assert [d.page_content for d in docs] == ["Paris"]
    assert retriever._get_ls_params() == {
        "ls_retriever_name": "my",
        "ls_vector_store_provider": "InMemoryVectorStore",
        "ls_embedding_provider": "DeterministicEmbeddings",
        "ls_genai_trace_search_k": 1,
        "ls_mine": "yes",
    }
    otel.clear()
    retriever.invoke("Paris")
    assert shape(otel.tree()) == [
        [
            "retrieval",
            "CLIENT",
            "UNSET",
            [["embeddings text-embedding-3-small", "CLIENT", "UNSET", []]],
        ]
    ]


class Broken(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise ValueError("provider refused the batch")

    def embed_query(self, text: str) -> list[float]:
        raise KeyError("no such model")


def _failure(call: Callable[[], Any]) -> tuple[str, str, str, str]:
    with pytest.raises(Exception) as info:
        call()
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    return type(info.value).__name__, str(info.value), last.name, last.filename


def _failures() -> list[tuple[str, str, str, str]]:
    store = InMemoryVectorStore(Broken())
    return [
        _failure(lambda: Broken().embed_documents(["a"])),
        _failure(lambda: asyncio.run(Broken().aembed_query("a"))),
        _failure(lambda: store.as_retriever().invoke("a")),
        _failure(lambda: StateGraph(MessagesState).compile()),  # no entry point
    ]


def test_exceptions_keep_type_message_and_last_frame(otel: OTelHarness) -> None:
    without = _failures()
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        assert _failures() == without
    finally:
        inst.uninstrument()
    error = ["embeddings", "CLIENT", "ERROR", []]
    assert shape(otel.tree()) == [
        error,
        error,
        ["retrieval", "CLIENT", "ERROR", [error]],
    ]


def test_uninstrument_then_instrument_wraps_classes_defined_in_between(
    otel: OTelHarness,
) -> None:
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    inst.uninstrument()

    class Between(DeterministicEmbeddings):
        def embed_query(self, text: str) -> list[float]:
            return [1.0, 2.0]

    original = Between.__dict__["embed_query"]
    assert "__init_subclass__" not in Embeddings.__dict__
    inst.instrument(telemetry=otel.telemetry())
    try:
        assert Between().embed_query("x") == [1.0, 2.0]
        assert Between.__dict__["embed_query"].__wrapped__ is original
    finally:
        inst.uninstrument()
    assert Between.__dict__["embed_query"] is original
    assert Between().embed_query("x") == [1.0, 2.0]  # untraced again
    assert shape(otel.tree()) == [["embeddings text-embedding-3-small", "CLIENT", "UNSET", []]]


def _tenant_model(dim: int) -> type[Embeddings]:
    class TenantEmbeddings(Embeddings):
        """One class per tenant, made on demand and dropped with the tenant."""

        model = f"tenant-{dim}"

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(t) for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return [float(len(text))] * dim

    return TenantEmbeddings


def test_classes_defined_while_instrumented_can_still_be_collected(
    otel: OTelHarness, instrumented: Any
) -> None:
    refs = []
    for dim in (1, 2, 3):
        cls = _tenant_model(dim)
        assert cls().embed_documents(["ab"]) == [[2.0] * dim]
        refs.append(weakref.ref(cls))
        del cls
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]  # as without the instrumentor
    assert shape(otel.tree()) == [
        ["embeddings tenant-1", "CLIENT", "UNSET", []],
        ["embeddings tenant-2", "CLIENT", "UNSET", []],
        ["embeddings tenant-3", "CLIENT", "UNSET", []],
    ]

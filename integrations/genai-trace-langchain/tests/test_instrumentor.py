from __future__ import annotations

import os
from abc import ABCMeta
from importlib.metadata import entry_points
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import (
    LangChainInstrumentor,
    OpenTelemetryCallbackHandler,
    trace_embeddings,
)
from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI


def _embed_methods() -> dict[str, Any]:
    return {
        name: DeterministicEmbeddings.__dict__.get(name)
        for name in ("embed_documents", "embed_query")
    } | {
        "aembed": Embeddings.__dict__["aembed_documents"],
        "ls": VectorStoreRetriever._get_ls_params,
    }


def test_instrument_twice_traces_once_and_uninstrument_restores_everything(
    otel: OTelHarness,
) -> None:
    before = _embed_methods()
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    inst.instrument(telemetry=otel.telemetry())  # ignored: already instrumented
    try:
        FakeChatOpenAI().invoke("hi")
        DeterministicEmbeddings().embed_query("hi")
        assert shape(otel.tree()) == [
            ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ["embeddings text-embedding-3-small", "CLIENT", "UNSET", []],
        ]
    finally:
        inst.uninstrument()
    inst.uninstrument()  # a second uninstrument is harmless
    otel.clear()
    FakeChatOpenAI().invoke("hi")
    DeterministicEmbeddings().embed_query("hi")
    assert otel.spans() == []
    assert _embed_methods() == before
    assert "__init_subclass__" not in Embeddings.__dict__


def test_explicit_handler_and_instrumentor_give_one_span(
    otel: OTelHarness, instrumented: Any
) -> None:
    explicit = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    FakeChatOpenAI().invoke("hi", config={"callbacks": [explicit]})
    assert shape(otel.tree()) == [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]


async def test_embeddings_subclass_defined_after_instrument_is_traced_once(
    otel: OTelHarness, instrumented: Any
) -> None:
    class Later(DeterministicEmbeddings):
        def embed_query(self, text: str) -> list[float]:
            return self.embed_documents([text])[0]  # nested call: still one span

    Later().embed_query("q")
    await Later().aembed_documents(["a", "b"])
    spans = otel.span_dicts()
    assert [s["name"] for s in spans] == ["embeddings text-embedding-3-small"] * 2
    assert spans[1]["attributes"]["genai_trace.embeddings.input_count"] == 2


def test_trace_embeddings_wraps_any_embeddings(otel: OTelHarness) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    traced = trace_embeddings(DeterministicEmbeddings(size=8), handler=handler)
    assert len(traced.embed_documents(["a", "b", "c"])) == 3
    [span] = otel.span_dicts()
    assert span["name"] == "embeddings text-embedding-3-small"
    assert span["attributes"]["gen_ai.embeddings.dimension.count"] == 8


def test_entry_point_and_dependencies_are_declared() -> None:
    eps = entry_points(group="opentelemetry_instrumentor")
    assert any(
        ep.name == "genai_trace_langchain"
        and ep.value == "genai_trace_langchain:LangChainInstrumentor"
        for ep in eps
    )
    assert list(LangChainInstrumentor().instrumentation_dependencies()) == [
        "langchain-core >= 1.0.0"
    ]


def test_env_switch_off_makes_instrument_a_no_op(otel: OTelHarness, monkeypatch: Any) -> None:
    monkeypatch.setenv("GENAI_TRACE_LANGCHAIN", "false")
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        FakeChatOpenAI().invoke("hi")
    finally:
        inst.uninstrument()
    assert otel.spans() == []


def test_env_switch_on_traces_runs_without_instrument(otel: OTelHarness, monkeypatch: Any) -> None:
    from opentelemetry import trace

    from genai_trace_langchain import _hook

    monkeypatch.setenv("GENAI_TRACE_LANGCHAIN", "true")
    _hook.register()
    monkeypatch.setattr(
        _hook._State, "default", OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    )
    FakeChatOpenAI().invoke("hi")
    monkeypatch.setenv("GENAI_TRACE_LANGCHAIN", "false")
    FakeChatOpenAI().invoke("hi")
    assert shape(otel.tree()) == [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]
    del trace


def test_instrument_does_not_import_langgraph_and_wraps_compile_once_it_is_imported() -> None:
    """In a fresh interpreter: ``instrument()`` before LangGraph is imported leaves it unimported,
    and a graph compiled after the user imports it is marked; ``uninstrument`` restores it."""
    import subprocess
    import sys

    program = """
import sys
from genai_trace_langchain import LangChainInstrumentor
inst = LangChainInstrumentor()
inst.instrument()
assert "langgraph" not in sys.modules, "instrument() imported LangGraph"
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langchain_core.tools import tool

@tool
def ping(x: str) -> str:
    \"\"\"Ping.\"\"\"
    return x

g = StateGraph(MessagesState)
g.add_node("tools", ToolNode([ping]))
g.add_edge(START, "tools")
marked = g.compile(name="loop").config["metadata"]
assert marked == {"__genai_trace_agent_graph:loop": True}, marked
assert hasattr(StateGraph.compile, "__genai_trace_original__")
inst.uninstrument()
assert not hasattr(StateGraph.compile, "__genai_trace_original__")
assert g.compile(name="loop").config is None
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


class _LazyStore(InMemoryVectorStore):
    """A store whose client connects lazily: reading its collection name raises."""

    @property
    def collection_name(self) -> str:
        raise RuntimeError("lazy client not connected")


def test_retriever_of_a_store_whose_property_raises_works_as_without_instrumentation(
    otel: OTelHarness, instrumented: Any
) -> None:
    store = _LazyStore(DeterministicEmbeddings(size=8))
    store.add_texts(["alpha", "beta"])
    retriever = store.as_retriever(search_kwargs={"k": 1})
    instrumented.uninstrument()
    expected = retriever._get_ls_params()
    instrumented.instrument(telemetry=otel.telemetry())
    assert retriever._get_ls_params() == expected  # exactly the original's, nothing of ours
    assert [d.page_content for d in retriever.invoke("alpha")] == ["alpha"]
    assert "retrieval" in [s["attributes"]["gen_ai.operation.name"] for s in otel.span_dicts()]


class _FrozenMeta(ABCMeta):
    """A metaclass that refuses to set public attributes on its classes once they are made."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"{cls.__name__} is frozen")
        super().__setattr__(name, value)


def test_embeddings_class_that_cannot_be_wrapped_is_still_defined_and_works(
    otel: OTelHarness, instrumented: Any
) -> None:
    class Frozen(DeterministicEmbeddings, metaclass=_FrozenMeta):
        def embed_query(self, text: str) -> list[float]:
            return [1.0, 2.0]

    assert Frozen().embed_query("q") == [1.0, 2.0]


def test_default_handler_on_a_failing_global_meter_provider_leaves_runs_untraced() -> None:
    """In a fresh interpreter whose global meter provider raises: ``trace_embeddings`` without a
    handler, and LangChain runs once ``GENAI_TRACE_LANGCHAIN=true`` (both use a default handler
    on the global providers, which cannot be made) work, untraced."""
    import subprocess
    import sys

    program = """
import os
from opentelemetry import metrics
from opentelemetry.metrics import NoOpMeter, NoOpMeterProvider

class BadMeter(NoOpMeter):
    def create_histogram(self, *a, **k):
        raise RuntimeError("meter backend down")

class BadProvider(NoOpMeterProvider):
    def get_meter(self, *a, **k):
        return BadMeter("x")

metrics.set_meter_provider(BadProvider())
from genai_trace_langchain import LangChainInstrumentor, trace_embeddings
from genai_trace_langchain.testing import DeterministicEmbeddings, FakeChatOpenAI

print(len(trace_embeddings(DeterministicEmbeddings(size=4)).embed_query("q")))
inst = LangChainInstrumentor()
inst.instrument(meter_provider=NoOpMeterProvider())
inst.uninstrument()
os.environ["GENAI_TRACE_LANGCHAIN"] = "true"  # switched on while running: the default handler
print(FakeChatOpenAI().invoke("hi").content != "")
"""
    env = {k: v for k, v in os.environ.items() if k != "GENAI_TRACE_LANGCHAIN"}
    done = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4", "True"]

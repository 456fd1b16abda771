from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStoreRetriever

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
assert marked == {"ls_genai_trace_agent_graph:loop": True}, marked
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

"""A tool-loop graph stays an agent when its caller passes metadata, on every entry point.

LangGraph 1.0 lets a caller's ``{"metadata": ...}`` replace the graph's own config metadata, where
the agent mark lives, and gives a graph used as a node its caller's metadata; 1.1 on merges them.
Either way the graph is ``invoke_agent``, the caller's metadata reaches the nodes unchanged but
for the mark, and ``uninstrument()`` puts LangGraph's methods back."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from lifecycle_checks import Lifecycle

from genai_trace_core.testing import OTelHarness

pytest.importorskip("langgraph")
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from genai_trace_langchain.testing import FakeChatOpenAI

QUESTION = {"messages": [("user", "Weather in Paris?")]}
META = {"user_id": "alice", "request": "r-1"}
AGENT = [
    ("invoke_agent weather_graph", "weather_graph"),
    ("model", None),
    ("chat gpt-4o-mini", None),
    ("tools_condition", None),
    ("tools", None),
    ("execute_tool get_weather", "weather_graph"),
    ("model", None),
    ("chat gpt-4o-mini", None),
    ("tools_condition", None),
]


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _policy(messages: list[BaseMessage]) -> AIMessage | str:
    if messages[-1].type == "human":
        call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_w"}
        return AIMessage(content="", tool_calls=[call])
    return "Sunny."


def _graph(seen: list[dict[str, Any]]) -> Any:
    model = FakeChatOpenAI(answer_fn=_policy).bind_tools([get_weather])

    def agent(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        seen.append({k: v for k, v in (config.get("metadata") or {}).items() if k in META})
        return {"messages": [model.invoke(state["messages"])]}

    g = StateGraph(MessagesState)
    g.add_node("model", agent)
    g.add_node("tools", ToolNode([get_weather]))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition)
    g.add_edge("tools", "model")
    return g.compile(name="weather_graph")


def _names(otel: OTelHarness) -> list[tuple[str, str | None]]:
    return sorted((s.name, (s.attributes or {}).get("gen_ai.agent.name")) for s in otel.spans())


async def test_caller_metadata_keeps_the_agent_on_every_entry_point(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    seen: list[dict[str, Any]] = []
    graph = _graph(seen)
    config: RunnableConfig = {"metadata": dict(META)}
    runs = [
        lambda: graph.invoke(QUESTION, config),
        lambda: graph.invoke(QUESTION, config=config),
        lambda: list(graph.stream(QUESTION, config, stream_mode="updates")),
        lambda: graph.batch([QUESTION], config),
        lambda: graph.with_config(metadata=dict(META)).invoke(QUESTION),
    ]
    for run in runs:
        otel.clear()
        run()
        assert _names(otel) == sorted(AGENT)
    for arun in (
        lambda: graph.ainvoke(QUESTION, config),
        lambda: _drain(graph.astream(QUESTION, config=config)),
        lambda: _drain(graph.astream_events(QUESTION, config, version="v2")),
    ):
        otel.clear()
        await arun()
        assert _names(otel) == sorted(AGENT)
    lifecycle.check()
    assert seen == [META] * 2 * (len(runs) + 3)
    assert config == {"metadata": META}  # the caller's config is not changed


async def _drain(agen: Any) -> None:
    async for _ in agen:
        pass


def test_agent_graph_as_a_node_of_a_workflow_is_an_agent(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    outer = StateGraph(MessagesState)
    outer.add_node("assistant", _graph([]))
    outer.add_edge(START, "assistant")
    outer.add_edge("assistant", END)
    outer.compile(name="pipeline").invoke(QUESTION, {"metadata": dict(META)})
    lifecycle.check()
    names = _names(otel)
    assert ("invoke_workflow pipeline", None) in names
    assert [n for n in names if n[1]] == [
        ("execute_tool get_weather", "weather_graph"),
        ("invoke_agent weather_graph", "weather_graph"),
    ]


def test_uninstrument_restores_langgraph_and_wraps_only_where_metadata_is_replaced(
    otel: OTelHarness,
) -> None:
    from langgraph.pregel.main import Pregel, ensure_config

    from genai_trace_langchain import LangChainInstrumentor

    merges = "own" in ensure_config({"metadata": {"own": 1}}, {"metadata": {"x": 1}})["metadata"]
    stream, astream = Pregel.stream, Pregel.astream
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        assert (Pregel.stream is stream) is merges
        assert (Pregel.astream is astream) is merges
        assert inspect.signature(Pregel.stream) == inspect.signature(stream)
        assert inspect.isgeneratorfunction(Pregel.stream)
        assert inspect.isasyncgenfunction(Pregel.astream)
    finally:
        inst.uninstrument()
    assert Pregel.stream is stream
    assert Pregel.astream is astream

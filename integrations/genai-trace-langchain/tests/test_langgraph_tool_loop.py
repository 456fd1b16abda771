"""A hand-built LangGraph tool loop (model node, ``tools_condition``, ``ToolNode``) is an agent:
an LLM steers it. Under the instrumentor it starts as one ``invoke_agent`` span whatever its name,
so its ``execute_tool`` spans carry ``gen_ai.agent.name``; a graph without a ``ToolNode`` stays a
workflow, and so does a subgraph inside an agent graph."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import snapshot
from lifecycle_checks import Lifecycle

from genai_trace_core.testing import OTelHarness

langgraph = pytest.importorskip("langgraph")
from langchain_core.messages import AIMessage, BaseMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langgraph.graph import END, START, MessagesState, StateGraph  # noqa: E402
from langgraph.prebuilt import ToolNode, tools_condition  # noqa: E402

from genai_trace_langchain.testing import FakeChatOpenAI  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def get_time(city: str) -> str:
    """The local time in a city."""
    return f"12:00 in {city}"


TOOLS = [get_weather, get_time]
QUESTION = {"messages": [("user", "Weather and time in Paris?")]}


def _policy(messages: list[BaseMessage]) -> AIMessage | str:
    if messages[-1].type == "human":
        calls = [
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_w"},
            {"name": "get_time", "args": {"city": "Paris"}, "id": "call_t"},
        ]
        return AIMessage(content="", tool_calls=calls)
    return "Sunny, noon."


def _tool_loop(name: str, extra_node: Any = None) -> Any:
    model = FakeChatOpenAI(answer_fn=_policy).bind_tools(TOOLS)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    g = StateGraph(MessagesState)
    g.add_node("model", agent)
    g.add_node("tools", ToolNode(TOOLS))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition)
    if extra_node is None:
        g.add_edge("tools", "model")
    else:
        g.add_node("post", extra_node)
        g.add_edge("tools", "post")
        g.add_edge("post", "model")
    return g.compile(name=name)


def _names(otel: OTelHarness) -> list[tuple[str, str | None]]:
    return [
        (s.name, (s.attributes or {}).get("gen_ai.agent.name"))
        for s in sorted(otel.spans(), key=lambda s: s.start_time or 0)
    ]


AGENT_TREE = [
    ("invoke_agent weather_graph", "weather_graph"),
    ("model", None),
    ("chat gpt-4o-mini", None),
    ("tools_condition", None),
    ("tools", None),
    ("execute_tool get_weather", "weather_graph"),
    ("execute_tool get_time", "weather_graph"),
    ("model", None),
    ("chat gpt-4o-mini", None),
    ("tools_condition", None),
]


def test_tool_loop_graph_is_one_invoke_agent_span(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    graph = _tool_loop("weather_graph")
    out = graph.invoke(QUESTION)
    assert out["messages"][-1].content == "Sunny, noon."
    lifecycle.check()
    assert otel.snapshot_dicts(unordered=("tools",)) == snapshot(
        [
            {
                "name": "invoke_agent weather_graph",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_graph",
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": 36,
                    "gen_ai.usage.output_tokens": 26,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "weather_graph",
                },
            },
            {
                "name": "model",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "model",
                    "genai_trace.langgraph.step": 1,
                    "genai_trace.run.name": "model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                    "gen_ai.response.id": "chatcmpl-2616c7b0363915ba",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 9,
                    "gen_ai.usage.output_tokens": 24,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.35e-06,
                    "genai_trace.cost.output_usd": 1.44e-05,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.575e-05,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "tools_condition",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "tools_condition",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "tools",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "tools",
                    "genai_trace.langgraph.step": 2,
                    "genai_trace.run.name": "tools",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "execute_tool get_time",
                "kind": "INTERNAL",
                "parent": 4,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_graph",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_t",
                    "gen_ai.tool.description": "The local time in a city.",
                    "gen_ai.tool.name": "get_time",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": 4,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_graph",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_w",
                    "gen_ai.tool.description": "The weather in a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "model",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "model",
                    "genai_trace.langgraph.step": 3,
                    "genai_trace.run.name": "model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 7,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-94797383cc7e83a3",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 27,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 4.05e-06,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 5.25e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "tools_condition",
                "kind": "INTERNAL",
                "parent": 7,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "tools_condition",
                    "genai_trace.run.type": "chain",
                },
            },
        ]
    )


async def test_tool_loop_graph_is_an_agent_in_ainvoke_stream_and_batch(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    graph = _tool_loop("weather_graph")
    await graph.ainvoke(QUESTION)
    assert sorted(_names(otel)) == sorted(AGENT_TREE)
    otel.clear()
    list(graph.stream(QUESTION))
    assert sorted(_names(otel)) == sorted(AGENT_TREE)
    otel.clear()
    graph.batch([QUESTION, QUESTION])
    assert sorted(_names(otel)) == sorted(AGENT_TREE * 2)
    assert len({s.context.trace_id for s in otel.spans() if s.context}) == 2
    lifecycle.check()


def test_agent_graph_inside_a_workflow_graph_is_a_nested_agent(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    outer = StateGraph(MessagesState)
    outer.add_node("route", lambda state: {"messages": []})
    outer.add_node("assistant", _tool_loop("weather_graph"))
    outer.add_edge(START, "route")
    outer.add_edge("route", "assistant")
    outer.add_edge("assistant", END)
    outer.compile(name="pipeline").invoke(QUESTION)
    lifecycle.check()
    names = _names(otel)
    assert names[:4] == [
        ("invoke_workflow pipeline", None),
        ("route", None),
        ("assistant", None),
        ("invoke_agent weather_graph", "weather_graph"),
    ]
    assert sorted(names[3:]) == sorted(AGENT_TREE)


def test_subgraph_inside_an_agent_graph_stays_a_step(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    sub = StateGraph(MessagesState)
    sub.add_node("tidy", lambda state: {"messages": []})
    sub.add_edge(START, "tidy")
    sub.add_edge("tidy", END)
    _tool_loop("weather_graph", extra_node=sub.compile(name="postprocess")).invoke(QUESTION)
    lifecycle.check()
    by_name = {name: agent for name, agent in _names(otel)}
    assert by_name["invoke_agent weather_graph"] == "weather_graph"
    assert "postprocess" in by_name  # a step span, not invoke_agent/invoke_workflow
    assert not [n for n, _ in _names(otel) if n.startswith("invoke_") and "postprocess" in n]


def test_graph_without_tool_node_stays_a_workflow(otel: OTelHarness, instrumented: Any) -> None:
    g = StateGraph(MessagesState)
    g.add_node("echo", lambda state: {"messages": []})
    g.add_edge(START, "echo")
    g.add_edge("echo", END)
    g.compile(name="pipeline").invoke(QUESTION)
    assert _names(otel) == [("invoke_workflow pipeline", None), ("echo", None)]


def test_graph_compiled_before_instrument_is_a_workflow_and_uninstrument_restores_compile(
    otel: OTelHarness,
) -> None:
    from genai_trace_langchain import LangChainInstrumentor

    original = StateGraph.compile
    early = _tool_loop("weather_graph")
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        assert StateGraph.compile is not original
        early.invoke(QUESTION)
    finally:
        inst.uninstrument()
    assert StateGraph.compile is original
    assert _names(otel)[0] == ("invoke_workflow weather_graph", None)


def test_a_failing_mark_never_breaks_compile(
    otel: OTelHarness, instrumented: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genai_trace_langchain import _graph_patch

    def boom(builder: Any) -> bool:
        raise RuntimeError("inspection failed")

    monkeypatch.setattr(_graph_patch, "_has_tool_node", boom)
    out = _tool_loop("weather_graph").invoke(QUESTION)
    assert out["messages"][-1].content == "Sunny, noon."
    assert _names(otel)[0] == ("invoke_workflow weather_graph", None)

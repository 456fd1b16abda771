from __future__ import annotations

from typing import Any, TypedDict

import pytest
from inline_snapshot import snapshot
from langchain_core.messages import AIMessage
from langchain_core.runnables.utils import asyncio_accepts_context
from langchain_core.tools import tool

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

langgraph = pytest.importorskip("langgraph")
from langgraph.graph import END, START, StateGraph  # noqa: E402
from langgraph.prebuilt import create_react_agent  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


class State(TypedDict):
    x: int


def _inc(state: State) -> State:
    return {"x": state["x"] + 1}


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_react_agent_is_one_agent_span_with_nodes_chat_and_tools(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=[call]), "It is sunny in Paris."])
    agent = create_react_agent(model, [get_weather], name="weather_agent")
    out = agent.invoke(
        {"messages": [("user", "weather in Paris?")]},
        config={"callbacks": [handler], "configurable": {"thread_id": "conv-1"}},
    )
    assert out["messages"][-1].content == "It is sunny in Paris."
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_agent weather_agent",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.conversation.id": "conv-1",
                    "gen_ai.operation.name": "invoke_agent",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "weather_agent",
                },
            },
            {
                "name": "agent",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "agent",
                    "genai_trace.langgraph.step": 1,
                    "genai_trace.run.name": "agent",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "call_model",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "call_model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "Prompt",
                "kind": "INTERNAL",
                "parent": 3,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "Prompt",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 3,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                    "gen_ai.response.id": "chatcmpl-2585e791ad73194b",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 7,
                    "gen_ai.usage.output_tokens": 12,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.05e-06,
                    "genai_trace.cost.output_usd": 7.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 8.25e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                },
            },
            {
                "name": "should_continue",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "should_continue",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "tools",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "tools",
                    "genai_trace.langgraph.step": 2,
                    "genai_trace.run.name": "tools",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": 7,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_1",
                    "gen_ai.tool.description": "Weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "agent",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "agent",
                    "genai_trace.langgraph.step": 3,
                    "genai_trace.run.name": "agent",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "call_model",
                "kind": "INTERNAL",
                "parent": 9,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "call_model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 9,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "Prompt",
                "kind": "INTERNAL",
                "parent": 11,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "Prompt",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 11,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-04eddc544cc35199",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 18,
                    "gen_ai.usage.output_tokens": 5,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 2.7e-06,
                    "genai_trace.cost.output_usd": 3e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 5.7e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                },
            },
            {
                "name": "should_continue",
                "kind": "INTERNAL",
                "parent": 9,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "conv-1",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "should_continue",
                    "genai_trace.run.type": "chain",
                },
            },
        ]
    )
    assert handler.telemetry.open_count() == 0


def test_state_graph_with_subgraph_gets_one_span_per_graph_and_node(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")

    def traced_inc(state: State) -> State:
        with tracer.start_as_current_span("user.in_node"):
            return _inc(state)

    sub = StateGraph(State)
    sub.add_node("inner", traced_inc)
    sub.add_edge(START, "inner")
    sub.add_edge("inner", END)
    g = StateGraph(State)
    g.add_node("a", _inc)
    g.add_node("sub", sub.compile(name="enrich"))
    g.add_edge(START, "a")
    g.add_edge("a", "sub")
    g.add_edge("sub", END)
    assert g.compile(name="pipeline").invoke({"x": 1}, config={"callbacks": [handler]}) == {"x": 3}
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow pipeline",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "pipeline",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "pipeline",
                },
            },
            {
                "name": "a",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "a",
                    "genai_trace.langgraph.step": 1,
                    "genai_trace.run.name": "a",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "sub",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "sub",
                    "genai_trace.langgraph.step": 2,
                    "genai_trace.run.name": "sub",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "enrich",
                "kind": "INTERNAL",
                "parent": 2,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "enrich",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "inner",
                "kind": "INTERNAL",
                "parent": 3,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "inner",
                    "genai_trace.langgraph.step": 1,
                    "genai_trace.run.name": "inner",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "user.in_node",
                "kind": "INTERNAL",
                "parent": 4,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


# LangGraph's interrupt() reads the run config from a contextvar; before Python 3.11 asyncio
# cannot hand it to the node's task, so an async graph run cannot interrupt there at all.
_ASYNC_INTERRUPT = pytest.param(
    True,
    id="async",
    marks=pytest.mark.skipif(
        not asyncio_accepts_context(),
        reason="LangGraph interrupt() in an async run needs asyncio tasks that accept a "
        "context (Python >= 3.11); it raises 'Called get_config outside of a runnable context'",
    ),
)


@pytest.mark.parametrize("use_async", [pytest.param(False, id="sync"), _ASYNC_INTERRUPT])
async def test_interrupt_is_not_an_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, use_async: bool
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import interrupt

    def ask(state: State) -> State:
        answer = interrupt("approve?")
        return {"x": state["x"] + int(answer)}

    g = StateGraph(State)
    g.add_node("ask", ask)
    g.add_edge(START, "ask")
    g.add_edge("ask", END)
    app = g.compile(checkpointer=InMemorySaver(), name="approval")
    config: Any = {"callbacks": [handler], "configurable": {"thread_id": "t"}}
    if use_async:
        await app.ainvoke({"x": 1}, config=config)
    else:
        app.invoke({"x": 1}, config=config)
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow approval",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "t",
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "approval",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "approval",
                },
            },
            {
                "name": "ask",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "t",
                    "genai_trace.framework": "langchain",
                    "genai_trace.langgraph.node": "ask",
                    "genai_trace.langgraph.step": 1,
                    "genai_trace.run.name": "ask",
                    "genai_trace.run.type": "chain",
                },
            },
        ]
    )
    assert handler.telemetry.open_count() == 0

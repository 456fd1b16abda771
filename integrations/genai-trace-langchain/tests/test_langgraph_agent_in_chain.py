"""A LangGraph ReAct agent a user's chain invokes is a nested ``invoke_agent``, like one at the
root, in a node or in another agent's tool: its span, its invocation duration (nested) and its
inference and tool call counts. The chain stays a workflow, its other steps stay steps, and the
agent's own nodes stay steps."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain.testing import FakeChatOpenAI

langgraph = pytest.importorskip("langgraph")
from langgraph.prebuilt import create_react_agent  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


def _points(otel: OTelHarness, metric: str, *fields: str) -> list[dict[str, Any]]:
    """A metric's points, attributes and the given fields, in a stable order."""
    points = [
        {"attributes": p["attributes"], **{f: p[f] for f in fields}}
        for p in otel.metrics().get(metric, [])
    ]
    return sorted(points, key=lambda p: sorted(p["attributes"].items()))


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_react_agent_invoked_from_a_chain_is_a_nested_agent(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=[call]), "It is sunny in Paris."])
    agent = create_react_agent(model, [get_weather], name="weather_agent")
    format_agent_reply = RunnableLambda(lambda text: text.upper(), name="format_agent_reply")

    def support_flow(question: str, config: RunnableConfig) -> str:
        out = agent.invoke({"messages": [("user", question)]}, config)
        reply: str = format_agent_reply.invoke(out["messages"][-1].content, config)
        return reply

    assert RunnableLambda(support_flow).invoke("weather in Paris?") == "IT IS SUNNY IN PARIS."
    lifecycle.check()
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow support_flow",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "support_flow",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "support_flow",
                },
            },
            {
                "name": "invoke_agent weather_agent",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": 25,
                    "gen_ai.usage.output_tokens": 17,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "weather_agent",
                },
            },
            {
                "name": "agent",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
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
                "parent": 2,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "call_model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 2,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "Prompt",
                "kind": "INTERNAL",
                "parent": 4,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "Prompt",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 4,
                "status": "UNSET",
                "attributes": {
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
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "should_continue",
                "kind": "INTERNAL",
                "parent": 2,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "should_continue",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "tools",
                "kind": "INTERNAL",
                "parent": 1,
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
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": 8,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_agent",
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
                "parent": 1,
                "status": "UNSET",
                "attributes": {
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
                "parent": 10,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "call_model",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "RunnableSequence",
                "kind": "INTERNAL",
                "parent": 10,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "Prompt",
                "kind": "INTERNAL",
                "parent": 12,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "Prompt",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 12,
                "status": "UNSET",
                "attributes": {
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
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "should_continue",
                "kind": "INTERNAL",
                "parent": 10,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "should_continue",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "format_agent_reply",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "format_agent_reply",
                    "genai_trace.run.type": "chain",
                },
            },
        ]
    )
    assert _points(otel, semconv.METRIC_INVOCATION_DURATION, "count") == snapshot(
        [
            {
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.invocation.is_nested": True,
                },
                "count": 1,
            },
            {
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "support_flow",
                    "gen_ai.invocation.is_nested": False,
                },
                "count": 1,
            },
        ]
    )
    assert _points(otel, semconv.METRIC_AGENT_INFERENCE_CALLS, "count", "sum") == snapshot(
        [
            {
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.invocation.is_nested": True,
                },
                "count": 1,
                "sum": 2,
            }
        ]
    )
    assert _points(otel, semconv.METRIC_AGENT_TOOL_CALLS, "count", "sum") == snapshot(
        [
            {
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.invocation.is_nested": True,
                },
                "count": 1,
                "sum": 1,
            }
        ]
    )

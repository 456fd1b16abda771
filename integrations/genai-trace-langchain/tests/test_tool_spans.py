"""Tool calls are execute_tool spans under the agent, with the call id (taken at end when the start
callback lacks it), description and type, and failed tools marked as errors."""

from __future__ import annotations

import contextlib
import inspect
import uuid
from typing import Any

from inline_snapshot import snapshot
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import BaseTool, tool

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

# langchain-core 1.0.x calls on_tool_error without the tool call's id; later releases pass it.
_TOOL_ERROR_HAS_CALL_ID = "on_tool_error(error_to_raise, tool_call_id" in inspect.getsource(
    BaseTool
)


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


@tool
def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError("backend down")


def test_tool_calling_loop_spans_with_call_ids_and_errors(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    calls = [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"},
        {"name": "broken", "args": {"city": "Oslo"}, "id": "call_2"},
    ]
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=calls), "Sunny in Paris."])
    bound = model.bind_tools([get_weather, broken])
    tools = {"get_weather": get_weather, "broken": broken}

    def agent(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        reply = bound.invoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            with contextlib.suppress(RuntimeError):
                messages.append(tools[call["name"]].invoke(call))
        return str(bound.invoke(messages).content)

    runnable = RunnableLambda(agent).with_config(run_name="weather_agent")
    assert runnable.invoke("weather?", config={"callbacks": [handler]}) == "Sunny in Paris."
    spans = otel.snapshot_dicts()
    # The failed call's id reaches us only where LangChain hands it to on_tool_error.
    failed_call_id = spans[3]["attributes"].pop(semconv.GEN_AI_TOOL_CALL_ID, None)
    assert failed_call_id == ("call_2" if _TOOL_ERROR_HAS_CALL_ID else None)
    assert spans == snapshot(
        [
            {
                "name": "invoke_agent weather_agent",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": 21,
                    "gen_ai.usage.output_tokens": 27,
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "weather_agent",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                    "gen_ai.response.id": "chatcmpl-115ff558a2b5fa03",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 24,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.44e-05,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.515e-05,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": 0,
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
                "name": "execute_tool broken",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "ERROR",
                "attributes": {
                    "error.type": "RuntimeError",
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.description": "Always fails.",
                    "gen_ai.tool.name": "broken",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
                "status_description": "RuntimeError: message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "message not captured: content capture is off",
                            "exception.stacktrace": "... RuntimeError: "
                            "message not captured: content capture is off",
                            "exception.type": "RuntimeError",
                        },
                    }
                ],
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-1132dffff072cdf4",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 16,
                    "gen_ai.usage.output_tokens": 3,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 2.4e-06,
                    "genai_trace.cost.output_usd": 1.8e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 4.2e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
        ]
    )
    points = otel.metrics()[semconv.METRIC_AGENT_TOOL_CALLS]
    assert points[0]["sum"] == 2


def test_tool_call_id_is_taken_at_end_when_the_start_callback_lacks_it(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """langchain-core 1.0.x calls ``on_tool_start`` without ``tool_call_id``: the id then comes
    from the returned ``ToolMessage`` (or ``on_tool_error``'s ``tool_call_id``, when given)."""
    serialized = {"name": "get_weather", "description": "Weather for a city."}
    runs = [uuid.UUID(int=i) for i in range(1, 5)]

    def start(run_id: uuid.UUID) -> uuid.UUID:
        handler.on_tool_start(serialized, "{'city': 'Paris'}", run_id=run_id, inputs={})
        return run_id

    handler.on_tool_end(ToolMessage("Sunny", tool_call_id="call_1"), run_id=start(runs[0]))
    failed = ToolMessage("no", tool_call_id="call_2", status="error")
    handler.on_tool_end(failed, run_id=start(runs[1]))
    handler.on_tool_error(RuntimeError("down"), run_id=start(runs[2]), tool_call_id="call_3")
    handler.on_tool_end("plain string result", run_id=start(runs[3]))
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_1",
                    "gen_ai.tool.description": "Weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "tool_error",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_2",
                    "gen_ai.tool.description": "Weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
                "status_description": "tool_error",
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "RuntimeError",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": "call_3",
                    "gen_ai.tool.description": "Weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
                "status_description": "RuntimeError: message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "message not captured: content capture is off",
                            "exception.stacktrace": "RuntimeError: "
                            "message not captured: content capture is off",
                            "exception.type": "RuntimeError",
                        },
                    }
                ],
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.description": "Weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
        ]
    )

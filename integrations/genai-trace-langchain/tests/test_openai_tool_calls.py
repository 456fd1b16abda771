"""Tool calls over the real client (``ChatOpenAI`` over ``httpx.MockTransport``): chat, tool,
chat nest under the agent, with the call id, tool definitions and captured tool-call parts."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from openai_clients import (
    RESPONSE_MODEL,
    chat_model,
    expected_cost,
    get_weather,
)
from openai_wire import (
    OpenAIWire,
    chat_completion,
    usage,
)

from genai_trace_core import Usage, semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")


def test_tool_calls_over_the_wire_nest_chat_tool_chat_under_the_agent(
    otel: OTelHarness, make_handler: Any, clients: Any
) -> None:
    call = {"id": "call_Wx81", "name": "get_weather", "args": {"city": "Paris"}}
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-wire-tool",
            model=RESPONSE_MODEL,
            content=None,
            token_usage=usage(80, 18),
            tool_calls=[call],
        ),
        chat_completion(
            response_id="chatcmpl-wire-final",
            model=RESPONSE_MODEL,
            content="It is sunny in Paris.",
            token_usage=usage(110, 7, cached=64),
        ),
    )
    bound = chat_model(wire, clients).bind_tools([get_weather])

    def agent(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        reply = bound.invoke(messages)
        messages.append(reply)
        messages.extend(get_weather.invoke(c) for c in reply.tool_calls)
        return str(bound.invoke(messages).content)

    handler = make_handler(capture_mode="SPAN_ONLY")
    runnable = RunnableLambda(agent).with_config(run_name="weather_agent")
    assert runnable.invoke("Weather in Paris?", {"callbacks": [handler]}) == (
        "It is sunny in Paris."
    )

    first, second = wire.bodies()
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    assert second["messages"][-1] == {
        "role": "tool",
        "content": "Sunny in Paris",
        "tool_call_id": "call_Wx81",
    }
    spans = otel.snapshot_dicts()
    assert spans == snapshot(
        [
            {
                "name": "invoke_agent weather_agent",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.agent.name": "weather_agent",
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "Weather in Paris?"}],
                        }
                    ],
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [{"type": "text", "content": "It is sunny in Paris."}],
                            "finish_reason": "stop",
                        }
                    ],
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": 190,
                    "gen_ai.usage.output_tokens": 25,
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
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "Weather in Paris?"}],
                        }
                    ],
                    "gen_ai.operation.name": "chat",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [
                                {
                                    "type": "tool_call",
                                    "id": "call_Wx81",
                                    "name": "get_weather",
                                    "arguments": {"city": "Paris"},
                                }
                            ],
                            "finish_reason": "tool_calls",
                        }
                    ],
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                    "gen_ai.response.id": "chatcmpl-wire-tool",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.tool.definitions": [
                        {
                            "type": "function",
                            "name": "get_weather",
                            "description": "Current weather for a city.",
                            "parameters": {
                                "properties": {"city": {"type": "string"}},
                                "required": ["city"],
                                "type": "object",
                            },
                        }
                    ],
                    "gen_ai.usage.audio.input_tokens": 0,
                    "gen_ai.usage.audio.output_tokens": 0,
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 80,
                    "gen_ai.usage.output_tokens": 18,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.2e-05,
                    "genai_trace.cost.output_usd": 1.08e-05,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 2.28e-05,
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
                    "gen_ai.tool.call.arguments": {"city": "Paris"},
                    "gen_ai.tool.call.id": "call_Wx81",
                    "gen_ai.tool.call.result": '"Sunny in Paris"',
                    "gen_ai.tool.description": "Current weather for a city.",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "Weather in Paris?"}],
                        },
                        {
                            "role": "assistant",
                            "parts": [
                                {
                                    "type": "tool_call",
                                    "id": "call_Wx81",
                                    "name": "get_weather",
                                    "arguments": {"city": "Paris"},
                                }
                            ],
                        },
                        {
                            "role": "tool",
                            "parts": [
                                {
                                    "type": "tool_call_response",
                                    "id": "call_Wx81",
                                    "response": "Sunny in Paris",
                                }
                            ],
                            "name": "get_weather",
                        },
                    ],
                    "gen_ai.operation.name": "chat",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [{"type": "text", "content": "It is sunny in Paris."}],
                            "finish_reason": "stop",
                        }
                    ],
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-wire-final",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.tool.definitions": [
                        {
                            "type": "function",
                            "name": "get_weather",
                            "description": "Current weather for a city.",
                            "parameters": {
                                "properties": {"city": {"type": "string"}},
                                "required": ["city"],
                                "type": "object",
                            },
                        }
                    ],
                    "gen_ai.usage.audio.input_tokens": 0,
                    "gen_ai.usage.audio.output_tokens": 0,
                    "gen_ai.usage.cache_read.input_tokens": 64,
                    "gen_ai.usage.input_tokens": 110,
                    "gen_ai.usage.output_tokens": 7,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 4.8e-06,
                    "genai_trace.cost.input_usd": 6.9e-06,
                    "genai_trace.cost.output_usd": 4.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.59e-05,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
        ]
    )
    chat1, chat2 = spans[1]["attributes"], spans[3]["attributes"]
    for attrs, u in (
        (chat1, Usage(input_tokens=80, output_tokens=18, cache_read_input_tokens=0)),
        (chat2, Usage(input_tokens=110, output_tokens=7, cache_read_input_tokens=64)),
    ):
        assert attrs[semconv.COST_USD] == pytest.approx(expected_cost(RESPONSE_MODEL, u).total_usd)
    points = otel.metrics()
    assert points[semconv.METRIC_AGENT_TOOL_CALLS][0]["sum"] == 1
    assert points[semconv.METRIC_AGENT_INFERENCE_CALLS][0]["sum"] == 2

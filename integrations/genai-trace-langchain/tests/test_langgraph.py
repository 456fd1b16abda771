from __future__ import annotations

from typing import Any, TypedDict

import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables.utils import asyncio_accepts_context
from langchain_core.tools import tool

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
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
    tree = otel.tree()
    agent_node = [
        "agent",
        "INTERNAL",
        "UNSET",
        [
            ["call_model", "INTERNAL", "UNSET", []],
            [
                "RunnableSequence",
                "INTERNAL",
                "UNSET",
                [
                    ["Prompt", "INTERNAL", "UNSET", []],
                    ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ],
            ],
            ["should_continue", "INTERNAL", "UNSET", []],
        ],
    ]
    assert shape(tree) == [
        [
            "invoke_agent weather_agent",
            "INTERNAL",
            "UNSET",
            [
                agent_node,
                [
                    "tools",
                    "INTERNAL",
                    "UNSET",
                    [["execute_tool get_weather", "INTERNAL", "UNSET", []]],
                ],
                agent_node,
            ],
        ],
    ]
    root = tree[0]
    assert root["attributes"][semconv.GEN_AI_AGENT_NAME] == "weather_agent"
    assert root["attributes"][semconv.GEN_AI_CONVERSATION_ID] == "conv-1"
    node = root["children"][1]["attributes"]
    assert node[semconv.LANGGRAPH_NODE] == "tools"
    assert node[semconv.LANGGRAPH_STEP] == 2
    tool_span = root["children"][1]["children"][0]["attributes"]
    assert tool_span[semconv.GEN_AI_TOOL_CALL_ID] == "call_1"
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
    assert shape(otel.tree()) == [
        [
            "invoke_workflow pipeline",
            "INTERNAL",
            "UNSET",
            [
                ["a", "INTERNAL", "UNSET", []],
                [
                    "sub",
                    "INTERNAL",
                    "UNSET",
                    [
                        [
                            "enrich",
                            "INTERNAL",
                            "UNSET",
                            [
                                [
                                    "inner",
                                    "INTERNAL",
                                    "UNSET",
                                    [["user.in_node", "INTERNAL", "UNSET", []]],
                                ],
                            ],
                        ],
                    ],
                ],
            ],
        ],
    ]


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
    statuses = {s["name"]: s["status"] for s in otel.span_dicts()}
    assert statuses == {"invoke_workflow approval": "UNSET", "ask": "UNSET"}
    assert handler.telemetry.open_count() == 0

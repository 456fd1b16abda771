"""A LangGraph app's saved checkpoints are the same with and without the instrumentor."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _calculator() -> Any:
    def model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        if len(state["messages"]) == 1:
            call = {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}
            return {"messages": [AIMessage(content="", id="a1", tool_calls=[call])]}
        return {"messages": [AIMessage(content="3", id="a2")]}

    g = StateGraph(MessagesState)
    g.add_node("model", model)
    g.add_node("tools", ToolNode([add]))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition)
    g.add_edge("tools", "model")
    return g.compile(checkpointer=InMemorySaver(), name="calc")


def _run(app: Any) -> list[dict[str, Any]]:
    config = {"configurable": {"thread_id": "t1"}}
    app.invoke({"messages": [HumanMessage("1+2", id="h1")]}, config)
    return [dict(state.metadata) for state in app.get_state_history(config)]


def test_checkpoint_metadata_is_the_same_with_and_without_instrumentation(
    otel: OTelHarness,
) -> None:
    from genai_trace_langchain import LangChainInstrumentor

    without = _run(_calculator())
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        saved = _run(_calculator())
    finally:
        inst.uninstrument()
    assert saved == without  # the agent mark never reaches the user's checkpointer
    assert shape(otel.tree(), status=False) == [
        [
            "invoke_agent calc",
            "INTERNAL",
            [
                ["model", "INTERNAL", [["tools_condition", "INTERNAL", []]]],
                ["tools", "INTERNAL", [["execute_tool add", "INTERNAL", []]]],
                ["model", "INTERNAL", [["tools_condition", "INTERNAL", []]]],
            ],
        ]
    ]

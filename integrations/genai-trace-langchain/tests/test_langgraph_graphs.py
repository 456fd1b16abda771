"""A LangGraph StateGraph is one invoke_workflow span with a span per node, a subgraph nested under
its node, the user's spans inside; an interrupt is not an error."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest
from inline_snapshot import snapshot
from langchain_core.runnables.utils import asyncio_accepts_context

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

langgraph = pytest.importorskip("langgraph")
from langgraph.graph import END, START, StateGraph  # noqa: E402


class State(TypedDict):
    x: int


def _inc(state: State) -> State:
    return {"x": state["x"] + 1}


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

"""A tool-loop graph the instrumentor marked as an agent stays ``invoke_agent`` when the caller
names the run (``invoke(..., {"run_name": ...})``, ``with_config(run_name=...)``): the span is
named after the run, its ``execute_tool`` spans carry that agent name and the agent metrics get
their record (LangChain README, span table, agent row). Nested graphs keep their own roles."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape

langgraph = pytest.importorskip("langgraph")
from langchain_core.messages import AIMessage, BaseMessage  # noqa: E402
from langchain_core.runnables import RunnableConfig, RunnableLambda  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langgraph.graph import END, START, MessagesState, StateGraph  # noqa: E402
from langgraph.prebuilt import ToolNode, create_react_agent, tools_condition  # noqa: E402

from genai_trace_langchain.testing import FakeChatOpenAI  # noqa: E402


@tool
def look(q: str) -> str:
    """Look something up."""
    return "found"


QUESTION = {"messages": [("user", "Look it up")]}
CHAT = "chat gpt-4o-mini"


def _policy(messages: list[BaseMessage]) -> AIMessage | str:
    if messages[-1].type == "human":
        return AIMessage(content="", tool_calls=[{"name": "look", "args": {"q": "x"}, "id": "c1"}])
    return "Done."


def _tool_loop(name: str, extra_node: Any = None) -> Any:
    model = FakeChatOpenAI(answer_fn=_policy).bind_tools([look])
    g = StateGraph(MessagesState)
    g.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
    g.add_node("tools", ToolNode([look]))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition)
    if extra_node is None:
        g.add_edge("tools", "model")
    else:
        g.add_node("post", extra_node)
        g.add_edge("tools", "post")
        g.add_edge("post", "model")
    return g.compile(name=name)


def _agent_names(otel: OTelHarness) -> dict[str, set[Any]]:
    """Span name -> the ``gen_ai.agent.name`` values its spans carry."""
    out: dict[str, set[Any]] = {}
    for s in otel.spans():
        out.setdefault(s.name, set()).add((s.attributes or {}).get(semconv.GEN_AI_AGENT_NAME))
    return out


def _agent_metric_names(otel: OTelHarness) -> list[Any]:
    points = otel.metrics().get(semconv.METRIC_AGENT_TOOL_CALLS, [])
    return sorted(str(p["attributes"].get(semconv.GEN_AI_AGENT_NAME)) for p in points)


LOOP = [
    ["model", [[CHAT, []], ["tools_condition", []]]],
    ["tools", [["execute_tool look", []]]],
    ["model", [[CHAT, []], ["tools_condition", []]]],
]


@pytest.mark.parametrize("how", ["invoke_config", "with_config"])
def test_a_marked_tool_loop_run_under_a_caller_chosen_name_is_that_agent(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, how: str
) -> None:
    graph = _tool_loop("helper")
    if how == "invoke_config":
        out = graph.invoke(QUESTION, {"run_name": "support_bot"})
    else:
        out = graph.with_config(run_name="support_bot").invoke(QUESTION)
    assert out["messages"][-1].content == "Done."
    lifecycle.check()
    tree = shape(otel.tree(attributes=False), kind=False, status=False)
    assert tree == [["invoke_agent support_bot", LOOP]]
    names = _agent_names(otel)
    assert names["invoke_agent support_bot"] == {"support_bot"}
    assert names["execute_tool look"] == {"support_bot"}
    assert _agent_metric_names(otel) == ["support_bot"]


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_create_react_agent_run_under_a_caller_chosen_name_is_that_agent(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    model = FakeChatOpenAI(answer_fn=_policy)
    agent = create_react_agent(model, [look])  # unnamed: LangGraph calls it "LangGraph"
    agent.invoke(QUESTION, {"run_name": "support_bot"})
    lifecycle.check()
    roots = [s for s in otel.spans() if s.parent is None]
    assert [s.name for s in roots] == ["invoke_agent support_bot"]
    assert _agent_names(otel)["execute_tool look"] == {"support_bot"}
    assert _agent_metric_names(otel) == ["support_bot"]


def test_an_unmarked_subgraph_inside_a_renamed_agent_stays_a_step(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    sub = StateGraph(MessagesState)
    sub.add_node("tidy", lambda state: {"messages": []})
    sub.add_edge(START, "tidy")
    sub.add_edge("tidy", END)
    graph = _tool_loop("helper", extra_node=sub.compile(name="postprocess"))
    graph.invoke(QUESTION, {"run_name": "support_bot"})
    lifecycle.check()
    tree = shape(otel.tree(attributes=False), kind=False, status=False)
    assert tree == [
        [
            "invoke_agent support_bot",
            [
                LOOP[0],
                LOOP[1],
                ["post", [["postprocess", [["tidy", []]]]]],
                LOOP[2],
            ],
        ]
    ]


def test_a_workflow_run_under_a_caller_chosen_name_stays_a_workflow(
    otel: OTelHarness, instrumented: Any
) -> None:
    g = StateGraph(MessagesState)
    g.add_node("echo", lambda state: {"messages": []})
    g.add_edge(START, "echo")
    g.add_edge("echo", END)
    g.compile(name="pipeline").invoke(QUESTION, {"run_name": "nightly"})
    assert shape(otel.tree(attributes=False), kind=False, status=False) == [
        ["invoke_workflow nightly", [["echo", []]]]
    ]


def test_a_chain_given_a_copy_of_a_tool_loop_nodes_metadata_stays_a_workflow(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    # An app hands a tool's metadata (to carry user_id) to a chain it runs on its own thread: the
    # chain is a root whose metadata holds the graph's mark, but it is no agent (found by Z2).
    answer = FakeChatOpenAI(answer_fn=lambda _: "Short.")
    summarize = (RunnableLambda(lambda text: text) | answer).with_config(run_name="summarize")
    copied: list[dict[str, Any]] = []

    @tool
    def save(text: str, config: RunnableConfig) -> str:
        """Save a note."""
        copied.append(dict(config.get("metadata") or {}))
        return "saved"

    def policy(messages: list[BaseMessage]) -> AIMessage | str:
        if messages[-1].type == "human":
            return AIMessage(
                content="", tool_calls=[{"name": "save", "args": {"text": "x"}, "id": "c"}]
            )
        return "Done."

    model = FakeChatOpenAI(answer_fn=policy).bind_tools([save])
    g = StateGraph(MessagesState)
    g.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
    g.add_node("tools", ToolNode([save]))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition)
    g.add_edge("tools", "model")
    g.compile(name="notes_agent").invoke(QUESTION, {"metadata": {"user_id": "alice"}})
    [metadata] = copied
    assert any(k.startswith("__genai_trace_agent_graph:") for k in metadata)
    worker = threading.Thread(target=summarize.invoke, args=("x", {"metadata": metadata}))
    worker.start()
    worker.join()

    lifecycle.check()
    roots = sorted(s.name for s in otel.spans() if s.parent is None)
    assert roots == ["invoke_agent notes_agent", "invoke_workflow summarize"]

"""LangChain 1.x ``create_agent(name=...)`` compiles its graph with ``lc_agent_name`` metadata,
and every run inside inherits it: a chain a middleware hook or a tool runs (and its prompt and
parser) carries the agent's name too. Only the agent's own graph (and a sub-agent's, named like its
own metadata) is an ``invoke_agent`` span; the chains inside stay steps. Before the fix each such
chain, prompt and parser was one more ``invoke_agent boss`` span, and an unnamed sub-agent took
its parent's name.

``langchain`` is not a dependency: ``_agent`` builds the graph exactly as ``create_agent`` does
(``compile(name=...).with_config`` with its metadata); the last test runs the real one when
``langchain`` is installed."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain.testing import FakeChatOpenAI

SUMMARY = ChatPromptTemplate.from_messages([("user", "Summarise {topic}")])


def _summarise(topic: str) -> str:
    return (SUMMARY | FakeChatOpenAI(responses=["short"]) | StrOutputParser()).invoke(
        {"topic": topic}
    )


def _agent(model: Any, tools: list[Any], name: str | None) -> Any:
    """A graph as ``create_agent`` compiles it: a middleware hook, the model, the tools."""

    def guard(state: MessagesState) -> dict[str, Any]:  # a before_model hook running a chain
        _summarise("the conversation")
        return {}

    bound = model.bind_tools(tools) if tools else model

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    g = StateGraph(MessagesState)
    g.add_node("guard.before_model", guard)
    g.add_node("model", call_model)
    g.add_edge(START, "guard.before_model")
    g.add_edge("guard.before_model", "model")
    if tools:
        g.add_node("tools", ToolNode(tools))
        g.add_conditional_edges("model", tools_condition)
        g.add_edge("tools", "guard.before_model")  # before_model runs before every model call
    metadata = {"ls_integration": "langchain_create_agent"}
    if name:
        metadata["lc_agent_name"] = name
    return g.compile(name=name).with_config({"recursion_limit": 9_999, "metadata": metadata})


def _policy(messages: list[BaseMessage]) -> AIMessage | str:
    if messages[-1].type == "human":
        calls = [{"name": "research", "args": {"topic": "tides"}, "id": "c1"}]
        return AIMessage(content="", tool_calls=calls)
    return "Done."


@tool
def research(topic: str) -> str:
    """Researches a topic with a chain."""
    return _summarise(topic)


EXPERT = _agent(FakeChatOpenAI(responses=["Ask the moon."]), [], "expert")


@tool
def ask_expert(question: str) -> str:
    """Asks the expert sub-agent."""
    return str(EXPERT.invoke({"messages": [HumanMessage(question)]})["messages"][-1].content)


def _shape(otel: OTelHarness) -> list[Any]:
    """``[name, agent name, children]`` per span, children in start order."""
    spans = sorted(otel.spans(), key=lambda s: s.start_time or 0)
    ids = {s.context.span_id for s in spans}
    nodes: dict[int, list[Any]] = {}
    roots: list[Any] = []
    for s in spans:
        node = [s.name, (s.attributes or {}).get(semconv.GEN_AI_AGENT_NAME), []]
        nodes[s.context.span_id] = node
        parent = s.parent.span_id if s.parent is not None else None
        (nodes[parent][2] if parent is not None and parent in ids else roots).append(node)
    return roots


# ``prompt | model | parser``, as a middleware hook or a tool runs it: a step, never an agent.
CHAIN: list[Any] = [
    "RunnableSequence",
    None,
    [
        ["ChatPromptTemplate", None, []],
        ["chat gpt-4o-mini", None, []],
        ["StrOutputParser", None, []],
    ],
]


def test_chains_inside_a_create_agent_graph_are_steps(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    boss = _agent(FakeChatOpenAI(answer_fn=_policy), [research], "boss")
    out = boss.invoke({"messages": [HumanMessage("Tides?")]})
    assert out["messages"][-1].content == "Done."
    lifecycle.check()
    guard = ["guard.before_model", None, [CHAIN]]
    model: list[Any] = [
        "model",
        None,
        [["chat gpt-4o-mini", None, []], ["tools_condition", None, []]],
    ]
    tools = ["tools", None, [["execute_tool research", "boss", [CHAIN]]]]
    assert _shape(otel) == [["invoke_agent boss", "boss", [guard, model, tools, guard, model]]]


def test_a_sub_agent_in_a_tool_is_an_agent_of_its_own_name(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    # An unnamed agent with tools (compiled while instrumented: its ToolNode makes it an agent)
    # inherits the boss's lc_agent_name; it was ``invoke_agent boss`` before the fix.
    helper = _agent(FakeChatOpenAI(answer_fn=_policy), [research], None)

    @tool
    def ask_helper(question: str) -> str:
        """Asks the unnamed helper sub-agent."""
        return str(helper.invoke({"messages": [HumanMessage(question)]})["messages"][-1].content)

    calls = [
        {"name": "ask_expert", "args": {"question": "Tides?"}, "id": "c1"},
        {"name": "ask_helper", "args": {"question": "Tides?"}, "id": "c2"},
    ]
    model = FakeChatOpenAI(responses=[AIMessage(content="", tool_calls=calls), "Done."])
    boss = _agent(model, [ask_expert, ask_helper], "boss")
    assert boss.invoke({"messages": [HumanMessage("Tides?")]})["messages"][-1].content == "Done."
    lifecycle.check()
    root = _shape(otel)[0]
    assert root[:2] == ["invoke_agent boss", "boss"]
    tools = root[2][2]
    assert tools[0] == "tools"
    by_tool = {t[0]: t[2] for t in tools[2]}  # ToolNode runs the two calls in threads
    guard: list[Any] = ["guard.before_model", None, [CHAIN]]
    answer: list[Any] = ["model", None, [["chat gpt-4o-mini", None, []]]]
    assert by_tool["execute_tool ask_expert"] == [
        ["invoke_agent expert", "expert", [guard, answer]]
    ]
    loop: list[Any] = [
        "model",
        None,
        [["chat gpt-4o-mini", None, []], ["tools_condition", None, []]],
    ]
    research_step: list[Any] = ["tools", None, [["execute_tool research", None, [CHAIN]]]]
    helper_tree = [guard, loop, research_step, guard, loop]
    assert by_tool["execute_tool ask_helper"] == [["invoke_agent", None, helper_tree]]


def test_real_create_agent_with_a_middleware_running_a_chain(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    agents = pytest.importorskip("langchain.agents")
    middleware = pytest.importorskip("langchain.agents.middleware")

    @middleware.before_model
    def guard(state: Any, runtime: Any) -> None:
        _summarise("the conversation")

    agent = agents.create_agent(
        FakeChatOpenAI(answer_fn=_policy), tools=[research], middleware=[guard], name="boss"
    )
    out = agent.invoke({"messages": [HumanMessage("Tides?")]})
    assert out["messages"][-1].content == "Done."
    lifecycle.check()
    agent_spans = [s.name for s in otel.spans() if s.name.startswith("invoke_agent")]
    assert agent_spans == ["invoke_agent boss"]

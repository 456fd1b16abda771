"""LangChain and LangGraph programs as users write them, under the instrumentor: per-input batch
configs with a failing input, a parser at the end of a stream, a graph read through every stream
mode, a tool loop written by hand. Each request is one trace with the whole tree, every span ends,
the program's own results are unchanged and OpenTelemetry logs nothing."""

from __future__ import annotations

import asyncio
import logging
import operator
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import ToolException, tool
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, RetryPolicy

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, span_tree
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

PROMPT = ChatPromptTemplate.from_messages([("user", "{q}")])


@pytest.fixture
def traced(otel: OTelHarness, caplog: pytest.LogCaptureFixture) -> Iterator[OTelHarness]:
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        with caplog.at_level(logging.WARNING, logger="opentelemetry"):
            yield otel
        assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
    finally:
        inst.uninstrument()


def _trees(otel: OTelHarness) -> list[Any]:
    by_trace: dict[int, list[Any]] = {}
    for s in otel.spans():
        by_trace.setdefault(s.context.trace_id, []).append(s)
    return [shape(span_tree(spans)) for spans in by_trace.values()]


def _step(name: str, status: str = "UNSET") -> list[Any]:
    return [name, "INTERNAL", status, []]


CHAT = ["chat gpt-4o-mini", "CLIENT", "UNSET", []]


def _checked(x: dict[str, str]) -> dict[str, str]:
    if x["q"] == "bad":
        raise ValueError("refused")
    return x


def test_batch_with_a_config_per_input_and_a_failing_input(traced: OTelHarness) -> None:
    chain = RunnableLambda(_checked) | PROMPT | FakeChatOpenAI() | StrOutputParser()
    configs: list[Any] = [
        {"run_name": "first", "metadata": {"user_id": "u1"}},
        {"run_name": "second", "metadata": {"user_id": "u2"}},
        {"run_name": "third", "metadata": {"user_id": "u3"}, "max_concurrency": 1},
    ]
    inputs = [{"q": "one"}, {"q": "bad"}, {"q": "three"}]
    out: list[Any] = chain.batch(inputs, config=configs, return_exceptions=True)
    assert out[0] == "Answer: one" and out[2] == "Answer: three"
    assert isinstance(out[1], ValueError) and str(out[1]) == "refused"
    ok = [_step("_checked"), _step("ChatPromptTemplate"), CHAT, _step("StrOutputParser")]
    failed = [["invoke_workflow second", "INTERNAL", "ERROR", [_step("_checked", "ERROR")]]]
    assert sorted(_trees(traced)) == sorted(
        [
            [["invoke_workflow first", "INTERNAL", "UNSET", ok]],
            failed,
            [["invoke_workflow third", "INTERNAL", "UNSET", ok]],
        ]
    )
    users = {s.name: (s.attributes or {}).get(semconv.USER_ID) for s in traced.spans()}
    assert {k: v for k, v in users.items() if k.startswith("invoke_workflow")} == {
        "invoke_workflow first": "u1",
        "invoke_workflow second": "u2",
        "invoke_workflow third": "u3",
    }
    errors = [s for s in traced.spans() if s.status.status_code.name == "ERROR"]
    assert {(s.attributes or {}).get(semconv.ERROR_TYPE) for s in errors} == {"ValueError"}


def test_a_stream_ending_in_a_json_parser_yields_its_partial_objects(traced: OTelHarness) -> None:
    model = FakeChatOpenAI(responses=['{"city": "Oslo", "temp": 3}'])
    chain = (PROMPT | model | JsonOutputParser()).with_config(run_name="extract")
    assert list(chain.stream({"q": "weather"})) == [
        {},
        {"city": "Oslo"},
        {"city": "Oslo", "temp": 3},
    ]
    steps = [_step("ChatPromptTemplate"), CHAT, _step("JsonOutputParser")]
    assert _trees(traced) == [[["invoke_workflow extract", "INTERNAL", "UNSET", steps]]]


class _State(TypedDict):
    q: str
    out: Annotated[list[str], operator.add]


def _graph() -> Any:
    model = FakeChatOpenAI()
    tries = {"n": 0}

    def route(state: _State) -> Command[Any]:
        return Command(goto="ask", update={"out": ["routed"]})

    def ask(state: _State, config: RunnableConfig) -> dict[str, Any]:
        tries["n"] += 1  # config passed on: Python 3.10's async runs need it (README)
        answer = str(model.invoke(state["q"], config).content)
        if tries["n"] % 2:  # every first attempt fails once; RetryPolicy runs it again
            raise ConnectionError("flaky")
        return {"out": [answer]}

    def left(state: _State) -> dict[str, Any]:
        return {"out": ["left"]}

    g = StateGraph(_State)
    g.add_node("route", route)
    retry = RetryPolicy(max_attempts=2, initial_interval=0.001, retry_on=ConnectionError)
    g.add_node("ask", ask, retry_policy=retry)
    g.add_node("left", left)
    g.add_edge(START, "route")
    g.add_edge("ask", "left")
    g.add_edge("left", END)
    return g.compile(name="router")


GRAPH = [
    [
        "invoke_workflow router",
        "INTERNAL",
        "UNSET",
        [
            _step("route"),
            ["ask", "INTERNAL", "ERROR", [CHAT]],
            ["ask", "INTERNAL", "UNSET", [CHAT]],
            _step("left"),
        ],
    ]
]


@pytest.mark.parametrize(
    "read",
    ["invoke", "updates", "messages", "values", "modes", "subgraphs", "astream_events"],
)
def test_a_graph_is_one_tree_whichever_way_it_is_read(traced: OTelHarness, read: str) -> None:
    app = _graph()
    start: dict[str, Any] = {"q": "hello", "out": []}
    if read == "invoke":
        assert app.invoke(start)["out"] == ["routed", "Answer: hello", "left"]
    elif read == "astream_events":

        async def events() -> int:
            return len([e async for e in app.astream_events(start, version="v2")])

        assert asyncio.run(events()) > 0
    else:
        mode: Any = {"modes": ["updates", "messages"], "subgraphs": "updates"}.get(read, read)
        assert list(app.stream(start, stream_mode=mode, subgraphs=read == "subgraphs"))
    assert _trees(traced) == [GRAPH]
    errors = [(s.attributes or {}).get(semconv.ERROR_TYPE) for s in traced.spans()]
    assert [e for e in errors if e] == ["ConnectionError"]


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def flaky(city: str) -> str:
    """Always down."""
    raise ToolException("service down")


flaky.handle_tool_error = True


def test_a_tool_loop_written_by_hand_sums_its_models_tokens(traced: OTelHarness) -> None:
    calls = [
        {"name": "weather", "args": {"city": "Paris"}, "id": "c1"},
        {"name": "flaky", "args": {"city": "Rome"}, "id": "c2"},
    ]
    model = FakeChatOpenAI(responses=[AIMessage(content="", tool_calls=calls), "Sunny."])
    llm = model.bind_tools([weather, flaky])
    tools = {"weather": weather, "flaky": flaky}

    def loop(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        while True:
            reply = llm.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                return str(reply.content)
            messages += [tools[c["name"]].invoke(c) for c in reply.tool_calls]

    assert RunnableLambda(loop).with_config(run_name="trip_agent").invoke("Weather?") == "Sunny."
    steps = [
        CHAT,
        _step("execute_tool weather"),
        _step("execute_tool flaky", "ERROR"),
        CHAT,
    ]
    assert _trees(traced) == [[["invoke_agent trip_agent", "INTERNAL", "UNSET", steps]]]
    spans = {s.name: s for s in traced.spans()}
    agent = spans["invoke_agent trip_agent"].attributes or {}
    chats = [s.attributes or {} for s in traced.spans() if s.name.startswith("chat")]
    for key in (semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.GEN_AI_USAGE_OUTPUT_TOKENS):
        assert agent[key] == sum(c[key] for c in chats) > 0
    tool_error = spans["execute_tool flaky"].attributes or {}
    assert tool_error[semconv.ERROR_TYPE] == semconv.ERROR_TYPE_TOOL_ERROR

"""The caller's own spans around a stream loop, two handlers on one run, and a huge prompt from a
model that reports no usage: what the app sees and what is exported, through real entry points."""

from __future__ import annotations

import time
from typing import Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

QA = [
    "invoke_workflow qa",
    "INTERNAL",
    "UNSET",
    [
        ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
        ["StrOutputParser", "INTERNAL", "UNSET", []],  # closed after the break: no error
    ],
]


def _chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | FakeChatOpenAI() | StrOutputParser()).with_config(run_name="qa")


def _span(name: str) -> list[Any]:
    return [name, "INTERNAL", "UNSET", []]


def test_spans_in_a_stream_loop_and_after_a_break_nest_under_the_caller(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("request"):
        stream = _chain().stream({"q": "tell me a long story"}, config={"callbacks": [handler]})
        for i, _chunk in enumerate(stream):
            with tracer.start_as_current_span(f"body{i}"):
                pass
            if i == 1:
                break
        with tracer.start_as_current_span("after"):  # the generator is still referenced
            pass
        stream.close()
    assert shape(otel.tree()) == [
        ["request", "INTERNAL", "UNSET", [QA, _span("body0"), _span("body1"), _span("after")]]
    ]
    lifecycle.check()
    assert handler.telemetry.open_count() == 0


def test_a_streamed_model_loop_body_nests_under_the_caller(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("request"):
        for i, _chunk in enumerate(
            FakeChatOpenAI().stream("a long answer please", config={"callbacks": [handler]})
        ):
            if i < 2:
                with tracer.start_as_current_span(f"body{i}"):
                    pass
        with tracer.start_as_current_span("after"):
            pass
    chat = ["chat gpt-4o-mini", "CLIENT", "UNSET", []]
    assert shape(otel.tree()) == [
        ["request", "INTERNAL", "UNSET", [chat, _span("body0"), _span("body1"), _span("after")]]
    ]
    [span] = [s for s in otel.span_dicts() if s["name"] == "chat gpt-4o-mini"]
    assert span["attributes"][semconv.GEN_AI_REQUEST_STREAM] is True
    lifecycle.check()


async def test_spans_in_an_astream_loop_nest_under_the_caller(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("request"):
        async for _chunk in _chain().astream({"q": "hi there"}, config={"callbacks": [handler]}):
            with tracer.start_as_current_span("body"):
                pass
        async for event in _chain().astream_events({"q": "hi"}, config={"callbacks": [handler]}):
            if event["event"] == "on_chat_model_stream":
                with tracer.start_as_current_span("event"):
                    pass
    request = otel.tree()
    assert len(request) == 1
    children = [c["name"] for c in request[0]["children"]]
    assert children.count("invoke_workflow qa") == 2
    assert {"body", "event"} <= set(children)  # never inside the chain's spans
    lifecycle.check()


def test_instrumentor_plus_a_handler_on_the_model_is_one_chat_span_counted_once(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    own = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    model = FakeChatOpenAI(callbacks=[own])
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    (prompt | model | StrOutputParser()).with_config(run_name="qa").invoke({"q": "hi"})
    model.invoke("alone")
    assert shape(otel.tree()) == [
        [
            "invoke_workflow qa",
            "INTERNAL",
            "UNSET",
            [
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["StrOutputParser", "INTERNAL", "UNSET", []],
            ],
        ],
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
    ]
    chats = [s for s in otel.span_dicts() if s["name"] == "chat gpt-4o-mini"]
    inputs = sum(s["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS] for s in chats)
    points = otel.metrics()[semconv.METRIC_USAGE_INPUT_TOKENS]
    metric_inputs = sum(p["value"] for p in points)
    assert metric_inputs == inputs > 0
    assert own.telemetry.open_count() == 0
    lifecycle.check()


class _TimedHandler(OpenTelemetryCallbackHandler):
    """Measures the time this handler's callbacks take on the app's thread."""

    spent = 0.0

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        super().on_chat_model_start(*args, **kwargs)
        self.spent += time.perf_counter() - t0

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        super().on_llm_end(*args, **kwargs)
        self.spent += time.perf_counter() - t0


@pytest.mark.parametrize("offline_counts", [False, True], ids=["default", "opt-in-tiktoken"])
def test_a_10_mb_prompt_to_a_model_without_usage_costs_milliseconds_not_seconds(
    otel: OTelHarness, lifecycle: Lifecycle, offline_counts: bool
) -> None:
    handler = _TimedHandler(telemetry=otel.telemetry(estimate_usage=offline_counts))
    prompt = "The quick brown fox jumps over the lazy dog. " * 230_000  # ~10 MB
    GenericFakeChatModel(messages=iter([AIMessage("warm")])).invoke(
        "warm up", config={"callbacks": [handler]}
    )  # loads the encoding (opted in)
    handler.spent = 0.0
    model = GenericFakeChatModel(messages=iter([AIMessage("ok")]))
    model.invoke([HumanMessage(prompt)], config={"callbacks": [handler]})
    assert handler.spent < 0.25  # reading the whole prompt took ~1.3 s here, 8 s in the issue
    span = otel.span_dicts()[-1]
    a = span["attributes"]
    assert a[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED
    if offline_counts:  # tiktoken, bounded: 16K characters read, the rest extrapolated
        exact = 10 * 230_000  # 10 tokens a sentence in cl100k_base (the default estimator)
        assert a[semconv.USAGE_ESTIMATOR] == "cl100k_base"
        assert abs(a[semconv.GEN_AI_USAGE_INPUT_TOKENS] - exact) / exact < 0.02
    else:  # ceil(chars / 4): 45 characters a sentence
        assert a[semconv.USAGE_ESTIMATOR] == "heuristic"
        assert a[semconv.USAGE_ESTIMATED_INPUT_TOKENS] == -(-45 * 230_000 // 4)
    lifecycle.check()


def test_spans_in_a_langgraph_stream_loop_nest_under_the_caller_and_node_spans_under_nodes(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    graph_mod = pytest.importorskip("langgraph.graph")
    tracer = otel.tracer_provider.get_tracer("user")

    class State(TypedDict):
        x: int

    def node(state: State) -> State:
        with tracer.start_as_current_span("in_node"):
            return {"x": state["x"] + 1}

    g = graph_mod.StateGraph(State)
    g.add_node("a", node)
    g.add_node("b", node)
    g.add_edge(graph_mod.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", graph_mod.END)
    app = g.compile()
    with tracer.start_as_current_span("request"):
        for _update in app.stream({"x": 1}, config={"callbacks": [handler]}):
            with tracer.start_as_current_span("body"):
                pass
    in_node = [_span("in_node")]
    assert shape(otel.tree()) == [
        [
            "request",
            "INTERNAL",
            "UNSET",
            [
                [
                    "invoke_workflow",
                    "INTERNAL",
                    "UNSET",
                    [["a", "INTERNAL", "UNSET", in_node], ["b", "INTERNAL", "UNSET", in_node]],
                ],
                _span("body"),
                _span("body"),
            ],
        ]
    ]
    lifecycle.check()

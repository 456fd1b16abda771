from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from langchain_core.callbacks.manager import dispatch_custom_event
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.utils import asyncio_accepts_context
from langchain_core.tools import tool
from opentelemetry import trace

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, requires_async_root_activation
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

# Before Python 3.11 asyncio cannot run a task in a given context, so LangChain cannot hand the
# run config (callbacks included) to async code implicitly: our handler is never called there.
needs_async_context = pytest.mark.skipif(
    not asyncio_accepts_context(),
    reason="LangChain propagates the run config into async code only when asyncio tasks accept "
    "a context (Python >= 3.11); on 3.10 it must be passed explicitly (tested separately)",
)


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


@tool
def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError("backend down")


def test_streaming_records_ttfc_chunk_metrics_and_usage_from_final_chunk(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(cached_tokens=2, reasoning_tokens=3)
    chunks = list(model.stream("tell me a long story", config={"callbacks": [handler]}))
    assert len(chunks) > 3
    [span] = otel.tree()
    a = span["attributes"]
    assert span["name"] == "chat gpt-4o-mini"
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    assert a[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    assert a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 2
    assert a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 3
    assert a[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_PROVIDER
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_INFERENCE_TTFC][0]["count"] == 1
    # one gap per chunk after the first (LangChain reports every chunk, the final one included)
    assert metrics[semconv.METRIC_INFERENCE_TPOC][0]["count"] == len(chunks) - 1


def test_usage_is_estimated_when_the_model_reports_none(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    model = GenericFakeChatModel(messages=iter([AIMessage("four words of output")]))
    model.invoke("two words", config={"callbacks": [handler]})
    [span] = otel.tree()
    # an unresolvable model still gets a span, named after the operation alone
    assert span["name"] == "chat"
    a = span["attributes"]
    assert a[semconv.GEN_AI_PROVIDER_NAME] == "unknown"
    assert a[semconv.USAGE_SOURCE] == semconv.USAGE_SOURCE_ESTIMATED
    # an offline count is ours unless the user opts in (GENAI_TRACE_ESTIMATE_USAGE)
    assert a[semconv.USAGE_ESTIMATED_INPUT_TOKENS] == 2
    assert a[semconv.USAGE_ESTIMATED_OUTPUT_TOKENS] == 4
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in a


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
    tree = otel.tree()
    assert shape(tree) == [
        [
            "invoke_agent weather_agent",
            "INTERNAL",
            "UNSET",
            [
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["execute_tool get_weather", "INTERNAL", "UNSET", []],
                ["execute_tool broken", "INTERNAL", "ERROR", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ],
        ],
    ]
    agent_span, first_chat, ok_tool, bad_tool, _ = [tree[0], *tree[0]["children"]]
    assert agent_span["attributes"][semconv.GEN_AI_AGENT_NAME] == "weather_agent"
    assert first_chat["attributes"][semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["tool_calls"]
    assert ok_tool["attributes"][semconv.GEN_AI_TOOL_CALL_ID] == "call_1"
    assert ok_tool["attributes"][semconv.GEN_AI_TOOL_DESCRIPTION] == "Weather for a city."
    assert ok_tool["attributes"][semconv.GEN_AI_TOOL_TYPE] == "function"
    assert bad_tool["attributes"][semconv.ERROR_TYPE] == "RuntimeError"
    assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in ok_tool["attributes"]
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
    keys = (semconv.GEN_AI_TOOL_CALL_ID, semconv.ERROR_TYPE)
    assert otel.tree(attributes=keys) == [
        {
            "name": "execute_tool get_weather",
            "kind": "INTERNAL",
            "status": status,
            "attributes": attributes,
            "children": [],
        }
        for status, attributes in [
            ("UNSET", {semconv.GEN_AI_TOOL_CALL_ID: "call_1"}),
            ("ERROR", {semconv.GEN_AI_TOOL_CALL_ID: "call_2", semconv.ERROR_TYPE: "tool_error"}),
            ("ERROR", {semconv.GEN_AI_TOOL_CALL_ID: "call_3", semconv.ERROR_TYPE: "RuntimeError"}),
            ("UNSET", {}),
        ]
    ]


def test_user_spans_inside_tool_and_lambda_nest_under_langchain_spans_sync(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")

    @tool
    def lookup(q: str) -> str:
        """Look up."""
        with tracer.start_as_current_span("user.in_tool"):
            return q

    def step(x: str) -> str:
        with tracer.start_as_current_span("user.in_lambda"):
            return lookup.invoke({"q": x})

    outer_before = trace.get_current_span()
    RunnableLambda(step).with_config(run_name="pipeline").invoke(
        "x", config={"callbacks": [handler]}
    )
    assert trace.get_current_span() is outer_before
    assert shape(otel.tree()) == [
        [
            "invoke_workflow pipeline",
            "INTERNAL",
            "UNSET",
            [
                [
                    "user.in_lambda",
                    "INTERNAL",
                    "UNSET",
                    [
                        [
                            "execute_tool lookup",
                            "INTERNAL",
                            "UNSET",
                            [
                                ["user.in_tool", "INTERNAL", "UNSET", []],
                            ],
                        ],
                    ],
                ],
            ],
        ],
    ]


_ASYNC_TREE: list[Any] = [
    [
        "invoke_workflow pipeline",
        "INTERNAL",
        "UNSET",
        [
            [
                "user.in_lambda",
                "INTERNAL",
                "UNSET",
                [
                    [
                        "execute_tool alookup",
                        "INTERNAL",
                        "UNSET",
                        [
                            ["user.in_tool", "INTERNAL", "UNSET", []],
                        ],
                    ],
                ],
            ],
        ],
    ],
]


@needs_async_context
@requires_async_root_activation
async def test_user_spans_inside_tool_and_lambda_nest_under_langchain_spans_async(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")

    @tool
    async def alookup(q: str) -> str:
        """Look up."""
        with tracer.start_as_current_span("user.in_tool"):
            return q

    async def step(x: str) -> str:
        with tracer.start_as_current_span("user.in_lambda"):
            return await alookup.ainvoke({"q": x})  # config reaches the tool implicitly

    await (
        RunnableLambda(step)
        .with_config(run_name="pipeline")
        .ainvoke("x", config={"callbacks": [handler]})
    )
    assert shape(otel.tree()) == _ASYNC_TREE


@requires_async_root_activation
async def test_user_spans_inside_tool_and_lambda_nest_async_with_config_passed_explicitly(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """What LangChain asks for on Python 3.10: the config handed on by hand; same tree."""
    tracer = otel.tracer_provider.get_tracer("user")

    @tool
    async def alookup(q: str) -> str:
        """Look up."""
        with tracer.start_as_current_span("user.in_tool"):
            return q

    async def step(x: str, config: RunnableConfig) -> str:
        with tracer.start_as_current_span("user.in_lambda"):
            return await alookup.ainvoke({"q": x}, config)

    await (
        RunnableLambda(step)
        .with_config(run_name="pipeline")
        .ainvoke("x", config={"callbacks": [handler]})
    )
    assert shape(otel.tree()) == _ASYNC_TREE


def test_retry_and_custom_events_become_span_events(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    attempts = {"n": 0}

    def flaky(x: str) -> str:
        dispatch_custom_event("progress", {"secret": "payload"})
        attempts["n"] += 1
        if attempts["n"] < 2:
            raise ValueError("transient")
        return x

    r = RunnableLambda(flaky).with_retry(
        stop_after_attempt=3, wait_exponential_jitter=False, retry_if_exception_type=(ValueError,)
    )
    r.invoke("x", config={"callbacks": [handler], "run_name": "flaky_flow"})
    spans = otel.span_dicts()
    events = {s["name"]: s["events"] for s in spans}
    assert semconv.EVENT_RETRY in events["invoke_workflow flaky_flow"]
    assert events["flaky"].count(semconv.EVENT_CUSTOM) == 1  # per attempt run
    assert "payload" not in repr([s.events for s in otel.spans()])


def test_provider_spans_are_suppressed_inside_the_chat_call_only(
    otel: OTelHarness, make_handler: Any
) -> None:
    """A provider instrumentation that honours the suppression key (OpenLLMetry's) emits no
    second LLM span inside our chat span; outside the call it does."""
    from opentelemetry import context

    from genai_trace_core.lifecycle._suppress import SUPPRESS_LANGUAGE_MODEL_KEY

    tracer = otel.tracer_provider.get_tracer("provider")

    def provider_call() -> None:
        if not context.get_value(SUPPRESS_LANGUAGE_MODEL_KEY):
            tracer.start_span("openai.chat").end()

    class ProviderModel(FakeChatOpenAI):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            provider_call()
            return super()._generate(*args, **kwargs)

    ProviderModel().invoke("hi", config={"callbacks": [make_handler()]})
    provider_call()
    assert shape(otel.tree()) == [
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
        ["openai.chat", "INTERNAL", "UNSET", []],
    ]
    otel.clear()
    ProviderModel().invoke(
        "hi", config={"callbacks": [make_handler(suppress_provider_spans=False)]}
    )
    assert shape(otel.tree()) == [
        ["chat gpt-4o-mini", "CLIENT", "UNSET", [["openai.chat", "INTERNAL", "UNSET", []]]],
    ]


def test_metadata_and_tags_attribution(otel: OTelHarness, make_handler: Any) -> None:
    handler = make_handler(metadata_keys=("tenant_plan",))
    FakeChatOpenAI().invoke(
        "hi",
        config={
            "callbacks": [handler],
            "tags": ["beta"],
            "metadata": {"thread_id": "t-1", "user_id": "u-7", "tenant_plan": "pro", "other": "x"},
        },
    )
    [span] = otel.tree()
    a = span["attributes"]
    assert a[semconv.GEN_AI_CONVERSATION_ID] == "t-1"
    assert a[semconv.USER_ID] == "u-7"
    assert a[semconv.METADATA_PREFIX + "tenant_plan"] == "pro"
    assert semconv.METADATA_PREFIX + "other" not in a
    assert a[semconv.RUN_TAGS] == ["beta"]


def test_chain_error_marks_the_chain_and_model_spans(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(fail_with=ValueError("bad request"))
    with pytest.raises(ValueError):
        (RunnableLambda(lambda x: x) | model).invoke("x", config={"callbacks": [handler]})
    tree = otel.tree()
    assert shape(tree) == [
        [
            "invoke_workflow",
            "INTERNAL",
            "ERROR",
            [
                ["RunnableLambda", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
            ],
        ],
    ]
    assert tree[0]["children"][1]["attributes"][semconv.ERROR_TYPE] == "ValueError"
    assert handler.telemetry.open_count() == 0

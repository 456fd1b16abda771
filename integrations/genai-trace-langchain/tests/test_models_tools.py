from __future__ import annotations

import contextlib
import inspect
import uuid
from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.callbacks.manager import dispatch_custom_event
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.utils import asyncio_accepts_context
from langchain_core.tools import BaseTool, tool
from opentelemetry import trace

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, requires_async_root_activation
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

# Before Python 3.11 asyncio cannot run a task in a given context, so LangChain cannot hand the
# run config (callbacks included) to async code implicitly: our handler is never called there.
needs_async_context = pytest.mark.skipif(
    not asyncio_accepts_context(),
    reason="LangChain propagates the run config into async code only when asyncio tasks accept "
    "a context (Python >= 3.11); on 3.10 it must be passed explicitly (tested separately)",
)

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


def test_streaming_records_ttfc_chunk_metrics_and_usage_from_final_chunk(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(cached_tokens=2, reasoning_tokens=3)
    chunks = list(model.stream("tell me a long story", config={"callbacks": [handler]}))
    assert len(chunks) > 3
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-31331e7a7df0c1c9",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.response.time_to_first_chunk": 0.001,
                    "gen_ai.usage.cache_read.input_tokens": 2,
                    "gen_ai.usage.input_tokens": 9,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.reasoning.output_tokens": 3,
                    "genai_trace.cost.cache_read_usd": 1.5e-07,
                    "genai_trace.cost.input_usd": 1.05e-06,
                    "genai_trace.cost.output_usd": 5.4e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 6.6e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                },
            }
        ]
    )
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
    # an unresolvable model still gets a span, named after the operation alone
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "unknown",
                    "gen_ai.usage.input_tokens": 2,
                    "gen_ai.usage.output_tokens": 4,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.estimator": "cl100k_base",
                    "genai_trace.usage.source": "estimated",
                },
            }
        ]
    )


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
                },
            },
            {
                "name": "execute_tool get_weather",
                "kind": "INTERNAL",
                "parent": 0,
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
                "name": "execute_tool broken",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "ERROR",
                "attributes": {
                    "error.type": "RuntimeError",
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.description": "Always fails.",
                    "gen_ai.tool.name": "broken",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
                "status_description": "backend down",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.escaped": "False",
                            "exception.message": "backend down",
                            "exception.stacktrace": "... RuntimeError: backend down",
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
                "status_description": "down",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.escaped": "False",
                            "exception.message": "down",
                            "exception.stacktrace": "RuntimeError: down",
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
                "name": "user.in_lambda",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {},
            },
            {
                "name": "execute_tool lookup",
                "kind": "INTERNAL",
                "parent": 1,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.description": "Look up.",
                    "gen_ai.tool.name": "lookup",
                    "gen_ai.tool.type": "function",
                    "genai_trace.framework": "langchain",
                },
            },
            {
                "name": "user.in_tool",
                "kind": "INTERNAL",
                "parent": 2,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


# Both async variants (config reached implicitly or handed on by hand) give this one trace.
_ASYNC_SPANS = snapshot(
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
            "name": "user.in_lambda",
            "kind": "INTERNAL",
            "parent": 0,
            "status": "UNSET",
            "attributes": {},
        },
        {
            "name": "execute_tool alookup",
            "kind": "INTERNAL",
            "parent": 1,
            "status": "UNSET",
            "attributes": {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.description": "Look up.",
                "gen_ai.tool.name": "alookup",
                "gen_ai.tool.type": "function",
                "genai_trace.framework": "langchain",
            },
        },
        {
            "name": "user.in_tool",
            "kind": "INTERNAL",
            "parent": 2,
            "status": "UNSET",
            "attributes": {},
        },
    ]
)


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
    assert otel.snapshot_dicts() == _ASYNC_SPANS


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
    assert otel.snapshot_dicts() == _ASYNC_SPANS


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

    # internal: the context key a provider instrumentation reads to stay silent
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
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                },
            },
            {
                "name": "openai.chat",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )
    otel.clear()
    ProviderModel().invoke(
        "hi", config={"callbacks": [make_handler(suppress_provider_spans=False)]}
    )
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                },
            },
            {
                "name": "openai.chat",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


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
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "t-1",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.metadata.tenant_plan": "pro",
                    "genai_trace.run.tags": ["beta"],
                    "genai_trace.usage.source": "provider",
                    "user.id": "u-7",
                },
            }
        ]
    )


def test_chain_error_marks_the_chain_and_model_spans(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(fail_with=ValueError("bad request"))
    with pytest.raises(ValueError):
        (RunnableLambda(lambda x: x) | model).invoke("x", config={"callbacks": [handler]})
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow",
                "kind": "INTERNAL",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "ValueError",
                    "gen_ai.operation.name": "invoke_workflow",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                },
                "status_description": "bad request",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.escaped": "False",
                            "exception.message": "bad request",
                            "exception.stacktrace": "... ValueError: bad request",
                            "exception.type": "ValueError",
                        },
                    }
                ],
            },
            {
                "name": "RunnableLambda",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableLambda",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "ERROR",
                "attributes": {
                    "error.type": "ValueError",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "genai_trace.framework": "langchain",
                },
                "status_description": "bad request",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.escaped": "False",
                            "exception.message": "bad request",
                            "exception.stacktrace": "... ValueError: bad request",
                            "exception.type": "ValueError",
                        },
                    }
                ],
            },
        ]
    )
    assert handler.telemetry.open_count() == 0

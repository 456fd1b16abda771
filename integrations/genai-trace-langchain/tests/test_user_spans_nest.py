"""The user's own spans inside a tool or a lambda nest under the LangChain spans, sync and async
(config reached implicitly or handed on by hand); retries and custom events become span events."""

from __future__ import annotations

import pytest
from inline_snapshot import snapshot
from langchain_core.callbacks.manager import dispatch_custom_event
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.utils import asyncio_accepts_context
from langchain_core.tools import tool
from opentelemetry import trace

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

# Before Python 3.11 asyncio cannot run a task in a given context, so LangChain cannot hand the
# run config (callbacks included) to async code implicitly: our handler is never called there.
needs_async_context = pytest.mark.skipif(
    not asyncio_accepts_context(),
    reason="LangChain propagates the run config into async code only when asyncio tasks accept "
    "a context (Python >= 3.11); on 3.10 it must be passed explicitly (tested separately)",
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

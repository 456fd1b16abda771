"""Workflow agents, tools and custom workflows (scenarios 6 and 7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from li_support import Instrument
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool
from llama_index.core.workflow import (
    Context,
    Event,
    StartEvent,
    StopEvent,
    Workflow,
    step,
)

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import walk_tree as walk
from genai_trace_llamaindex.testing import DeterministicLLM

# llama-index-workflows inspects agent classes with inspect.getmembers, which touches pydantic's
# deprecated attributes (a framework warning, not ours).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")

KEYS = (
    s.GEN_AI_OPERATION_NAME,
    s.GEN_AI_AGENT_NAME,
    s.GEN_AI_TOOL_NAME,
    s.GEN_AI_TOOL_CALL_ID,
    s.GEN_AI_TOOL_DESCRIPTION,
    s.ERROR_TYPE,
    s.WORKFLOW_STEP,
    s.WORKFLOW_STEP_INPUT_EVENT,
)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def divide(a: int, b: int) -> float:
    """Divide a by b."""
    return a / b


def _agent(tool: Any, **kwargs: Any) -> FunctionAgent:
    return FunctionAgent(
        name="calculator",
        description="Does arithmetic.",
        tools=[FunctionTool.from_defaults(tool)],
        llm=DeterministicLLM(**kwargs),
    )


async def test_function_agent_is_invoke_agent_with_chat_and_one_execute_tool(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    agent = _agent(add, tool_calls=[("add", {"a": 2, "b": 3})])
    result = await agent.run("what is 2 + 3?")

    assert str(result) == "The result is 5."
    assert otel.tree(attributes=KEYS) == [
        {
            "name": "invoke_agent calculator",
            "kind": "INTERNAL",
            "status": "UNSET",
            "attributes": {
                s.GEN_AI_OPERATION_NAME: "invoke_agent",
                s.GEN_AI_AGENT_NAME: "calculator",
            },
            "children": [
                {
                    "name": "chat gpt-4o-mini",
                    "kind": "CLIENT",
                    "status": "UNSET",
                    "attributes": {s.GEN_AI_OPERATION_NAME: "chat"},
                    "children": [],
                },
                {
                    "name": "execute_tool add",
                    "kind": "INTERNAL",
                    "status": "UNSET",
                    "attributes": {
                        s.GEN_AI_OPERATION_NAME: "execute_tool",
                        s.GEN_AI_AGENT_NAME: "calculator",  # the agent it ran for (CR)
                        s.GEN_AI_TOOL_NAME: "add",
                        s.GEN_AI_TOOL_CALL_ID: "call_1",
                        s.GEN_AI_TOOL_DESCRIPTION: (
                            "add(a: 'int', b: 'int') -> 'int'\nAdd two integers."
                        ),
                    },
                    "children": [],
                },
                {
                    "name": "chat gpt-4o-mini",
                    "kind": "CLIENT",
                    "status": "UNSET",
                    "attributes": {s.GEN_AI_OPERATION_NAME: "chat"},
                    "children": [],
                },
            ],
        }
    ]
    agent_metrics = otel.metrics()[s.METRIC_AGENT_TOOL_CALLS]
    assert agent_metrics[0]["sum"] == 1


async def test_tool_arguments_and_result_are_captured_only_with_content_on(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument(capture_mode="SPAN_ONLY")
    await _agent(add, tool_calls=[("add", {"a": 2, "b": 3})]).run("2 + 3?")
    tool = next(n for n in walk(otel.tree()) if n["name"] == "execute_tool add")
    assert tool["attributes"][s.GEN_AI_TOOL_CALL_ARGUMENTS] == {"a": 2, "b": 3}
    assert tool["attributes"][s.GEN_AI_TOOL_CALL_RESULT] == "5"


async def test_tool_returning_an_error_marks_execute_tool_error(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    await _agent(divide, tool_calls=[("divide", {"a": 1, "b": 0})]).run("1 / 0?")
    tool = next(n for n in walk(otel.tree(attributes=KEYS)) if n["name"] == "execute_tool divide")
    assert tool["status"] == "ERROR"
    assert tool["attributes"][s.ERROR_TYPE] == "ZeroDivisionError"
    agent = otel.tree(attributes=False)[0]
    assert agent["status"] == "UNSET"  # the agent recovered: the model saw the error


class Hop(Event):
    text: str


class TwoSteps(Workflow):
    @step
    async def first(self, ev: StartEvent) -> Hop:
        return Hop(text=str(ev.topic))

    @step
    async def second(self, ev: Hop) -> StopEvent:
        response = await DeterministicLLM(answer="done").acomplete(f"write about {ev.text}")
        return StopEvent(result=response.text)


async def test_custom_workflow_under_a_user_span_is_one_trace_with_step_spans(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("request"):
        assert await TwoSteps(timeout=10).run(topic="otel") == "done"

    assert otel.tree(
        attributes=(s.GEN_AI_OPERATION_NAME, s.WORKFLOW_STEP, s.WORKFLOW_STEP_INPUT_EVENT)
    ) == [
        {
            "name": "request",
            "kind": "INTERNAL",
            "status": "UNSET",
            "attributes": {},
            "children": [
                {
                    "name": "invoke_workflow TwoSteps",
                    "kind": "INTERNAL",
                    "status": "UNSET",
                    "attributes": {s.GEN_AI_OPERATION_NAME: "invoke_workflow"},
                    "children": [
                        {
                            "name": "TwoSteps.first",
                            "kind": "INTERNAL",
                            "status": "UNSET",
                            "attributes": {
                                s.WORKFLOW_STEP: "first",
                                s.WORKFLOW_STEP_INPUT_EVENT: "StartEvent",
                            },
                            "children": [],
                        },
                        {
                            "name": "TwoSteps.second",
                            "kind": "INTERNAL",
                            "status": "UNSET",
                            "attributes": {
                                s.WORKFLOW_STEP: "second",
                                s.WORKFLOW_STEP_INPUT_EVENT: "Hop",
                            },
                            "children": [
                                {
                                    "name": "text_completion gpt-4o-mini",
                                    "kind": "CLIENT",
                                    "status": "UNSET",
                                    "attributes": {s.GEN_AI_OPERATION_NAME: "text_completion"},
                                    "children": [],
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ]


class Waits(Workflow):
    @step
    async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await asyncio.sleep(10)
        return StopEvent(result="never")


async def _cancel_run(handler: Any) -> None:
    await handler.cancel_run()
    await handler


async def _wait_for(handler: Any) -> None:
    await asyncio.wait_for(handler, 0.01)  # a timeout: asyncio cancels the run


@pytest.mark.parametrize("cancel", [_cancel_run, _wait_for])
async def test_cancelled_workflow_is_not_an_error_and_leaks_nothing(
    otel: OTelHarness, instrument: Instrument, cancel: Any
) -> None:
    instrumentor = instrument()
    telemetry = instrumentor._handlers[0].bridge.telemetry  # type: ignore[index]
    handler = Waits(timeout=30).run()
    for _ in range(200):  # until the step runs (the workflow and its step are open)
        if telemetry.open_count() >= 2:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(BaseException):  # noqa: B017 - the cancellation surfaces in some form
        await cancel(handler)
    await asyncio.sleep(0.05)  # LlamaIndex ends the cancelled step after the run

    # The step that was running is cancelled with its workflow: neither is an error, and
    # LlamaIndex dropping the run before its step does not make the step "abandoned".
    spans = {d["name"]: (d["status"], d["attributes"]) for d in otel.span_dicts()}
    assert sorted(spans) == ["Waits.wait", "invoke_workflow Waits"]
    assert [status for status, _ in spans.values()] == ["UNSET", "UNSET"]
    assert not any(s.ERROR_TYPE in attributes for _, attributes in spans.values())
    assert telemetry.open_count() == 0

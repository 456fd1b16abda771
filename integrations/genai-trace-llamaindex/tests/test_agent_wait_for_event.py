"""A ``FunctionAgent`` tool that waits for a human (``ctx.wait_for_event``), over the real
LlamaIndex ``OpenAI`` client on ``httpx.MockTransport``.

Since llama-index-workflows 2.9, ``wait_for_event`` pauses the ``call_tool`` step (it raises
``WaitingForEvent``) and runs the step again, with the same tool call, when the answer arrives:
the tool function runs twice, so there are two ``execute_tool`` spans with the model's one call
id. The agent still made one tool call: ``gen_ai.invoke_agent.tool_calls`` counts it once (it
counted 2 before 2026-12-06).
"""

# No ``from __future__ import annotations``: FunctionTool reads the tool's ``ctx: Context``
# annotation at run time to tell the context parameter from the model's arguments.
import json
from typing import Any

import httpx
import pytest
from li_lifecycle import Lifecycle
from li_support import Instrument
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.workflow import Context, HumanResponseEvent, InputRequiredEvent
from llama_index.llms.openai import OpenAI

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


def _reruns() -> bool:
    """Whether the installed workflows pause a waiting step and run it again (2.9+); older ones
    (and llama-index-core's own before the split) wait inside the step: one tool span."""
    try:
        from workflows.runtime.types.results import WaitingForEvent  # noqa: F401
    except ImportError:
        return False
    return True


_RERUNS = _reruns()
KEYS = (s.GEN_AI_OPERATION_NAME, s.GEN_AI_AGENT_NAME, s.GEN_AI_TOOL_NAME, s.GEN_AI_TOOL_CALL_ID)
SECRET = "QUESTION-7f3a"


def _sse(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
    chunk = {
        "id": f"chatcmpl-{index}",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


class Wire:
    """First answer: one call of ``approve``; then a text answer (streamed, as FunctionAgent
    asks)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        call = {
            "index": 0,
            "id": "call_approve",
            "type": "function",
            "function": {"name": "approve", "arguments": json.dumps({"amount": 5})},
        }
        if self.calls == 1:
            events = [
                _sse(1, {"role": "assistant", "content": None}),
                _sse(1, {"tool_calls": [call]}),
                _sse(1, {}, "tool_calls"),
            ]
        else:
            events = [_sse(2, {"role": "assistant", "content": "Paid."}), _sse(2, {}, "stop")]
        body = "".join(events) + "data: [DONE]\n\n"
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def approve(ctx: Context, amount: int) -> str:
    """Ask a human to approve a payment."""
    answer = await ctx.wait_for_event(
        HumanResponseEvent,
        waiter_id="approve",
        waiter_event=InputRequiredEvent(prefix=f"approve {amount}?"),
    )
    return str(answer.response)


def _tool_span() -> dict[str, Any]:
    return {
        "name": "execute_tool approve",
        "kind": "INTERNAL",
        "status": "UNSET",
        "attributes": {
            s.GEN_AI_OPERATION_NAME: "execute_tool",
            s.GEN_AI_AGENT_NAME: "payer",
            s.GEN_AI_TOOL_NAME: "approve",
            s.GEN_AI_TOOL_CALL_ID: "call_approve",
        },
        "children": [],
    }


async def test_a_tool_waiting_for_a_human_is_one_tool_call_of_the_agent(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    instrument()
    transport = httpx.MockTransport(Wire())
    llm = OpenAI(
        model="gpt-4o-mini",
        api_key="sk-test-wait-for-event-0123456789",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        max_retries=0,
    )
    agent = FunctionAgent(name="payer", description="Pays.", tools=[approve], llm=llm)

    handler = agent.run(f"pay 5 {SECRET}")
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="yes"))  # type: ignore[union-attr]
    assert str(await handler) == "Paid."

    chat = {
        "name": "chat gpt-4o-mini",
        "kind": "CLIENT",
        "status": "UNSET",
        "attributes": {s.GEN_AI_OPERATION_NAME: "chat"},
        "children": [],
    }
    tools = [_tool_span(), _tool_span()] if _RERUNS else [_tool_span()]
    assert otel.tree(attributes=KEYS) == [
        {
            "name": "invoke_agent payer",
            "kind": "INTERNAL",
            "status": "UNSET",
            "attributes": {s.GEN_AI_OPERATION_NAME: "invoke_agent", s.GEN_AI_AGENT_NAME: "payer"},
            "children": [chat, *tools, chat],
        }
    ]
    metrics = otel.metrics()
    agent_points = {
        name: [(p["count"], p["sum"]) for p in metrics[name]]
        for name in (s.METRIC_AGENT_TOOL_CALLS, s.METRIC_AGENT_INFERENCE_CALLS)
    }
    assert agent_points == {
        s.METRIC_AGENT_TOOL_CALLS: [(1, 1)],
        s.METRIC_AGENT_INFERENCE_CALLS: [(1, 2)],
    }
    [invocation] = metrics[s.METRIC_INVOCATION_DURATION]
    assert invocation["attributes"][s.GEN_AI_INVOCATION_IS_NESTED] is False
    # each run of the tool is timed on its own
    assert [p["count"] for p in metrics[s.METRIC_EXECUTE_TOOL_DURATION]] == [len(tools)]
    assert all(SECRET not in json.dumps(span.to_json()) for span in otel.spans())
    lifecycle.check()

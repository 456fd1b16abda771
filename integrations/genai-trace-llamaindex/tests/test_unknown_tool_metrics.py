"""A ``FunctionAgent`` (the real LlamaIndex OpenAI client over ``httpx.MockTransport``) whose
model asks for tools the agent does not have, named from the user's input: each call is still an
``execute_tool {name}`` span named as the model asked, failed with ``tool_error``, but on
``gen_ai.execute_tool.duration`` all such calls are one ``gen_ai.tool.name``, the placeholder
``semconv.TOOL_NAME_NOT_FOUND``: the metric's cardinality stays bounded whatever the users type
(until 2026-12-07 every invented name, an e-mail address included, was a new series)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from li_openai_wire import openai_clients
from li_support import Instrument
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness

# llama-index-workflows inspects agent classes with inspect.getmembers, which touches pydantic's
# deprecated attributes (a framework warning, not ours).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")

EMAIL = "jane.doe" + "@example.com"
USERS = ["user0", "user1", EMAIL]


def lookup(city: str) -> str:
    """Look a city up."""
    return city.upper()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    payload = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [choice],
    }
    return f"data: {json.dumps(payload)}\n\n"


def _serve(request: httpx.Request) -> httpx.Response:
    """The model calls ``lookup_<what the user typed>`` (``lookup`` for "oslo"), then answers."""
    messages = json.loads(request.content)["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        events = [_chunk({"role": "assistant", "content": "done"}), _chunk({}, "stop")]
    else:
        text = last["content"]
        name, args = ("lookup", {"city": text}) if text == "oslo" else (f"lookup_{text}", {})
        function = {"name": name, "arguments": json.dumps(args)}
        call = {"index": 0, "id": "call_1", "type": "function", "function": function}
        events = [_chunk({"role": "assistant", "tool_calls": [call]}), _chunk({}, "tool_calls")]
    body = "".join(events) + "data: [DONE]\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def test_tools_the_agent_does_not_have_are_one_placeholder_on_metrics(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    llm, _ = openai_clients(_serve)
    agent = FunctionAgent(
        name="finder", description="Finds.", tools=[FunctionTool.from_defaults(lookup)], llm=llm
    )
    for text in [*USERS, "oslo"]:
        assert str(await agent.run(text)) == "done"

    spans = otel.spans()
    names = {span.context.span_id: span.name for span in spans}
    tools = sorted(
        (
            span.name,
            span.status.status_code.name,
            (span.attributes or {}).get(s.ERROR_TYPE),
            names.get(span.parent.span_id) if span.parent else None,
        )
        for span in spans
        if span.name.startswith("execute_tool")
    )
    agent = "invoke_agent finder"
    assert tools == [  # the spans keep the names the model asked for
        ("execute_tool lookup", "UNSET", None, agent),
        (f"execute_tool lookup_{EMAIL}", "ERROR", s.ERROR_TYPE_TOOL_ERROR, agent),
        ("execute_tool lookup_user0", "ERROR", s.ERROR_TYPE_TOOL_ERROR, agent),
        ("execute_tool lookup_user1", "ERROR", s.ERROR_TYPE_TOOL_ERROR, agent),
    ]
    points = {
        (p["attributes"][s.GEN_AI_TOOL_NAME], p["attributes"].get(s.ERROR_TYPE)): p["count"]
        for p in otel.metrics()[s.METRIC_EXECUTE_TOOL_DURATION]
    }
    assert points == {
        (s.TOOL_NAME_NOT_FOUND, s.ERROR_TYPE_TOOL_ERROR): 3,
        ("lookup", None): 1,
    }
    encoded = encode_metrics(otel.metric_reader.get_metrics_data()).SerializeToString()
    for text in USERS:
        assert text.encode() not in encoded

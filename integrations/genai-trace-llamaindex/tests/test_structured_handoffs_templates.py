"""Structured output type, AgentWorkflow handoffs between named agents, legacy TEMPLATING."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest
from li_support import Instrument
from llama_index.core import Settings as LISettings
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.prompts.default_prompts import DEFAULT_TEXT_QA_PROMPT
from llama_index.core.tools import FunctionTool
from packaging.version import Version
from pydantic import BaseModel

from genai_trace_core import CaptureMode, Settings
from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import OpenTelemetryCallbackHandler
from genai_trace_llamaindex.testing import DeterministicLLM

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


class City(BaseModel):
    name: str


def _node(name: str, attributes: dict[str, Any], children: list[Any]) -> dict[str, Any]:
    kind = "CLIENT" if name.startswith("chat ") else "INTERNAL"
    return {
        "name": name,
        "kind": kind,
        "status": "UNSET",
        "attributes": attributes,
        "children": children,
    }


_CORE = Version(metadata.version("llama-index-core"))


@pytest.mark.skipif(
    Version("0.13") > _CORE,
    reason="llama-index-core 0.12 runs structured_predict's function-calling program with its own "
    "tool-output handling: the City tool span is reported as an error there (test pins 0.13+)",
)
def test_structured_predict_marks_its_inference_span_output_type_json(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrument()
    llm = DeterministicLLM(tool_calls=[("City", {"name": "Paris"})])
    city = llm.structured_predict(City, PromptTemplate("capital of {country}?"), country="France")
    llm.chat([ChatMessage(role="user", content="plain chat")])

    assert city == City(name="Paris")
    keys = (s.GEN_AI_OPERATION_NAME, s.GEN_AI_OUTPUT_TYPE)
    assert otel.tree(attributes=keys) == [
        # the program's tool (the answer's validation) runs in the same request: one trace
        _node(
            "chat gpt-4o-mini",
            {s.GEN_AI_OPERATION_NAME: "chat", s.GEN_AI_OUTPUT_TYPE: "json"},
            [_node("execute_tool City", {s.GEN_AI_OPERATION_NAME: "execute_tool"}, [])],
        ),
        _node("chat gpt-4o-mini", {s.GEN_AI_OPERATION_NAME: "chat"}, []),
    ]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_agent_workflow_handoff_gives_each_agent_its_invoke_agent_span(
    otel: OTelHarness, instrument: Instrument
) -> None:
    instrumentor = instrument()
    triage = FunctionAgent(
        name="triage",
        description="Routes questions.",
        tools=[],
        llm=DeterministicLLM(tool_calls=[("handoff", {"to_agent": "math", "reason": "sums"})]),
        can_handoff_to=["math"],
    )
    math = FunctionAgent(
        name="math",
        description="Does arithmetic.",
        tools=[FunctionTool.from_defaults(add)],
        llm=DeterministicLLM(tool_calls=[("add", {"a": 2, "b": 3})]),
    )
    workflow = AgentWorkflow(agents=[triage, math], root_agent="triage")
    await workflow.run(user_msg="what is 2 + 3?")

    keys = (s.GEN_AI_OPERATION_NAME, s.GEN_AI_AGENT_NAME, s.GEN_AI_TOOL_NAME)
    chat = _node("chat gpt-4o-mini", {s.GEN_AI_OPERATION_NAME: "chat"}, [])
    assert otel.tree(attributes=keys) == [
        _node(
            "invoke_workflow",
            {s.GEN_AI_OPERATION_NAME: "invoke_workflow"},
            [
                _node(
                    "invoke_agent triage",
                    {s.GEN_AI_OPERATION_NAME: "invoke_agent", s.GEN_AI_AGENT_NAME: "triage"},
                    [
                        chat,
                        _node(
                            "execute_tool handoff",
                            {
                                s.GEN_AI_OPERATION_NAME: "execute_tool",
                                s.GEN_AI_AGENT_NAME: "triage",
                                s.GEN_AI_TOOL_NAME: "handoff",
                            },
                            [],
                        ),
                    ],
                ),
                _node(
                    "invoke_agent math",
                    {s.GEN_AI_OPERATION_NAME: "invoke_agent", s.GEN_AI_AGENT_NAME: "math"},
                    [chat],
                ),
            ],
        )
    ]
    bridge = instrumentor._handlers[0].bridge  # type: ignore[index]
    assert bridge.telemetry.open_count() == 0
    assert (bridge.spans.entries, bridge.models.structured) == ({}, set())


@pytest.mark.parametrize("capture", [CaptureMode.NO_CONTENT, CaptureMode.SPAN_ONLY])
def test_legacy_templating_is_merged_into_the_next_llm_span(
    otel: OTelHarness, capture: CaptureMode
) -> None:
    handler = OpenTelemetryCallbackHandler(
        tracer_provider=otel.tracer_provider,
        settings=Settings().with_overrides(capture_mode=capture),
    )
    llm = DeterministicLLM(callback_manager=CallbackManager([handler]))
    LISettings.callback_manager = CallbackManager([handler])
    llm.predict(DEFAULT_TEXT_QA_PROMPT, context_str="Paris is in France.", query_str="Capital?")

    variables = {
        s.GEN_AI_PROMPT_VARIABLE_PREFIX + "context_str": "Paris is in France.",
        s.GEN_AI_PROMPT_VARIABLE_PREFIX + "query_str": "Capital?",
    }
    expected = {s.GEN_AI_OPERATION_NAME: "chat", s.GEN_AI_PROMPT_NAME: "text_qa_prompt"}
    if capture is CaptureMode.SPAN_ONLY:
        expected.update(variables)
    keys = (s.GEN_AI_OPERATION_NAME, s.GEN_AI_PROMPT_NAME, *variables)
    assert otel.tree(attributes=keys) == [_node("chat gpt-4o-mini", expected, [])]

"""Tool and agent descriptions are exported in every capture mode (the conventions recommend
``gen_ai.tool.description`` and ``gen_ai.agent.description``), so they follow the always-rules:
bounded and scrubbed of credentials, with content capture off. A docstring that documents the
endpoint it calls (``https://svc:password@host/v1?api_key=...``) and runs to 200 KB, through both
integrations, searched in the OTLP bytes.
"""

from __future__ import annotations

import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import otlp_bytes, with_ledger

from genai_trace_core import Settings, semconv
from genai_trace_core.testing import OTelHarness

PASSWORD = "PWDMARK-hunter2"
API_KEY = "QKEYMARK-1234"
DESCRIPTION = (
    f"Looks an order up. Calls https://svc:{PASSWORD}@orders.example.com/v1?api_key={API_KEY}"
    " and returns its status. " + "Details. " * 22_000
)
MAX_DESCRIPTION = 1024
# LlamaIndex's agent workflows read pydantic's deprecated ``__fields__`` (not our code).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")


def lookup(order: str) -> str:
    """Replaced by DESCRIPTION."""
    return f"order {order}: shipped"


def run_langchain(otel: OTelHarness) -> None:
    from langchain_core.tools import StructuredTool

    from genai_trace_langchain import OpenTelemetryCallbackHandler

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(Settings()))
    tool = StructuredTool.from_function(lookup, name="lookup", description=DESCRIPTION)
    assert tool.invoke({"order": "A1"}, config={"callbacks": [handler]}) == "order A1: shipped"


async def run_llamaindex(otel: OTelHarness) -> None:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    from genai_trace_llamaindex.testing import DeterministicLLM

    with llamaindex_instrumented(otel, Settings()):
        tool = FunctionTool.from_defaults(fn=lookup, name="lookup", description=DESCRIPTION)
        assert tool.call(order="A1").content == "order A1: shipped"
        # LlamaIndex refuses to send a tool description over 1,024 characters to a model
        short = FunctionTool.from_defaults(fn=lookup, name="lookup", description=DESCRIPTION[:300])
        llm = DeterministicLLM(tool_calls=[("lookup", {"order": "A1"})])
        agent = FunctionAgent(
            name="orders", description=DESCRIPTION, tools=[short], llm=llm, system_prompt="Help."
        )
        assert str(await agent.run("Where is order A1?")) == "The result is order A1: shipped."


@pytest.mark.parametrize("integration", ["langchain", "llamaindex"])
async def test_descriptions_are_bounded_and_scrubbed_with_capture_off(
    otel: OTelHarness, integration: str
) -> None:
    ledger = with_ledger(otel)
    if integration == "langchain":
        run_langchain(otel)
    else:
        await run_llamaindex(otel)

    exported = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert ledger.open_spans() == []
    assert PASSWORD.encode() not in exported and API_KEY.encode() not in exported
    assert len(exported) < 20_000  # the 200 KB docstring is not exported (twice: tool, agent)
    keys = (semconv.GEN_AI_TOOL_DESCRIPTION, semconv.GEN_AI_AGENT_DESCRIPTION)
    found = {
        (s.name, k): str(v)
        for s in otel.spans()
        for k, v in (s.attributes or {}).items()
        if k in keys
    }
    expected = {("execute_tool lookup", semconv.GEN_AI_TOOL_DESCRIPTION)}
    if integration == "llamaindex":
        expected.add(("invoke_agent orders", semconv.GEN_AI_AGENT_DESCRIPTION))
    assert set(found) == expected
    for text in found.values():
        assert len(text) <= MAX_DESCRIPTION
        assert text.startswith(
            "Looks an order up. Calls https://[REDACTED:password]@orders.example.com/v1"
            "?api_key=[REDACTED] and returns its status."
        )

"""The terminal tree (the live console processor and ``genai-trace view``) prints names the model
chose: a LlamaIndex agent's model that calls a tool that does not exist names the
``execute_tool`` span, in every capture mode. A name with terminal control sequences used to
reach the terminal as is: ``ESC[2J`` cleared the screen, ``ESC]0;...BEL`` retitled the window,
a newline and a carriage return forged a line of the tree. They are now shown escaped, and
every such value (a user id from a request, a model name a proxy answered) is cut to one line.
"""

from __future__ import annotations

import io
from importlib import metadata
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from packaging.version import Version
from reliability_frameworks import llamaindex_instrumented
from reliability_support import with_ledger

from genai_trace_core import Settings
from genai_trace_core.cli import main
from genai_trace_core.export._console import ConsoleSpanProcessor
from genai_trace_core.export._jsonl import JsonlSpanExporter
from genai_trace_core.testing import OTelHarness

# LlamaIndex's agent workflows read pydantic's deprecated ``__fields__`` (not our code).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")

INVENTED = "look\u202eup\x1b[2J\x1b]0;owned\x07\nFAKE $999\rX"


def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


@pytest.mark.skipif(
    Version(metadata.version("llama-index-core")) < Version("0.13"),
    reason=(
        "written against llama-index-core 0.13+ (its FunctionAgent tree); not verified on 0.12"
    ),
)
async def test_a_tool_name_the_model_invented_cannot_drive_the_terminal(
    otel: OTelHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    from genai_trace_llamaindex.testing import DeterministicLLM

    ledger = with_ledger(otel)
    console = io.StringIO()
    otel.tracer_provider.add_span_processor(ConsoleSpanProcessor(console, color=False))
    jsonl = tmp_path / "traces.jsonl"
    otel.tracer_provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(jsonl)))
    with llamaindex_instrumented(otel, Settings()):
        llm = DeterministicLLM(tool_calls=[(INVENTED, {"a": 1, "b": 2})])
        agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=add)], llm=llm)
        answer = str(await agent.run("What is 1 + 2?"))
    otel.tracer_provider.force_flush()

    assert "not found" in answer  # LlamaIndex's answer to an unknown tool
    assert ledger.open_spans() == []
    assert otel.tree(attributes=False) == snapshot(
        [
            {
                "name": "invoke_agent Agent",
                "kind": "INTERNAL",
                "status": "UNSET",
                "children": [
                    {
                        "name": "chat gpt-4o-mini",
                        "kind": "CLIENT",
                        "status": "UNSET",
                        "children": [],
                    },
                    {
                        "name": """\
execute_tool look\u202eup\x1b[2J\x1b]0;owned\x07
FAKE $999\rX\
""",
                        "kind": "INTERNAL",
                        "status": "ERROR",
                        "children": [],
                    },
                    {
                        "name": "chat gpt-4o-mini",
                        "kind": "CLIENT",
                        "status": "UNSET",
                        "children": [],
                    },
                ],
            }
        ]
    )
    live = console.getvalue()
    capsys.readouterr()  # LlamaIndex's own prints when its models are reset
    assert main(["view", str(jsonl), "--no-color"]) == 0
    viewed = capsys.readouterr().out
    assert not any(ch in live + viewed for ch in "\x1b\x07\r\u202e")
    assert live == snapshot("""\
trace 00000000000000000000000000000001 · unknown_service:python · 4 spans · 34ms
invoke_agent Agent                                               34ms  [gpt-4o-mini]
├── chat gpt-4o-mini                                            2.0ms  [gpt-4o-mini-2024-07-18]  in 8 out 3  $0.000003
├── execute_tool look\\u202eup\\x1b[2J\\x1b]0;owned\\x07\\x0aFAK…    1.0ms  ERROR tool_error
└── chat gpt-4o-mini                                             17ms  [gpt-4o-mini-2024-07-18]  in 28 out 17  $0.0000144
  model                   calls  input  cache  output        cost
  gpt-4o-mini-2024-07-18      2     36      0      20  $0.0000174
""")  # noqa: E501  (one line per span: nothing forged)
    assert viewed.startswith(live)


def test_user_ids_and_a_provider_model_name_are_one_safe_line_in_genai_trace_view(
    otel: OTelHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    from genai_trace_langchain import OpenTelemetryCallbackHandler
    from genai_trace_langchain.testing import FakeChatOpenAI

    ledger = with_ledger(otel)
    jsonl = tmp_path / "traces.jsonl"
    otel.tracer_provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(jsonl)))
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(Settings()))
    # a proxy answering a 300 KB model name; a user id read from a request header
    model = FakeChatOpenAI(responses=["Hi."], response_model="gpt-4o-mini-" + "M" * 300_000)
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model
    metadata = {"user_id": "alice\x1b]0;owned\x07\nbob"}
    answer = chain.invoke({"q": "Hello"}, config={"callbacks": [handler], "metadata": metadata})

    assert answer.content == "Hi."
    assert ledger.open_spans() == []
    assert otel.tree(attributes=False) == snapshot(
        [
            {
                "name": "invoke_workflow",
                "kind": "INTERNAL",
                "status": "UNSET",
                "children": [
                    {
                        "name": "ChatPromptTemplate",
                        "kind": "INTERNAL",
                        "status": "UNSET",
                        "children": [],
                    },
                    {
                        "name": "chat gpt-4o-mini",
                        "kind": "CLIENT",
                        "status": "UNSET",
                        "children": [],
                    },
                ],
            }
        ]
    )
    capsys.readouterr()
    assert main(["view", str(jsonl), "--no-color"]) == 0
    viewed = capsys.readouterr().out
    assert "\x1b" not in viewed and "\x07" not in viewed
    assert len(viewed) < 2_000
    assert viewed.split("totals by user\n")[1] == snapshot("""\
  user                          calls  input  cache  output  cost
  alice\\x1b]0;owned\\x07\\x0abob      1      5      0       1     -

totals by tenant
  tenant     calls  input  cache  output  cost
  (unknown)      1      5      0       1     -
""")

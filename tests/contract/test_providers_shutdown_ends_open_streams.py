"""Contract: the README's program shape (``configure()``, ``instrument()``, the app's own
``providers.shutdown()`` at the end) with a LangChain stream read in part and never closed, on the
real ``ChatOpenAI`` over OpenAI's wire format: the open runs end ``abandoned`` when the app shuts
the providers down (``providers.shutdown()``, or the SDK provider's own ``shutdown()``), before any
processor stops, so they are in the JSONL file and reach every exporter, with nothing logged.

Until 2026-12-07 they were ended only at exit, after the processors had shut down: the JSONL file
had nothing of the request and an OTLP backend got nothing either (found by red-team helper A).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("langchain_openai")

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import sys

    import httpx
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI
    from openai_wire import OpenAIWire, chat_stream, usage
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    from genai_trace_core import configure
    from genai_trace_langchain import LangChainInstrumentor

    how, path = sys.argv[1:]


    class Print(SpanExporter):  # a second exporter: what it gets, and when
        def export(self, spans):
            for s in spans:
                print("span:", s.name, s.attributes.get("error.type"), flush=True)
            return SpanExportResult.SUCCESS


    providers = configure(service_name="shop", jsonl_path=path, console=False)
    providers.tracer_provider.add_span_processor(SimpleSpanProcessor(Print()))
    LangChainInstrumentor().instrument(tracer_provider=providers.tracer_provider)
    wire = OpenAIWire(chat_stream(
        response_id="chatcmpl-1", model="gpt-4o-mini-2024-07-18", pieces=["one ", "two ", "three"],
        token_usage=usage(9, 3),
    ))
    model = ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-test", max_retries=0, stream_usage=True,
        http_client=httpx.Client(transport=httpx.MockTransport(wire)),
    )
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = (prompt | model | StrOutputParser()).with_config(run_name="qa")
    stream = chain.stream({"q": "count"})
    text = ""
    while not text:  # the app reads the first words, then stops (never closes the stream)
        text = next(stream).strip()
    print("first:", text, flush=True)
    if how == "providers":
        providers.shutdown()
    else:
        providers.tracer_provider.shutdown()
    print("shut down", flush=True)
    """
)


def _run(program: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``program`` as a user's script, ``-W error``, without the test run's OTel/genai-trace
    variables, with the LangChain tests' OpenAI wire helpers importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "integrations/genai-trace-langchain/tests"), env.get("PYTHONPATH", "")]
    )
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", program, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("how", ["providers", "sdk"])
def test_a_stream_left_open_ends_abandoned_when_the_app_shuts_the_providers_down(
    tmp_path: Path, how: str
) -> None:
    jsonl = tmp_path / "traces.jsonl"
    done = _run(PROGRAM, tmp_path, how, str(jsonl))
    assert (done.returncode, done.stderr) == (0, "")  # no drop warning blaming the backend
    assert done.stdout.splitlines() == [  # ended at the app's shutdown, not later at exit
        "span: ChatPromptTemplate None",
        "first: one",
        "span: invoke_workflow qa abandoned",
        "span: StrOutputParser abandoned",
        "span: chat gpt-4o-mini abandoned",
        "shut down",
    ]
    records = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    by_name = {r["name"]: r for r in records}
    assert sorted(by_name) == [
        "ChatPromptTemplate",
        "StrOutputParser",
        "chat gpt-4o-mini",
        "invoke_workflow qa",
    ]
    root = by_name["invoke_workflow qa"]
    for name in ("ChatPromptTemplate", "StrOutputParser", "chat gpt-4o-mini"):
        assert by_name[name]["parent_id"] == root["span_id"]
    for name in ("StrOutputParser", "chat gpt-4o-mini", "invoke_workflow qa"):
        assert by_name[name]["status"] == {"code": "ERROR", "message": "abandoned"}
        assert by_name[name]["attributes"]["error.type"] == "abandoned"


TWO_PROVIDERS = textwrap.dedent(
    """
    import sys

    import httpx
    from langchain_openai import ChatOpenAI
    from openai_wire import OpenAIWire, chat_stream, usage

    from genai_trace_core import configure
    from genai_trace_langchain import LangChainInstrumentor

    app_path, side_path = sys.argv[1:]
    app = configure(service_name="shop", jsonl_path=app_path, console=False)  # the global one
    LangChainInstrumentor().instrument()
    wire = OpenAIWire(chat_stream(
        response_id="chatcmpl-1", model="gpt-4o-mini-2024-07-18", pieces=["one ", "two ", "three"],
        token_usage=usage(9, 3),
    ))
    model = ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-test", max_retries=0, stream_usage=True,
        http_client=httpx.Client(transport=httpx.MockTransport(wire)),
    )
    stream = model.stream("count")
    text = next(stream).content
    # a side job with its own providers, done and shut down while the app's stream is read
    side = configure(service_name="side-job", jsonl_path=side_path, console=False, set_global=False)
    side.shutdown()
    text += "".join(chunk.content for chunk in stream)
    print("read:", text, flush=True)
    app.shutdown()
    """
)


def test_a_side_job_shutting_its_own_providers_down_leaves_the_apps_stream_open(
    tmp_path: Path,
) -> None:
    """Until 2026-12-07 any provider's shutdown ended every run open in the process: the app's
    stream, read to its end after a side job's ``shutdown()``, was exported ``abandoned`` with no
    output nor usage (found by red-team helper Z1)."""
    app, side = tmp_path / "app.jsonl", tmp_path / "side.jsonl"
    done = _run(TWO_PROVIDERS, tmp_path, str(app), str(side))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["read: one two three"]
    assert not side.exists() or side.read_text("utf-8") == ""
    [chat] = [json.loads(line) for line in app.read_text("utf-8").splitlines()]
    assert chat["name"] == "chat gpt-4o-mini"
    assert chat["status"] == {"code": "UNSET", "message": None}
    assert "error.type" not in chat["attributes"]
    assert chat["attributes"]["gen_ai.usage.output_tokens"] == 3
    assert chat["attributes"]["gen_ai.response.finish_reasons"] == ["stop"]

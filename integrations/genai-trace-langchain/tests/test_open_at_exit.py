"""A run still open when the program exits is ended and exported before the providers shut down.

``it = chain.stream(...); print(next(it))`` and exit: until 2026-12-06 the root, the parser and
the streamed model call never ended (``Telemetry.shutdown`` ran only at ``uninstrument()``), so
they were in no export and no terminal tree (found by helper-46). They now end ``abandoned``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    from genai_trace_langchain import LangChainInstrumentor
    from genai_trace_langchain.testing import FakeChatOpenAI

    class Print(SpanExporter):
        def export(self, spans):
            for s in spans:
                print("span:", s.name, s.attributes.get("error.type"), flush=True)
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Print()))
    LangChainInstrumentor().instrument(tracer_provider=provider)
    model = FakeChatOpenAI(responses=["one two three four"])
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = (prompt | model | StrOutputParser()).with_config(run_name="qa")
    it = chain.stream({"q": "x"})
    print("first:", next(it).strip(), flush=True)
    """
)


def test_runs_open_at_exit_are_ended_and_exported() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "span: ChatPromptTemplate None",
        "first: one",
        "span: invoke_workflow qa abandoned",
        "span: StrOutputParser abandoned",
        "span: chat gpt-4o-mini abandoned",
    ]

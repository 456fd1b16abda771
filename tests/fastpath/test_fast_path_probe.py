"""The fast path's once-per-process check of the SDK leaves no trace in the program.

It starts a span on a throwaway provider. Until 2026-12-07 that provider had the SDK's default id
generator, which draws from the global ``random``: a program that seeds ``random`` got other trace
and span ids (and ratio-sampling outcomes) with the fast path than with ``GENAI_TRACE_SDK_SPANS``.
And it built the default resource, so the resource detectors ran again and repeated their warnings
(a malformed ``OTEL_RESOURCE_ATTRIBUTES`` was reported twice). Found by helper O.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import random

    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from genai_trace_langchain import LangChainInstrumentor
    from genai_trace_langchain.testing import FakeChatOpenAI

    class Started(SpanProcessor):
        def on_start(self, span, parent_context=None):
            print("started", type(span).__name__)

    random.seed(7)
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(Started())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    LangChainInstrumentor().instrument(tracer_provider=provider)
    FakeChatOpenAI(responses=["ok"]).invoke("hi")
    for span in memory.get_finished_spans():
        print(span.name, span.context.trace_id, span.context.span_id, span.resource.attributes["a"])
    """
)


def _run(*, sdk_spans: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OTEL_RESOURCE_ATTRIBUTES="a=b,broken")
    env.pop("GENAI_TRACE_SDK_SPANS", None)
    if sdk_spans:
        env["GENAI_TRACE_SDK_SPANS"] = "1"
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_a_seeded_program_gets_the_same_ids_and_warnings_once_with_the_fast_path() -> None:
    sdk, fast = _run(sdk_spans=True), _run(sdk_spans=False)
    assert sdk.returncode == 0 and fast.returncode == 0, sdk.stderr + fast.stderr
    assert sdk.stdout.splitlines()[0] == "started _Span"
    assert fast.stdout.splitlines()[0] == "started FastSpan"
    assert fast.stdout.splitlines()[1:] == sdk.stdout.splitlines()[1:]  # same ids, same resource
    assert fast.stdout.splitlines()[1].startswith("chat gpt-4o-mini ")
    warning = "Invalid key value resource attribute pair broken"
    assert fast.stderr.count(warning) == 1  # the provider's own warning, not repeated
    assert fast.stderr == sdk.stderr

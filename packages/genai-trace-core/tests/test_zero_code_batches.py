"""The ``genai_trace`` span exporter (zero-code) prints a trace whose root is in a batch with every
span of it in that batch, even one that ended after the root (a streamed answer read after the
query returned); a span reaching it in a later batch is printed on its own, as the trace's
continuation."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, set_span_in_context

from genai_trace_core import semconv as S
from genai_trace_core.testing import IncrementalIdGenerator

MS = 1_000_000
T0 = 1_700_000_000_000_000_000

STREAMED_QUERY = (
    "trace 00000000000000000000000000000001 · rag · 3 spans · 9.0ms\n"
    "query                       3.0ms\n"
    "└── synthesize              1.0ms\n"
    "    └── chat gpt-4o-mini    5.0ms  in 10 out 5\n"
    "  model        calls  input  cache  output  cost\n"
    "  gpt-4o-mini      1     10      0       5     -\n"
)


def _streamed_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, flush_before_the_answer: bool
) -> None:
    """A streamed query as LlamaIndex runs it: the query and synthesize spans end, then the
    model call starts and ends as the app reads the answer."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENAI_TRACE_JSONL", "traces.jsonl")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # one batch, at shutdown
    (entry,) = entry_points(group="opentelemetry_traces_exporter", name="genai_trace")
    provider = TracerProvider(
        resource=Resource.create({S.SERVICE_NAME: "rag"}),
        id_generator=IncrementalIdGenerator(),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(BatchSpanProcessor(entry.load()()))
    tracer = provider.get_tracer("app")
    query = tracer.start_span("query", start_time=T0)
    synth = tracer.start_span("synthesize", set_span_in_context(query), start_time=T0 + MS)
    synth.end(end_time=T0 + 2 * MS)
    query.end(end_time=T0 + 3 * MS)
    if flush_before_the_answer:
        provider.force_flush()
    chat = tracer.start_span(
        "chat gpt-4o-mini",
        set_span_in_context(synth),
        kind=SpanKind.CLIENT,
        start_time=T0 + 4 * MS,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
            S.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            S.GEN_AI_USAGE_INPUT_TOKENS: 10,
            S.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
        },
    )
    chat.end(end_time=T0 + 9 * MS)
    provider.shutdown()
    names = [json.loads(line)["name"] for line in Path("traces.jsonl").read_text().splitlines()]
    assert names == ["synthesize", "query", "chat gpt-4o-mini"]  # the file has every span


def test_a_span_ending_after_its_root_in_the_same_batch_is_in_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _streamed_query(tmp_path, monkeypatch, flush_before_the_answer=False)
    assert capsys.readouterr().err == STREAMED_QUERY


def test_a_span_ending_after_its_root_in_a_later_batch_is_printed_as_a_continuation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _streamed_query(tmp_path, monkeypatch, flush_before_the_answer=True)
    assert capsys.readouterr().err == (
        "trace 00000000000000000000000000000001 · rag · 2 spans · 3.0ms\n"
        "query             3.0ms\n"
        "└── synthesize    1.0ms\n"
        "trace 00000000000000000000000000000001 (continued) · rag · 1 span · 5.0ms\n"
        "chat gpt-4o-mini    5.0ms  in 10 out 5\n"
        "  model        calls  input  cache  output  cost\n"
        "  gpt-4o-mini      1     10      0       5     -\n"
    )

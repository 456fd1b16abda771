"""The terminal tree renderer, the console span processor and the JSONL exporter."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, set_span_in_context

from genai_trace_core import semconv as S
from genai_trace_core.export._console import ConsoleSpanProcessor
from genai_trace_core.export._jsonl import JsonlSpanExporter
from genai_trace_core.view._render import render_trace
from genai_trace_core.view._spanview import SpanView

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def build_support_trace(tracer: Tracer) -> None:
    """workflow -> (chat -> failing tool), embeddings; explicit times for exact durations."""
    root = tracer.start_span(
        "invoke_workflow support_bot",
        start_time=T0,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_INVOKE_WORKFLOW,
            S.USER_ID: "alice",
            S.TENANT_ID: "acme",
        },
    )
    ctx = set_span_in_context(root)
    chat = tracer.start_span(
        "chat gpt-4o",
        context=ctx,
        kind=SpanKind.CLIENT,
        start_time=T0 + 100 * MS,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
            S.GEN_AI_REQUEST_MODEL: "gpt-4o",
            S.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
            S.GEN_AI_USAGE_INPUT_TOKENS: 1200,
            S.GEN_AI_USAGE_OUTPUT_TOKENS: 350,
            S.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 200,
            S.COST_USD: 0.00625,
        },
    )
    tool = tracer.start_span(
        "execute_tool search",
        context=set_span_in_context(chat),
        start_time=T0 + 900 * MS,
        attributes={S.GEN_AI_OPERATION_NAME: S.OP_EXECUTE_TOOL, S.ERROR_TYPE: "TimeoutError"},
    )
    tool.set_status(Status(StatusCode.ERROR, "timed out"))
    tool.end(end_time=T0 + 912 * MS)
    chat.end(end_time=T0 + 950 * MS)
    emb = tracer.start_span(
        "embeddings text-embedding-3-small",
        context=ctx,
        kind=SpanKind.CLIENT,
        start_time=T0 + 1000 * MS,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_EMBEDDINGS,
            S.GEN_AI_REQUEST_MODEL: "text-embedding-3-small",
            S.GEN_AI_USAGE_INPUT_TOKENS: 8,
            S.COST_USD: 0.00000016,
        },
    )
    emb.end(end_time=T0 + 1003 * MS + 500_000)
    root.end(end_time=T0 + 1500 * MS)


EXPECTED_SUPPORT_TREE = """\
trace 00000000000000000000000000000001 · support-bot · 4 spans · 1.50s
invoke_workflow support_bot              1.50s
├── chat gpt-4o                          850ms  [gpt-4o-2024-08-06]  in 1,200 (cache 200) out 350  $0.00625
│   └── execute_tool search               12ms  ERROR TimeoutError
└── embeddings text-embedding-3-small    3.5ms  in 8  $0.00000016
  model                   calls  input  cache  output         cost
  gpt-4o-2024-08-06           1  1,200    200     350     $0.00625
  text-embedding-3-small      1      8      0       0  $0.00000016
  total                       2  1,208    200     350  $0.00625016
"""  # noqa: E501


def test_trace_is_printed_as_tree_with_model_totals_when_root_ends(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False)
    provider.add_span_processor(processor)

    build_support_trace(provider.get_tracer("test"))

    assert out.getvalue() == EXPECTED_SUPPORT_TREE
    assert processor.pending_traces() == 0


def test_nothing_is_printed_before_the_local_root_ends(provider: TracerProvider) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")

    root = tracer.start_span("invoke_agent a", start_time=T0)
    child = tracer.start_span("chat m", context=set_span_in_context(root), start_time=T0 + MS)
    child.end(end_time=T0 + 2 * MS)

    assert (out.getvalue(), processor.pending_traces()) == ("", 1)
    root.end(end_time=T0 + 3 * MS)
    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 2 spans · 3.0ms\n"
        "invoke_agent a    3.0ms\n"
        "└── chat m        1.0ms\n"
    )


def test_open_traces_are_bounded_and_the_oldest_is_dropped(provider: TracerProvider) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, max_traces=2)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    roots = [tracer.start_span(f"root {i}", start_time=T0) for i in range(3)]
    for i, root in enumerate(roots):
        child = tracer.start_span(f"child {i}", context=set_span_in_context(root), start_time=T0)
        child.end(end_time=T0 + MS)

    assert processor.pending_traces() == 2
    roots[0].end(end_time=T0 + 2 * MS)  # its buffered child was dropped: the root prints alone
    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 1 span · 2.0ms\nroot 0    2.0ms\n"
    )


def test_spans_per_trace_are_bounded_and_counted_as_dropped(provider: TracerProvider) -> None:
    out = io.StringIO()
    provider.add_span_processor(ConsoleSpanProcessor(out, color=False, max_spans_per_trace=2))
    tracer = provider.get_tracer("test")
    root = tracer.start_span("root", start_time=T0)
    for i in range(3):
        child = tracer.start_span(f"step {i}", context=set_span_in_context(root), start_time=T0)
        child.end(end_time=T0 + (i + 1) * MS)
    root.end(end_time=T0 + 10 * MS)

    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 2 spans · 2 dropped · 10ms\n"
        "root           10ms\n"
        "└── step 2    3.0ms\n"
    )


def test_colours_only_on_a_tty_without_no_color(
    provider: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    provider.add_span_processor(ConsoleSpanProcessor(tty))
    tracer = provider.get_tracer("test")
    monkeypatch.delenv("NO_COLOR", raising=False)
    tracer.start_span("first", start_time=T0).end(end_time=T0 + MS)
    first = tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tracer.start_span("second", start_time=T0).end(end_time=T0 + MS)
    second = tty.getvalue()[len(first) :]

    assert first == (
        "\x1b[1mtrace 00000000000000000000000000000001 · support-bot · 1 span · 1.0ms\x1b[0m\n"
        "first  \x1b[2m  1.0ms\x1b[0m\n"
    )
    assert second == (
        "trace 00000000000000000000000000000002 · support-bot · 1 span · 1.0ms\nsecond    1.0ms\n"
    )


def test_a_broken_stream_never_raises_into_the_application(provider: TracerProvider) -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("disk full")

    memory = InMemorySpanExporter()
    provider.add_span_processor(ConsoleSpanProcessor(Broken(), color=False))
    provider.add_span_processor(SimpleSpanProcessor(memory))  # runs after the console one
    tracer = provider.get_tracer("test")

    def user_work() -> str:
        with tracer.start_as_current_span("user work"):
            return "done"  # ending the root renders and hits the broken stream

    assert user_work() == "done"
    assert [s.name for s in memory.get_finished_spans()] == ["user work"]


def test_jsonl_exporter_writes_one_object_per_span_that_reads_back_identically(
    provider: TracerProvider, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "traces.jsonl"
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(path)))
    build_support_trace(provider.get_tracer("test"))

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    tool = next(r for r in records if r["name"] == "execute_tool search")
    assert tool == {
        "trace_id": "00000000000000000000000000000001",
        "span_id": "0000000000000003",
        "parent_id": "0000000000000002",
        "name": "execute_tool search",
        "kind": "INTERNAL",
        "start_time_unix_nano": T0 + 900 * MS,
        "end_time_unix_nano": T0 + 912 * MS,
        "status": {"code": "ERROR", "message": "timed out"},
        "attributes": {S.GEN_AI_OPERATION_NAME: "execute_tool", S.ERROR_TYPE: "TimeoutError"},
        "events": [],
        "resource": {S.SERVICE_NAME: "support-bot"},
    }
    views = [SpanView.from_dict(r) for r in records]
    assert [v.to_dict() for v in views] == records
    assert render_trace(views) == EXPECTED_SUPPORT_TREE


def test_jsonl_exporter_drops_the_batch_when_the_file_cannot_be_written(
    provider: TracerProvider, tmp_path: Path
) -> None:
    collected: list[ReadableSpan] = []
    tracer = provider.get_tracer("test")
    span = tracer.start_span("x", start_time=T0)
    span.end(end_time=T0 + MS)
    assert isinstance(span, ReadableSpan)
    collected.append(span)
    exporter = JsonlSpanExporter(tmp_path)  # a directory: open() fails with IsADirectoryError

    assert exporter.export(collected) is SpanExportResult.FAILURE
    assert list(tmp_path.iterdir()) == []

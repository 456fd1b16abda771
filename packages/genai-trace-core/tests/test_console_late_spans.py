"""The console span processor with spans that end after their root: waited for, marked open,
flushed, and joined to the tree already printed."""

from __future__ import annotations

import io
import time

from opentelemetry.sdk.trace import Span, TracerProvider
from opentelemetry.trace import SpanKind, Tracer, set_span_in_context

from genai_trace_core import semconv as S
from genai_trace_core.export._console import ConsoleSpanProcessor

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def _root_with_late_child(tracer: Tracer) -> tuple[Span, Span]:
    """A query whose streamed model call is still open when the query span ends."""
    root = tracer.start_span("query", start_time=T0)
    chat = tracer.start_span(
        "chat gpt-4o-mini",
        context=set_span_in_context(root),
        kind=SpanKind.CLIENT,
        start_time=T0 + MS,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
            S.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            S.GEN_AI_USAGE_INPUT_TOKENS: 10,
            S.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
        },
    )
    root.end(end_time=T0 + 2 * MS)
    return root, chat


def test_a_span_ending_after_its_root_is_waited_for_and_printed_in_the_tree(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False)
    provider.add_span_processor(processor)

    _, chat = _root_with_late_child(provider.get_tracer("test"))
    assert (out.getvalue(), processor.pending_traces()) == ("", 1)
    chat.end(end_time=T0 + 9 * MS)

    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 2 spans · 9.0ms\n"
        "query                   2.0ms\n"
        "└── chat gpt-4o-mini    8.0ms  in 10 out 5\n"
        "  model        calls  input  cache  output  cost\n"
        "  gpt-4o-mini      1     10      0       5     -\n"
    )
    assert processor.pending_traces() == 0


EXPECTED_WITH_OPEN_CHAT = (
    "trace 00000000000000000000000000000001 · support-bot · 2 spans · 2.0ms\n"
    "query                          2.0ms\n"
    "└── chat gpt-4o-mini (open)    0.0ms  in 10 out 5\n"
    "  model        calls  input  cache  output  cost\n"
    "  gpt-4o-mini      1     10      0       5     -\n"
)


def test_a_span_still_open_after_the_grace_period_is_printed_marked_open(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, grace_seconds=0.01)
    provider.add_span_processor(processor)

    _, chat = _root_with_late_child(provider.get_tracer("test"))
    deadline = time.monotonic() + 5
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.005)

    assert (out.getvalue(), processor.pending_traces()) == (EXPECTED_WITH_OPEN_CHAT, 0)
    chat.end(end_time=T0 + 9 * MS)  # too late for the tree: printed alone, as a continuation
    assert out.getvalue() == EXPECTED_WITH_OPEN_CHAT + (
        "trace 00000000000000000000000000000001 (continued) · support-bot · 1 span · 8.0ms\n"
        "chat gpt-4o-mini    8.0ms  in 10 out 5\n"
        "  model        calls  input  cache  output  cost\n"
        "  gpt-4o-mini      1     10      0       5     -\n"
    )
    assert processor.pending_traces() == 0


def test_force_flush_prints_an_ended_root_at_once_with_its_open_spans_marked(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, grace_seconds=60)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    running = tracer.start_span("another request", start_time=T0)  # root not ended: kept

    _root_with_late_child(tracer)
    assert processor.force_flush() is True

    assert out.getvalue() == EXPECTED_WITH_OPEN_CHAT.replace("000001 ·", "000002 ·")
    assert processor.pending_traces() == 1
    running.end(end_time=T0 + MS)
    assert processor.pending_traces() == 0


def test_a_full_trace_buffer_is_printed_without_waiting_for_open_spans(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, max_spans_per_trace=2, grace_seconds=60)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    root = tracer.start_span("query", start_time=T0)
    ctx = set_span_in_context(root)
    tracer.start_span("stream", context=ctx, start_time=T0 + MS)
    tracer.start_span("retrieve", context=ctx, start_time=T0).end(end_time=T0 + MS)
    root.end(end_time=T0 + 3 * MS)  # two ended spans fill the buffer: print now

    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 3 spans · 3.0ms\n"
        "query                3.0ms\n"
        "├── retrieve         1.0ms\n"
        "└── stream (open)    0.0ms\n"
    )
    assert processor.pending_traces() == 0


def test_shutdown_prints_the_waiting_trace_once_and_nothing_after(
    provider: TracerProvider,
) -> None:
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, grace_seconds=0.01)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    tracer.start_span("still running", start_time=T0)  # root not ended: dropped at shutdown

    _, chat = _root_with_late_child(tracer)
    processor.shutdown()
    time.sleep(0.05)  # the grace timer was cancelled
    chat.end(end_time=T0 + 9 * MS)

    assert out.getvalue() == EXPECTED_WITH_OPEN_CHAT.replace("000001 ·", "000002 ·")
    assert processor.pending_traces() == 0


def test_a_stream_read_after_the_query_ended_joins_the_printed_tree(
    provider: TracerProvider,
) -> None:
    """LlamaIndex streaming: the query and synthesize spans end before the model call even
    starts; the synthesize span says so with ``genai_trace.stream.deferred``."""
    out = io.StringIO()
    processor = ConsoleSpanProcessor(out, color=False, grace_seconds=60)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    query = tracer.start_span("query", start_time=T0)
    synth = tracer.start_span(
        "synthesize",
        context=set_span_in_context(query),
        start_time=T0 + MS,
        attributes={S.STREAM_DEFERRED: True},
    )
    synth.end(end_time=T0 + 2 * MS)
    query.end(end_time=T0 + 3 * MS)
    assert (out.getvalue(), processor.pending_traces()) == ("", 1)

    chat = tracer.start_span("chat m", context=set_span_in_context(synth), start_time=T0 + 4 * MS)
    assert out.getvalue() == ""
    chat.end(end_time=T0 + 8 * MS)

    assert out.getvalue() == (
        "trace 00000000000000000000000000000001 · support-bot · 3 spans · 8.0ms\n"
        "query             3.0ms\n"
        "└── synthesize    1.0ms\n"
        "    └── chat m    4.0ms\n"
    )

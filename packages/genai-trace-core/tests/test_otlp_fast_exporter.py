"""The OTLP/HTTP span exporter configure() builds: the SDK's exporter (sending, retries,
compression, headers) whose requests carry the fast encoder's bytes, which are the SDK's bytes.

A receiver on 127.0.0.1 (an ephemeral port, in a thread) keeps every request body and header.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanContext, SpanKind

from genai_trace_core import configure
from genai_trace_core.export import _otlp_exporter
from genai_trace_core.export._guarded import GuardedBatchSpanProcessor
from genai_trace_core.export._otlp_exporter import FastOTLPSpanExporter, fast_encoder_works


@dataclass
class Receiver:
    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_first: int = 0  # answer 503 to that many requests first


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.bodies.append(body)
                state.headers.append({k.lower(): v for k, v in self.headers.items()})
                failing = state.fail_first > 0
                state.fail_first -= 1
            self.send_response(503 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _spans() -> list[ReadableSpan]:
    """Spans as an app makes them (the SDK's own span objects, limits and all)."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test", "1.0")
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as span:
        span.set_attributes({"gen_ai.request.model": "gpt-4o", "n": 3, "t": 0.5, "ok": True})
        span.add_event("gen_ai.choice", {"index": 0, "finish": ("stop",)})
        with tracer.start_as_current_span("tool ☃", links=[]) as child:
            child.set_attribute("gen_ai.tool.name", "naïve")
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_configure_builds_the_fast_exporter(receiver: Receiver) -> None:
    providers = configure(endpoint=receiver.url.rsplit("/v1/", 1)[0], set_global=False)
    try:
        processor = providers.span_processor
        assert isinstance(processor, GuardedBatchSpanProcessor)
        exporter = processor._counting.inner
        assert type(exporter) is FastOTLPSpanExporter
        assert exporter.fast_encoder
        with providers.tracer_provider.get_tracer("t").start_as_current_span("root"):
            pass
        assert providers.force_flush(10_000)
    finally:
        providers.shutdown()
    assert len(receiver.bodies) == 1
    assert b"root" in receiver.bodies[0]


def test_requests_carry_the_sdk_encoders_bytes(receiver: Receiver) -> None:
    spans = _spans()
    exporter = FastOTLPSpanExporter(endpoint=receiver.url)
    assert exporter.fast_encoder
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert receiver.bodies == [encode_spans(spans).SerializePartialToString()]
    assert receiver.headers[0]["content-type"] == "application/x-protobuf"


def test_compression_headers_and_retries_are_the_sdks(receiver: Receiver) -> None:
    spans = _spans()
    receiver.fail_first = 1  # the SDK's exporter retries a 503 after about a second
    exporter = FastOTLPSpanExporter(
        endpoint=receiver.url, headers={"x-tenant": "a"}, compression=Compression.Gzip
    )
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    expected = encode_spans(spans).SerializePartialToString()
    assert [gzip.decompress(b) for b in receiver.bodies] == [expected, expected]
    assert all(h["content-encoding"] == "gzip" and h["x-tenant"] == "a" for h in receiver.headers)


def test_the_environment_switch_gives_the_sdks_encoder(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_otlp_exporter.ENV_ENCODER, "sdk")
    calls: list[int] = []
    monkeypatch.setattr(_otlp_exporter, "encode_request", lambda spans: calls.append(1))
    spans = _spans()
    exporter = FastOTLPSpanExporter(endpoint=receiver.url)
    assert not exporter.fast_encoder
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert calls == []
    assert receiver.bodies == [encode_spans(spans).SerializePartialToString()]


def test_an_encoder_failure_falls_back_to_the_sdk_for_that_batch(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = _spans()
    exporter = FastOTLPSpanExporter(endpoint=receiver.url)

    def broken(batch: Any) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr(_otlp_exporter, "encode_request", broken)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    monkeypatch.undo()
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # the next batch: fast again
    exporter.shutdown()
    expected = encode_spans(spans).SerializePartialToString()
    assert receiver.bodies == [expected, expected]


def test_a_value_the_fast_encoder_declines_is_encoded_by_the_sdk(receiver: Receiver) -> None:
    spans = [ReadableSpan("s", SpanContext(1, 2, False), attributes={"bad": 2**70, "ok": "y"})]
    exporter = FastOTLPSpanExporter(endpoint=receiver.url)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert receiver.bodies == [encode_spans(spans).SerializePartialToString()]
    # An attribute is a KeyValue whose key is field 1 (tag 0x0a, then its length): searched as
    # such, not as bare letters a random resource id (hex) can contain.
    assert b"\n\x02ok" in receiver.bodies[0]
    assert b"\n\x03bad" not in receiver.bodies[0]  # the SDK skips what upb refuses


def test_a_probe_that_encodes_differently_turns_the_fast_encoder_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_otlp_exporter._Check, "result", None)
    monkeypatch.setattr(_otlp_exporter, "encode_request", lambda spans: b"different")
    assert not fast_encoder_works()
    monkeypatch.setattr(_otlp_exporter._Check, "result", None)
    monkeypatch.undo()
    monkeypatch.setattr(_otlp_exporter._Check, "result", None)
    assert fast_encoder_works()  # the real encoder passes the probe on this SDK


def test_a_long_batch_is_encoded_in_chunks_with_pauses_between() -> None:
    from genai_trace_core.export._otlp_spans import encode_request

    spans = _spans() * 100
    pauses: list[int] = []
    encoded = encode_request(spans, lambda: pauses.append(1), 64)
    assert encoded == encode_spans(spans).SerializePartialToString()
    assert len(pauses) == (len(spans) - 1) // 64 == 3


@pytest.mark.parametrize(("encoder", "batch"), [("", 512), ("sdk", 128)])
def test_configure_sends_bigger_batches_with_the_fast_encoder(
    encoder: str, batch: int, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_otlp_exporter.ENV_ENCODER, encoder)
    monkeypatch.delenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", raising=False)
    providers = configure(endpoint=receiver.url.rsplit("/v1/", 1)[0], set_global=False)
    try:
        processor = providers.span_processor
        assert processor is not None
        assert processor._batch_processor._max_export_batch_size == batch
    finally:
        providers.shutdown()

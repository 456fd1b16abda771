"""configure() with an endpoint exports traces, metrics and logs over OTLP/HTTP.

The receiver is a tiny ``http.server`` on 127.0.0.1 (an ephemeral port) in a thread; bodies are
decoded with the ``opentelemetry.proto`` collector messages. Nothing leaves the loopback.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.trace import SpanKind

from genai_trace_core import semconv as S
from genai_trace_core.export import configure

_MESSAGES: dict[str, type[Message]] = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
}


@dataclass
class Receiver:
    endpoint: str
    received: dict[str, list[Any]] = field(default_factory=dict)
    content_types: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(endpoint="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            message_type = _MESSAGES.get(self.path)
            if message_type is None:
                self.send_response(404)
                self.end_headers()
                return
            message = message_type()
            message.ParseFromString(body)
            with state.lock:
                state.received.setdefault(self.path, []).append(message)
                state.content_types.add(self.headers.get("Content-Type", ""))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="otlp-receiver", daemon=True
    )
    thread.start()
    state.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return _attrs(v.kvlist_value.values)
    return getattr(v, kind) if kind else None


def _attrs(kvs: Any) -> dict[str, Any]:
    items: list[KeyValue] = list(kvs)
    return {kv.key: _value(kv.value) for kv in items}


def test_spans_metrics_and_logs_arrive_at_an_otlp_http_receiver(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_SERVICE_NAME",
    ):
        monkeypatch.delenv(var, raising=False)
    threads_before = set(threading.enumerate())
    providers = configure(endpoint=receiver.endpoint, service_name="otlp-test", set_global=False)
    try:
        assert (providers.mode, providers.jsonl_path) == ("otlp/http/protobuf", None)
        tracer = providers.tracer_provider.get_tracer("genai-trace-test")
        with (
            tracer.start_as_current_span(
                "invoke_agent planner", attributes={S.GEN_AI_OPERATION_NAME: S.OP_INVOKE_AGENT}
            ),
            tracer.start_as_current_span(
                "chat gpt-4o",
                kind=SpanKind.CLIENT,
                attributes={
                    S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
                    S.GEN_AI_REQUEST_MODEL: "gpt-4o",
                    S.GEN_AI_USAGE_INPUT_TOKENS: 12,
                    S.GEN_AI_USAGE_OUTPUT_TOKENS: 3,
                },
            ),
        ):
            pass
        meter = providers.meter_provider.get_meter("genai-trace-test")
        meter.create_counter(S.METRIC_COST, unit="USD").add(
            0.25, {S.GEN_AI_REQUEST_MODEL: "gpt-4o"}
        )
        providers.logger_provider.get_logger("genai-trace-test").emit(
            event_name=S.EVENT_INFERENCE_DETAILS,
            body="details",
            attributes={S.GEN_AI_OPERATION_NAME: S.OP_CHAT},
        )
        assert providers.force_flush(timeout_millis=10_000)
    finally:
        providers.shutdown()
    # Our exporters' threads are gone; the receiver's own per-request threads may still be
    # finishing their reply (they belong to the test's server, not to genai-trace).
    left = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert [t.name for t in left if "process_request_thread" not in t.name] == []

    assert receiver.content_types == {"application/x-protobuf"}
    assert sorted(receiver.received) == ["/v1/logs", "/v1/metrics", "/v1/traces"]

    resource_spans = [rs for req in receiver.received["/v1/traces"] for rs in req.resource_spans]
    assert {_attrs(rs.resource.attributes)[S.SERVICE_NAME] for rs in resource_spans} == {
        "otlp-test"
    }
    spans = [s for rs in resource_spans for ss in rs.scope_spans for s in ss.spans]
    by_name = {s.name: s for s in spans}
    assert sorted(by_name) == ["chat gpt-4o", "invoke_agent planner"]
    chat, agent = by_name["chat gpt-4o"], by_name["invoke_agent planner"]
    assert (chat.parent_span_id, chat.trace_id) == (agent.span_id, agent.trace_id)
    assert _attrs(chat.attributes) == {
        S.GEN_AI_OPERATION_NAME: "chat",
        S.GEN_AI_REQUEST_MODEL: "gpt-4o",
        S.GEN_AI_USAGE_INPUT_TOKENS: 12,
        S.GEN_AI_USAGE_OUTPUT_TOKENS: 3,
    }

    metrics = {
        m.name: m
        for req in receiver.received["/v1/metrics"]
        for rm in req.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    cost = metrics[S.METRIC_COST]
    assert (cost.unit, [p.as_double for p in cost.sum.data_points]) == ("USD", [0.25])
    assert _attrs(cost.sum.data_points[0].attributes) == {S.GEN_AI_REQUEST_MODEL: "gpt-4o"}

    records = [
        (_attrs(rl.resource.attributes)[S.SERVICE_NAME], r.event_name, r.body.string_value)
        for req in receiver.received["/v1/logs"]
        for rl in req.resource_logs
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert records == [("otlp-test", S.EVENT_INFERENCE_DETAILS, "details")]

"""A local OTLP/HTTP (protobuf) receiver on 127.0.0.1 for end-to-end tests: another process
exports to it, the test reads back decoded spans and log records."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None


@dataclass
class Received:
    spans: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_traces(self, body: bytes) -> None:
        req = ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    span = {
                        "service": resource.get("service.name"),
                        "scope": ss.scope.name,
                        "name": s.name,
                        "kind": s.kind,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_id": s.parent_span_id.hex() or None,
                        "start": s.start_time_unix_nano,
                        "attributes": {kv.key: _value(kv.value) for kv in s.attributes},
                    }
                    with self.lock:
                        self.spans.append(span)

    def add_logs(self, body: bytes) -> None:
        req = ExportLogsServiceRequest.FromString(body)
        for rl in req.resource_logs:
            for sl in rl.scope_logs:
                for r in sl.log_records:
                    record = {
                        "event_name": r.event_name,
                        "trace_id": r.trace_id.hex(),
                        "span_id": r.span_id.hex(),
                        "attributes": {kv.key: _value(kv.value) for kv in r.attributes},
                    }
                    with self.lock:
                        self.logs.append(record)


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, Received]]:
    """Yields (base URL, received data); stopped at exit."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path == "/v1/traces":
                received.add_traces(body)
            elif self.path == "/v1/logs":
                received.add_logs(body)
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

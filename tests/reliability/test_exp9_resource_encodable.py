"""The resource ``configure()`` builds reaches the backend whole, whatever text it was given.

docs/guarantees.md ("Every span is exportable"): values the OTLP encoder would reject are
repaired (strings made valid UTF-8, U+FFFD) so that nothing is lost. The resource is built by
``configure()`` from ``service_name=``, ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``.
On Linux a variable holding bytes that are not UTF-8 (a Latin-1 ``café``) reaches Python as a
lone surrogate (``caf\\udce9``, PEP 383). Before the fix the OTLP encoders could not encode it:
``service.name`` was dropped from every request of every signal (the backend files the spans
under no service), the OpenTelemetry encoder logged an ERROR with a traceback, and the fast span
encoder gave up on every batch (the SDK's, ~9x slower on the export thread, encoded them all).
"""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

import pytest
from fake_otlp_backend import Handler, serve
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from reliability_support import captured_logs

from genai_trace_core import configure, semconv
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

_LATIN1_CAFE = b"caf\xe9".decode("utf-8", "surrogateescape")  # what os.environ holds


class _Keeping(Handler):
    """The healthy fake backend, keeping every request body."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path.endswith("/v1/traces"):
            self.bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _resources_received() -> list[dict[str, str]]:
    out = []
    for body in _Keeping.bodies:
        for rs in ExportTraceServiceRequest.FromString(body).resource_spans:
            attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
            out.append(attrs | {"spans": str(sum(len(s.spans) for s in rs.scope_spans))})
    return out


@pytest.mark.parametrize("encoder", ["fast", "sdk"])
@pytest.mark.parametrize("where", ["argument", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"])
def test_a_service_name_that_is_not_utf8_is_exported_repaired(
    encoder: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_TRACE_OTLP_ENCODER", encoder)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    name: str | None = None
    if where == "argument":
        name = _LATIN1_CAFE
    elif where == "OTEL_SERVICE_NAME":
        monkeypatch.setenv("OTEL_SERVICE_NAME", _LATIN1_CAFE)
    else:
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", f"service.name={_LATIN1_CAFE},team=t")
    _Keeping.bodies = []
    monkeypatch.setattr("fake_otlp_backend.Handler", _Keeping)
    with (
        serve("200", threading.Event()) as url,
        captured_logs("opentelemetry", logging.WARNING) as otel_logs,
    ):
        providers = configure(
            service_name=name,
            endpoint=url.removesuffix("/v1/traces"),
            set_global=False,
            console=False,
        )
        try:
            handler = OpenTelemetryCallbackHandler(tracer_provider=providers.tracer_provider)
            for i in range(3):
                FakeChatOpenAI(responses=["ok"]).invoke(f"q{i}", config={"callbacks": [handler]})
            assert providers.force_flush(10_000)
        finally:
            providers.shutdown()
    received = _resources_received()
    assert received, "no span request reached the backend"
    assert sum(int(r["spans"]) for r in received) == 3
    assert {r.get(semconv.SERVICE_NAME) for r in received} == {"caf\ufffd"}
    errors = [f"{r.name}: {r.getMessage()}" for r in otel_logs]
    assert errors == []

"""The app shuts down the providers ``configure()`` built itself (every README snippet ends with
``providers.shutdown()``): the runs still open (a stream read in part, never closed) end as
``abandoned`` first, and are exported.

Until 2026-12-07 ``Providers.shutdown()`` stopped the processors first; the runs were ended later,
at exit, into processors already shut down: lost, and the one warning blamed the backend
("already_shutdown; the tracing backend may be down or slow") though it was healthy. Spans ended
after shutdown now get their own warning, and a second ``configure()`` with other arguments, which
keeps the first providers, says which arguments it ignored. Found by red-team helper A.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from genai_trace_core import Operation, OperationKind, Providers, Telemetry
from genai_trace_core.export import configure

CHAT = Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini")
QA = Operation(OperationKind.INVOKE_WORKFLOW, name="qa")


class Receiver:
    """An OTLP/HTTP trace receiver on the loopback: ``(name, error.type)`` of each span."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str | None]] = []
        lock = threading.Lock()
        spans = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = ExportTraceServiceRequest()
                request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    for rs in request.resource_spans:
                        for ss in rs.scope_spans:
                            for s in ss.spans:
                                error = {a.key: a.value.string_value for a in s.attributes}
                                spans.append((s.name, error.get("error.type")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    for var in [v for v in os.environ if v.startswith(("OTEL_", "GENAI_TRACE_"))]:
        monkeypatch.delenv(var)
    state = Receiver()
    thread = threading.Thread(target=state.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()
        thread.join(timeout=5)


def _open_stream(providers: Providers) -> Telemetry:
    """A workflow done, then one whose model call streamed a chunk and was never closed."""
    telemetry = Telemetry(tracer_provider=providers.tracer_provider)
    telemetry.start("done", Operation(OperationKind.INVOKE_WORKFLOW, name="done"))
    telemetry.end("done")
    telemetry.start("qa", QA)
    telemetry.start("chat", CHAT, parent_run_id="qa")
    telemetry.chunk("chat")
    return telemetry


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("how", ["providers.shutdown()", "tracer_provider.shutdown()"])
def test_runs_open_when_the_app_shuts_the_providers_down_are_exported_abandoned(
    receiver: Receiver, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    providers = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    telemetry = _open_stream(providers)
    if how == "providers.shutdown()":
        providers.shutdown()
    else:  # the SDK provider's own shutdown, on the provider configure() built
        providers.tracer_provider.shutdown()
        providers.shutdown()
    assert sorted(receiver.spans) == [
        ("chat gpt-4o-mini", "abandoned"),
        ("invoke_workflow done", None),
        ("invoke_workflow qa", "abandoned"),
    ]
    assert telemetry.open_count() == 0
    assert _warnings(caplog) == []  # nothing was dropped: no warning blaming the backend


@pytest.mark.parametrize("how", ["providers.shutdown()", "tracer_provider.shutdown()"])
def test_shutting_one_provider_down_ends_only_the_runs_it_exports(
    receiver: Receiver, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """Another provider's runs stay open (an app's stream, a side job shutting its own down);
    until 2026-12-07 every run open in the process ended (found by red-team helper Z1)."""
    side = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    app = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    side_telemetry = _open_stream(side)
    app_telemetry = Telemetry(tracer_provider=app.tracer_provider)
    app_telemetry.start("app", Operation(OperationKind.INVOKE_WORKFLOW, name="app"))
    app_telemetry.start("app-chat", CHAT, parent_run_id="app")
    app_telemetry.chunk("app-chat")
    if how == "providers.shutdown()":
        side.shutdown()
    else:
        side.tracer_provider.shutdown()
    assert (side_telemetry.open_count(), app_telemetry.open_count()) == (0, 2)
    app_telemetry.end("app-chat")  # the app reads its stream to the end
    app_telemetry.end("app")
    app.shutdown()
    side.shutdown()
    assert sorted(receiver.spans, key=str) == [
        ("chat gpt-4o-mini", "abandoned"),
        ("chat gpt-4o-mini", None),
        ("invoke_workflow app", None),
        ("invoke_workflow done", None),
        ("invoke_workflow qa", "abandoned"),
    ]
    assert _warnings(caplog) == []


def test_a_flush_never_ends_the_runs_still_open(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    providers = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    telemetry = _open_stream(providers)
    assert providers.force_flush(5_000)
    assert receiver.spans == [("invoke_workflow done", None)]
    assert (telemetry.is_open("qa"), telemetry.is_open("chat")) == (True, True)
    telemetry.end("chat")  # the stream is read to its end after all
    telemetry.end("qa")
    providers.shutdown()
    assert sorted(receiver.spans) == [
        ("chat gpt-4o-mini", None),
        ("invoke_workflow done", None),
        ("invoke_workflow qa", None),
    ]
    assert _warnings(caplog) == []


def test_shutdown_keeps_its_time_budget_when_the_open_runs_cannot_be_ended(
    receiver: Receiver,
) -> None:
    providers = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    telemetry = _open_stream(providers)
    with telemetry._registry._lock:  # held by a thread a signal handler interrupted
        started = time.monotonic()
        providers.shutdown(timeout_millis=2_000)
        took = time.monotonic() - started
    assert 0.9 < took < 1.8  # half the budget to end them, once; the rest to export
    assert receiver.spans == [("invoke_workflow done", None)]


def test_spans_ended_after_shutdown_are_not_blamed_on_the_backend(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    providers = configure(endpoint=receiver.endpoint, set_global=False, console=False)
    telemetry = Telemetry(tracer_provider=providers.tracer_provider)
    providers.shutdown()
    for run in ("late", "later"):  # the app keeps serving after a shutdown (a test teardown)
        telemetry.start(run, QA)
        telemetry.end(run)
    assert receiver.spans == []
    assert _warnings(caplog) == [
        "genai-trace: 1 span(s) could not be exported (already_shutdown): they ended after the "
        "tracer provider was already shut down (providers.shutdown()); work traced after it is "
        "not exported. The application is not affected. Further such drops are counted in the "
        "genai_trace.export.spans_dropped metric and not logged again."
    ]
    assert providers.span_processor is not None
    assert providers.span_processor.dropped.counts() == {"already_shutdown": 2}


AGAIN = """
import io, json, logging, sys
from genai_trace_core.export import configure

log = io.StringIO()
logging.basicConfig(stream=log, level=logging.WARNING, format="%(message)s")
first = configure(endpoint="http://user:s3cret@127.0.0.1:9/", console=False, jsonl_path="")
same = configure(endpoint="http://user:s3cret@127.0.0.1:9/", jsonl_path="")  # as the first
other = configure(endpoint="http://127.0.0.1:4318", service_name="b", console=False)
again = configure(endpoint="http://127.0.0.1:4318", service_name="b")  # warned once already
print(json.dumps({"kept": first is same is other is again, "log": log.getvalue().splitlines()}))
first.shutdown(timeout_millis=100)
"""


def test_a_second_configure_with_other_arguments_says_which_it_ignored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", AGAIN],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "kept": True,
        "log": [  # by name only: an endpoint (or a header) may carry a credential
            "genai-trace: configure() called again while the providers it installed are alive: "
            "they are kept, and endpoint, service_name (different from the first call's) "
            "ignored. Call providers.shutdown() first to build new ones, or pass "
            "set_global=False."
        ],
    }

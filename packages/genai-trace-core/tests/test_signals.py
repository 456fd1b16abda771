"""configure() honours OTEL_{TRACES,METRICS,LOGS}_EXPORTER and the per-signal OTLP endpoints.

The backend is a loopback HTTP server that accepts only ``/v1/traces`` (405 for anything else),
as a traces-only backend such as Phoenix or Jaeger does; the program runs in a subprocess so its
whole stderr (the SDK's export errors included) and exit are observed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROGRAM = """
from genai_trace_core import configure
providers = configure(service_name="signals")
tracer = providers.tracer_provider.get_tracer("app")
with tracer.start_as_current_span("invoke_workflow rag"):
    with tracer.start_as_current_span("chat gpt-4o-mini"):
        pass
providers.meter_provider.get_meter("app").create_counter("calls").add(1)
providers.shutdown()
print(providers.mode, providers.jsonl_path)
"""


class _TracesOnly(BaseHTTPRequestHandler):
    paths: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.paths.append(self.path)
        self.send_response(200 if self.path == "/v1/traces" else 405)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def backend() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []
    handler = type("Handler", (_TracesOnly,), {"paths": paths})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()
    thread.join()


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", PROGRAM],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_METRICS_EXPORTER": "none",
         "OTEL_LOGS_EXPORTER": "none"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/v1/traces"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/v1/traces", "OTEL_METRICS_EXPORTER": "otlp",
         "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "{url}/v1/traces"},
    ],
    ids=["base-endpoint-metrics-logs-none", "traces-endpoint-only", "metrics-to-traces-path"],
)  # fmt: skip
def test_a_traces_only_backend_gets_spans_and_no_error_line_is_printed(
    tmp_path: Path, backend: tuple[str, list[str]], variables: dict[str, str]
) -> None:
    url, paths = backend
    done = _run(tmp_path, {k: v.format(url=url) for k, v in variables.items()})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == "otlp/http/protobuf None\n"
    assert set(paths) == {"/v1/traces"}
    assert not (tmp_path / ".genai-trace").exists()


def test_without_the_variables_the_same_backend_is_sent_metrics_it_refuses(
    tmp_path: Path, backend: tuple[str, list[str]]
) -> None:
    url, paths = backend
    done = _run(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": url})
    assert done.returncode == 0, done.stderr
    assert "/v1/metrics" in paths and "/v1/traces" in paths
    assert "405" in done.stderr  # what the variables above avoid


def test_traces_exporter_genai_trace_with_otlp_prints_the_tree_and_writes_jsonl(
    tmp_path: Path, backend: tuple[str, list[str]]
) -> None:
    url, paths = backend
    env = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{url}/v1/traces",
        "OTEL_TRACES_EXPORTER": "otlp,genai_trace",
    }
    done = _run(tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert "invoke_workflow rag" in done.stderr and "└── chat gpt-4o-mini" in done.stderr
    jsonl = tmp_path / ".genai-trace" / "traces.jsonl"
    assert done.stdout == f"otlp/http/protobuf {jsonl}\n"
    assert len(jsonl.read_text().splitlines()) == 2
    assert set(paths) == {"/v1/traces"}


def test_none_sends_nothing_anywhere_and_console_prints_the_sdks_json(tmp_path: Path) -> None:
    quiet = _run(tmp_path, {"OTEL_TRACES_EXPORTER": "none"})
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "embedded None\n", "")
    loud = _run(tmp_path, {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console"})
    assert loud.returncode == 0, loud.stderr
    assert '"name": "chat gpt-4o-mini"' in loud.stdout and '"name": "calls"' in loud.stdout
    assert loud.stderr == ""
    assert not (tmp_path / ".genai-trace").exists()


def test_an_unknown_exporter_name_is_one_warning_and_the_others_still_apply(
    tmp_path: Path,
) -> None:
    done = _run(tmp_path, {"OTEL_TRACES_EXPORTER": "zipkin,genai_trace"})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line for line in lines if "zipkin" in line] == [
        "genai-trace: OTEL_TRACES_EXPORTER=zipkin,genai_trace: zipkin not supported here "
        "(use console, genai_trace, none, otlp); ignored"
    ]
    assert any("└── chat gpt-4o-mini" in line for line in lines)


@pytest.mark.parametrize("value", ["otlp_proto_http", "genai-trace", "jaeger,zipkin"])
def test_only_unknown_exporter_names_keep_the_default_instead_of_dropping_the_traces(
    tmp_path: Path, backend: tuple[str, list[str]], value: str
) -> None:
    url, paths = backend
    done = _run(tmp_path, {"OTEL_TRACES_EXPORTER": value})
    assert done.returncode == 0, done.stderr
    assert f"OTEL_TRACES_EXPORTER={value}: " in done.stderr
    assert done.stderr.splitlines()[0].endswith("; using genai_trace")
    assert any("└── chat gpt-4o-mini" in line for line in done.stderr.splitlines())
    assert done.stdout.split()[0] == "embedded"  # as with the variable unset

    names = {
        "OTEL_TRACES_EXPORTER": value,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    sent = _run(tmp_path, {**names, "OTEL_EXPORTER_OTLP_ENDPOINT": url})
    assert sent.returncode == 0, sent.stderr
    assert sent.stderr.splitlines()[0].endswith("; using otlp")
    assert paths == ["/v1/traces"]

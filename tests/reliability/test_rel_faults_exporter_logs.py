"""A failing backend costs the user's terminal one exporter line per kind, not one per batch.

The OTLP exporters log every rejected, retried or timed-out batch; ``configure()`` keeps the first
line of each kind (with a note saying repeats are not logged). The program below is what a user
writes: a fresh interpreter, ``configure()`` first (so the exporter modules are imported by it),
no logging set up (Python's last-resort handler prints warnings to stderr), spans, a metric and
log records in several batches, flushed ``FLUSHES`` times. The backends are the shared fake
OTLP/HTTP server answering 500 or 429 (``Retry-After: 1``, longer than the 0.5 s export timeout,
so each batch fails without waiting) and, over gRPC, a closed port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from fake_otlp_backend import closed_port, serve

PROGRAM = """
import os
from opentelemetry._logs import LogRecord
from genai_trace_core import configure

providers = configure(service_name="faults", console=False)
tracer = providers.tracer_provider.get_tracer("app")
calls = providers.meter_provider.get_meter("app").create_counter("calls")
log = providers.logger_provider.get_logger("app")
for flush in range(int(os.environ["FLUSHES"])):
    for i in range(40):
        with tracer.start_as_current_span("chat"):
            calls.add(1)
        log.emit(LogRecord(body=f"call {i}"))
    providers.force_flush(3000)
providers.shutdown()
print("done")
"""
REPEAT_NOTE = "(genai-trace: further occurrences of this message are not logged)"
SMALL_BATCHES = {
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",  # 16 span batches, every one failing
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "10",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "0.5",
    "FLUSHES": "4",
}


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env={**clean, **SMALL_BATCHES, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_one_line_per_kind(done: subprocess.CompletedProcess[str], first: str) -> None:
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    lines = Counter(line for line in done.stderr.splitlines() if line.strip())
    exporter_lines = [line for line in lines if "export" in line and "genai-trace:" not in line]
    assert not exporter_lines, exporter_lines  # every exporter line carries the note
    failures = [line for line in lines if line.startswith(first)]
    assert failures, done.stderr  # the first failure is still shown
    assert all(line.endswith(REPEAT_NOTE) for line in failures), failures
    assert max(lines.values()) == 1, lines.most_common(3)


def _failed_signals(done: subprocess.CompletedProcess[str], after: str) -> set[str]:
    """The signals a "Failed to export <signal><after>..." line was printed for."""
    lead = "Failed to export "
    lines = [line.strip() for line in done.stderr.splitlines()]
    return {line[len(lead) :].split(after)[0] for line in lines if line.startswith(lead)}


@pytest.mark.parametrize("mode", ["500", "429"])
def test_an_http_backend_that_refuses_every_batch_prints_each_exporter_line_once(
    tmp_path: Path, mode: str
) -> None:
    with serve(mode, threading.Event()) as url:
        base = url.removesuffix("/v1/traces")
        done = _run(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": base})
    # "spans batch" since opentelemetry-exporter-otlp-proto-http 1.3x, "span batch" before
    _assert_one_line_per_kind(done, "Failed to export span")
    assert _failed_signals(done, " batch") in (
        {"spans", "metrics", "logs"},
        {"span", "metrics", "logs"},
    )


def test_a_grpc_backend_that_is_down_prints_each_exporter_line_once(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed_port()}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        # One retry per batch (the first back-off is 0.8-1.2 s): the gRPC exporter's own filter
        # drops only a repeat that directly follows the same message, and the retry line between
        # two failures defeats it.
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1.2",
        "FLUSHES": "1",
    }
    done = _run(tmp_path, env)
    _assert_one_line_per_kind(done, "Failed to export ")

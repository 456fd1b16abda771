"""Smoke test of the real stack, for machines with a Docker engine (nox session ``stack_smoke``).

    python stack/smoke.py [--keep] [--require-docker]

Brings stack/compose.yaml up (``docker compose up --wait``), sends one GenAI trace, log event and
metric over OTLP/HTTP to the collector on localhost:4318, then asks Tempo, Loki and Prometheus
(through Grafana's datasource proxy: only Grafana and OTLP are published) until each has it, checks
that every dashboard and the alert rules are loaded and that a guest without a password is refused,
and tears the stack down (``--keep`` leaves it running). Without ``GRAFANA_ADMIN_PASSWORD`` in the
environment it makes a random one for the run (compose refuses to start without one). Without a
Docker engine it prints that it was SKIPPED and exits 0, or 1 with ``--require-docker``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = "genai-trace-smoke"
SERVICE = "genai-trace-smoke"
OTLP = "http://127.0.0.1:4318"
GRAFANA = "http://127.0.0.1:3000"
TIMEOUT_S = 120.0


def docker_engine_error() -> str | None:
    """Why no Docker engine answers, or None when one does."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker CLI on PATH"
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if result.returncode != 0:
        return f"`docker info` failed: {(result.stderr or result.stdout).strip()[:300]}"
    return None


def compose(*args: str) -> None:
    cmd = ["docker", "compose", "--project-directory", str(HERE), "--project-name", PROJECT, *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def send_signals() -> str:
    """One chat span, one inference-details log event in it, one duration sample. Returns the
    trace id (hex)."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import set_span_in_context

    from genai_trace_core import semconv

    resource = Resource.create({"service.name": SERVICE})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{OTLP}/v1/traces")))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(f"{OTLP}/v1/logs"))
    )
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(f"{OTLP}/v1/metrics"), 1000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])

    attrs = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
        semconv.GEN_AI_REQUEST_MODEL: "smoke-model",
    }
    span = tracer_provider.get_tracer("smoke").start_span("chat smoke-model", attributes=attrs)
    logger_provider.get_logger("smoke").emit(
        LogRecord(
            context=set_span_in_context(span),
            severity_number=SeverityNumber.INFO,
            event_name=semconv.EVENT_INFERENCE_DETAILS,
            attributes=attrs,
        )
    )
    span.end()
    meter_provider.get_meter("smoke").create_histogram(
        semconv.METRIC_INFERENCE_DURATION, unit="s"
    ).record(0.42, attrs)
    for provider in (tracer_provider, logger_provider, meter_provider):
        provider.shutdown()  # flushes
    return f"{span.get_span_context().trace_id:032x}"


def wait_for(what: str, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"FAILED: {what} not seen within {TIMEOUT_S:.0f}s")
        time.sleep(2)
    print(f"ok: {what}", flush=True)


def check_backends(trace_id: str) -> None:
    import httpx

    client = httpx.Client(
        base_url=GRAFANA, auth=("admin", os.environ["GRAFANA_ADMIN_PASSWORD"]), timeout=10
    )
    if os.environ.get("GRAFANA_ANONYMOUS_VIEWER", "false") != "true":
        guest = httpx.get(f"{GRAFANA}/api/search", timeout=10).status_code
        if guest != 401:
            raise SystemExit(f"FAILED: a guest without a password got HTTP {guest}, not 401")
        print("ok: guests without a password are refused", flush=True)

    def get(path: str, **params: Any) -> Any:
        response = client.get(path, params=params)
        return response.json() if response.status_code == 200 else None

    proxy = "/api/datasources/proxy/uid"
    wait_for("trace in Tempo", lambda: get(f"{proxy}/tempo/api/v2/traces/{trace_id}") is not None)
    wait_for(
        "log event in Loki",
        lambda: bool(
            (
                body := get(
                    f"{proxy}/loki/loki/api/v1/query_range", query=f'{{service_name="{SERVICE}"}}'
                )
            )
            and body["data"]["result"]
        ),
    )
    wait_for(
        "GenAI metric in Prometheus",
        lambda: bool(
            (
                body := get(
                    f"{proxy}/prometheus/api/v1/query",
                    query=f'gen_ai_client_inference_duration_seconds_count{{service_name="{SERVICE}"}}',
                )
            )
            and body["data"]["result"]
        ),
    )
    wait_for(
        "alert rules loaded in Prometheus",
        lambda: bool((body := get(f"{proxy}/prometheus/api/v1/rules")) and body["data"]["groups"]),
    )
    dashboards = len(list((HERE / "dashboards").glob("*.json")))
    wait_for(
        f"{dashboards} dashboards in Grafana's GenAI folder",
        lambda: (
            len(get("/api/search", folderUIDs="genai-trace", type="dash-db") or []) == dashboards
        ),
    )


def main(argv: list[str]) -> int:
    reason = docker_engine_error()
    if reason is not None:
        print(f"stack smoke test SKIPPED: no Docker engine answered ({reason}).", flush=True)
        return 1 if "--require-docker" in argv else 0
    os.environ.setdefault("GRAFANA_ADMIN_PASSWORD", secrets.token_urlsafe(18))
    try:
        compose("up", "--detach", "--wait", "--wait-timeout", "300")
        trace_id = send_signals()
        check_backends(trace_id)
    finally:
        if "--keep" not in argv:
            compose("down", "--volumes", "--remove-orphans")
    print("stack smoke test PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

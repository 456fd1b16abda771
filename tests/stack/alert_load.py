"""``examples/load.py`` scenarios as separate processes, for test_stack_alerts.py.

    python alert_load.py '[{"scenario": "mixed", "naming": "v1.41", "rate": 5, "duration": 16,
                            "ports": [9101, 9102]}, ...]'

The heavy imports (LangChain, LlamaIndex, tokenizers, prices) happen once; then one child is
forked per job, so every scenario has its own process, metric naming and meter providers (the
instrumentors are process-global). Each integration's metrics go to their own Prometheus endpoint
on 127.0.0.1 (see workload.instrumented for why two). A child prints its load summary as one JSON
line when its load is done, then serves metrics until stdin closes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, start_http_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import langchain_rag  # noqa: E402
import load  # noqa: E402

from genai_trace_core import Providers, count_tokens, get_settings, preload_prices  # noqa: E402
from genai_trace_langchain import LangChainInstrumentor  # noqa: E402
from genai_trace_llamaindex import LlamaIndexInstrumentor  # noqa: E402


def _meters(port: int) -> MeterProvider:
    registry = CollectorRegistry()
    start_http_server(port, "127.0.0.1", registry=registry)
    return MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])


def run_job(job: dict[str, Any]) -> None:
    """One scenario under one naming, in this (forked) process."""
    settings = dataclasses.replace(get_settings(), metrics_naming=job["naming"])
    lc_meters, li_meters = (_meters(port) for port in job["ports"])
    tracer_provider = TracerProvider()
    providers = Providers(
        tracer_provider=tracer_provider,
        meter_provider=lc_meters,
        logger_provider=LoggerProvider(),
        mode="embedded",
    )
    instrumentors = ((LangChainInstrumentor(), lc_meters), (LlamaIndexInstrumentor(), li_meters))
    for instrumentor, meters in instrumentors:
        instrumentor.instrument(
            tracer_provider=tracer_provider,
            meter_provider=meters,
            logger_provider=providers.logger_provider,
            settings=settings,
        )
    try:
        stats = load.run_load(
            providers,
            rate=float(job["rate"]),
            duration=float(job["duration"]),
            scenario=job["scenario"],
            seed=7,
        )
    finally:
        for instrumentor, _ in instrumentors:
            instrumentor.uninstrument()
    summary = {
        "scenario": job["scenario"],
        "naming": job["naming"],
        "requests": stats.requests,
        "errors": stats.errors,
        "by_failure": stats.by_failure,
    }
    # One write of the whole line: the forked jobs share the pipe, and a line written in pieces
    # can interleave with another job's (two summaries on one line broke the reader once).
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), (json.dumps(summary) + "\n").encode())
    sys.stdin.read()  # serve metrics until the test closes stdin


def main() -> int:
    jobs = json.loads(sys.argv[1])
    preload_prices()
    count_tokens(["warm up"], langchain_rag.CHAT_MODEL)  # tokenizers load before forking
    children = []
    for job in jobs:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run_job(job)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        failed += os.waitstatus_to_exitcode(status) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

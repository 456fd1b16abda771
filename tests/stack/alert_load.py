"""One ``examples/load.py`` scenario as its own process, for test_stack_alerts.py.

    python alert_load.py SCENARIO RATE DURATION LANGCHAIN_PORT LLAMAINDEX_PORT

The metric naming comes from ``GENAI_TRACE_METRICS_NAMING`` (read by genai-trace's settings).
Each integration's metrics go to its own Prometheus endpoint on 127.0.0.1 (see
workload.instrumented for why two). Prints ``ready`` once both endpoints serve, then the load's
summary as one JSON line, then keeps serving until stdin closes.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, start_http_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import load  # noqa: E402

from genai_trace_core import Providers, get_settings, preload_prices  # noqa: E402
from genai_trace_langchain import LangChainInstrumentor  # noqa: E402
from genai_trace_llamaindex import LlamaIndexInstrumentor  # noqa: E402


def _meters(port: int) -> MeterProvider:
    registry = CollectorRegistry()
    start_http_server(port, "127.0.0.1", registry=registry)
    return MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])


def main() -> int:
    scenario, rate, duration, lc_port, li_port = sys.argv[1:6]
    preload_prices()
    settings = dataclasses.replace(get_settings())
    lc_meters, li_meters = _meters(int(lc_port)), _meters(int(li_port))
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
    print("ready", flush=True)
    try:
        stats = load.run_load(
            providers, rate=float(rate), duration=float(duration), scenario=scenario, seed=7
        )
    finally:
        for instrumentor, _ in instrumentors:
            instrumentor.uninstrument()
    print(
        json.dumps(
            {
                "naming": settings.metrics_naming,
                "requests": stats.requests,
                "errors": stats.errors,
                "by_failure": stats.by_failure,
            }
        ),
        flush=True,
    )
    sys.stdin.read()  # serve metrics until the test closes our stdin
    for meters in (lc_meters, li_meters):
        meters.shutdown()
    tracer_provider.shutdown()
    providers.logger_provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

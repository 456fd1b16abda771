"""Where each signal goes: the standard ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER`` variables and the
per-signal OTLP endpoints, and the exporters they name.

Values (comma-separated, as in the OpenTelemetry SDK): ``none``, ``otlp``, ``console`` (the SDK's
own console exporters, JSON on stdout) and, for traces, ``genai_trace`` (the terminal tree and the
JSONL file). Unset, or naming only exporters not listed here, a signal goes over OTLP when an
endpoint is known for it (``endpoint=``, ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT``);
otherwise traces get ``genai_trace`` and metrics and logs go nowhere. So a traces-only backend
(``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) never receives metrics or logs it would refuse.

Only ``configure()`` (``export._build``) imports this module (the SDK and the
exporters are imported inside the functions).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.metrics.export import MetricExporter
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["OURS", "SIGNALS", "endpoint_for", "exporters_for", "otlp_exporter", "console_exporter"]

logger = logging.getLogger("genai_trace")

SIGNALS = ("traces", "metrics", "logs")
OURS = "genai_trace"
NONE, OTLP, CONSOLE = "none", "otlp", "console"
ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
PROTOCOL_GRPC = "grpc"
_PATHS = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}
_warned: set[str] = set()


def _allowed(signal: str) -> frozenset[str]:
    base = {NONE, OTLP, CONSOLE}
    return frozenset(base | {OURS}) if signal == "traces" else frozenset(base)


def exporters_for(signal: str, endpoint: str | None) -> frozenset[str]:
    """The exporters ``signal`` goes to: a subset of ``otlp``, ``console``, ``genai_trace``."""
    var = f"OTEL_{signal.upper()}_EXPORTER"
    raw = os.environ.get(var, "").strip().lower()
    values = {v.strip() for v in raw.split(",") if v.strip()}
    known = values & _allowed(signal)
    # Only names this does not know (``otlp_proto_http``, ``genai-trace``): the signal keeps its
    # default, as an invalid setting does, instead of going nowhere.
    default = _default_exporters(signal, endpoint) if not known else None
    unknown = values - known
    if unknown and var not in _warned:
        _warned.add(var)
        logger.warning(
            "genai-trace: %s=%s: %s not supported here (use %s); %s",
            var,
            raw,
            ", ".join(sorted(unknown)),
            ", ".join(sorted(_allowed(signal))),
            "ignored" if default is None else f"using {', '.join(sorted(default)) or 'none'}",
        )
    if NONE in known:
        return frozenset()
    return frozenset(known) if default is None else default


def _default_exporters(signal: str, endpoint: str | None) -> frozenset[str]:
    """Where ``signal`` goes when its variable names none: OTLP when it has an endpoint."""
    if endpoint or os.environ.get(ENV_ENDPOINT) or os.environ.get(_signal_endpoint_var(signal)):
        return frozenset({OTLP})
    return frozenset({OURS}) if signal == "traces" else frozenset()


def _signal_endpoint_var(signal: str) -> str:
    return f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"


def endpoint_for(signal: str, endpoint: str | None, protocol: str) -> str | None:
    """The URL to pass to the exporter: ``None`` lets it read the environment itself (the
    per-signal variable first, then the base one with the signal's path for HTTP)."""
    if endpoint is None:
        return None
    if protocol == PROTOCOL_GRPC:  # gRPC has one endpoint for every signal
        return endpoint
    return f"{endpoint.rstrip('/')}/{_PATHS[signal]}"


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError as exc:
        hint = "pip install 'genai-trace-core[sdk]'"
        raise ImportError(f"genai_trace_core.configure() needs {module}: {hint}") from exc


@overload
def otlp_exporter(
    signal: Literal["traces"], endpoint: str | None, protocol: str
) -> SpanExporter: ...
@overload
def otlp_exporter(
    signal: Literal["metrics"], endpoint: str | None, protocol: str
) -> MetricExporter: ...
@overload
def otlp_exporter(
    signal: Literal["logs"], endpoint: str | None, protocol: str
) -> LogRecordExporter: ...
@overload
def otlp_exporter(
    signal: str, endpoint: str | None, protocol: str
) -> SpanExporter | MetricExporter | LogRecordExporter: ...
def otlp_exporter(
    signal: str, endpoint: str | None, protocol: str
) -> SpanExporter | MetricExporter | LogRecordExporter:
    """One OTLP exporter for ``signal`` over ``protocol`` (``http/protobuf`` or ``grpc``)."""
    url = endpoint_for(signal, endpoint, protocol)
    if protocol == PROTOCOL_GRPC:
        _require("opentelemetry.exporter.otlp.proto.grpc")
        if signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter(endpoint=url)
        if signal == "metrics":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

            return OTLPMetricExporter(endpoint=url)
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=url)
    _require("opentelemetry.exporter.otlp.proto.http")
    if signal == "traces":  # the SDK's exporter with a faster, byte-identical encoder
        from genai_trace_core.export._otlp_exporter import FastOTLPSpanExporter as Span

        return Span(endpoint=url)
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as Metric,
        )

        return Metric(endpoint=url)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as Log

    return Log(endpoint=url)


def console_exporter(signal: str) -> SpanExporter | MetricExporter | LogRecordExporter:
    """The SDK's own console exporter for ``signal`` (``console``: one JSON object per item)."""
    if signal == "traces":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if signal == "metrics":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter()
    from opentelemetry.sdk._logs import export

    # ConsoleLogRecordExporter since SDK 1.4x; ConsoleLogExporter in the lowest we support
    exporter = getattr(export, "ConsoleLogRecordExporter", None) or export.ConsoleLogExporter
    result: LogRecordExporter = exporter()
    return result

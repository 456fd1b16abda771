"""How :func:`~.configure` builds the SDK providers: exporters per signal (OTLP, console, ours),
the guarded OTLP span processor, the terminal tree and the JSONL file. The SDK is imported inside
the functions (extra ``genai-trace-core[sdk]``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_trace_core import semconv
from genai_trace_core.export._quiet import quiet_exporter_logs
from genai_trace_core.export._sdk_providers import Providers

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import SpanExporter

    from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

logger = logging.getLogger("genai_trace")

DEFAULT_SERVICE_NAME = "genai-app"
ENV_SERVICE_NAME = "OTEL_SERVICE_NAME"
ENV_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
PROTOCOL_HTTP = "http/protobuf"
PROTOCOL_GRPC = "grpc"
MODE_EMBEDDED = "embedded"
_OFF = ("", "off", "none", "0", "false", "no")
# Spans per OTLP export unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise. The SDK's 512 holds
# the GIL ~24 ms while its pure-Python encoder serialises a batch, which the application sees as
# tail latency (p99 of a traced RAG call 25 ms at 512, 15 ms at 128, 8 ms untraced; see the
# backend-faults benchmark in tests/benchmarks/README.md); 128 costs 4x the requests.
EXPORT_BATCH = 128
# With the fast encoder (export._otlp_exporter: ~5 µs per span, the GIL released every 64 spans)
# the per-request cost dominates: 512 spans per export, as the SDK's default.
FAST_EXPORT_BATCH = 512
ENV_BSP_BATCH = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"


def _resolve_protocol(protocol: str | None) -> str:
    if protocol is not None:
        value = protocol.strip().lower()
        if value not in (PROTOCOL_HTTP, PROTOCOL_GRPC):
            raise ValueError(f"protocol must be {PROTOCOL_HTTP!r} or {PROTOCOL_GRPC!r}")
        return value
    env = os.environ.get(ENV_PROTOCOL, "").strip().lower()
    if env in ("", PROTOCOL_HTTP, PROTOCOL_GRPC):
        return env or PROTOCOL_HTTP
    logger.warning(
        "genai-trace: %s=%s is not supported; using %s", ENV_PROTOCOL, env, PROTOCOL_HTTP
    )
    return PROTOCOL_HTTP


def _resolve_jsonl(jsonl_path: str | os.PathLike[str] | None, otlp: bool) -> Path | None:
    from genai_trace_core.export._jsonl import DEFAULT_JSONL_PATH, ENV_JSONL

    if jsonl_path is not None:
        raw = os.fspath(jsonl_path)
    elif ENV_JSONL in os.environ:
        raw = os.environ[ENV_JSONL].strip()
        if raw.lower() in _OFF:
            return None
    elif otlp:
        return None
    else:
        raw = os.fspath(DEFAULT_JSONL_PATH)
    return Path(raw).absolute() if raw else None


def build(
    service_name: str | None,
    endpoint: str | None,
    protocol: str | None,
    console: bool | None,
    jsonl_path: str | os.PathLike[str] | None,
) -> Providers:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from genai_trace_core.export import _signals
    from genai_trace_core.export._tracer_provider import EndingTracerProvider

    # The argument, else ``OTEL_SERVICE_NAME``, else ``service.name`` in
    # ``OTEL_RESOURCE_ATTRIBUTES`` (``Resource.create`` reads both), else genai-app.
    name = service_name or os.environ.get(ENV_SERVICE_NAME)
    resource = Resource.create({semconv.SERVICE_NAME: name} if name else {})
    if str(resource.attributes.get(semconv.SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({semconv.SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    resource = _encodable(resource)
    choice = {s: _signals.exporters_for(s, endpoint) for s in _signals.SIGNALS}
    otlp = _signals.OTLP in choice["traces"]
    any_otlp = any(_signals.OTLP in c for c in choice.values())
    proto = _resolve_protocol(protocol) if any_otlp else ""

    def exporters(signal: str) -> list[Any]:
        found: list[Any] = []
        if _signals.OTLP in choice[signal]:
            found.append(_signals.otlp_exporter(signal, endpoint, proto))
        if _signals.CONSOLE in choice[signal]:
            found.append(_signals.console_exporter(signal))
        return found

    if any_otlp:  # one line per kind of export failure, not one per batch
        quiet_exporter_logs()
    tracer_provider = EndingTracerProvider(resource=resource, shutdown_on_exit=False)
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    readers: list[MetricReader] = [PeriodicExportingMetricReader(e) for e in exporters("metrics")]
    meter_provider = MeterProvider(
        resource=resource, metric_readers=readers, shutdown_on_exit=False
    )
    guarded: GuardedBatchSpanProcessor | None = None
    for exporter in exporters("traces"):
        if guarded is None and _signals.OTLP in choice["traces"]:
            guarded = guarded_span_processor(exporter, meter_provider)  # OTLP comes first
            tracer_provider.add_span_processor(guarded)
        else:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    for exporter in exporters("logs"):
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    if any_otlp:  # again: the loggers the exporter modules just imported created
        quiet_exporter_logs()
    ours = _signals.OURS in choice["traces"]
    if console if console is not None else ours:
        from genai_trace_core.export._console import ConsoleSpanProcessor

        tracer_provider.add_span_processor(ConsoleSpanProcessor())
    jsonl = _resolve_jsonl(jsonl_path, not ours)
    if jsonl is not None:
        from genai_trace_core.export._jsonl import JsonlSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(JsonlSpanExporter(jsonl)))
    mode = f"otlp/{proto}" if otlp else MODE_EMBEDDED
    return Providers(
        tracer_provider,
        meter_provider,
        logger_provider,
        mode,
        jsonl,
        span_processor=guarded,
    )


def _encodable(resource: Resource) -> Resource:
    """``resource`` with text the OTLP encoders cannot write repaired (U+FFFD): a lone surrogate,
    as a non-UTF-8 byte in ``OTEL_SERVICE_NAME`` becomes (PEP 383), would otherwise drop the
    attribute from every request of every signal, with an error logged."""
    from opentelemetry.sdk.resources import Resource

    from genai_trace_core.content import sanitize_utf8

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return sanitize_utf8(value)
        if isinstance(value, (list, tuple)):
            return tuple(fix(v) for v in value)
        return value

    attributes = {sanitize_utf8(str(k)): fix(v) for k, v in resource.attributes.items()}
    if attributes == dict(resource.attributes):
        return resource
    return Resource(attributes, resource.schema_url)


def guarded_span_processor(
    exporter: SpanExporter, meter_provider: MeterProvider
) -> GuardedBatchSpanProcessor:
    """The OTLP span processor: counts spans lost to a down/slow backend and warns once (instead
    of once per span); :data:`EXPORT_BATCH` spans per export unless the environment says."""
    from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

    if os.environ.get(ENV_BSP_BATCH):  # the SDK reads it
        return GuardedBatchSpanProcessor(exporter, meter_provider=meter_provider)
    batch = FAST_EXPORT_BATCH if getattr(exporter, "fast_encoder", False) else EXPORT_BATCH
    return GuardedBatchSpanProcessor(
        exporter, meter_provider=meter_provider, max_export_batch_size=batch
    )

"""``configure()``: one call that builds SDK tracer, meter and logger providers.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``endpoint=``) set, every signal goes over OTLP
(``http/protobuf`` by default, ``grpc`` on request). Otherwise an embedded default that needs no
server: each finished trace is printed as a tree on stderr and every span is appended to a local
JSONL file (``./.genai-trace/traces.jsonl``, or ``GENAI_TRACE_JSONL``; read it with
``genai-trace view``). The standard ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER`` (``none``, ``otlp``,
``console``, ``genai_trace``) and ``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`` variables choose per
signal (see :mod:`genai_trace_core.export._signals`).

Nothing else in genai-trace needs ``configure()``: with ``opentelemetry-instrument`` (or any code
that installs providers) the library emits through the global OpenTelemetry API. The SDK and the
exporters are imported here only, inside functions (extra ``genai-trace-core[sdk]``).
"""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import os
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_trace_core import semconv
from genai_trace_core._settings import get_settings, parse_capture_mode, set_settings
from genai_trace_core.export._bounded import SHUTDOWN_TIMEOUT_S, Deadline, run_bounded

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

__all__ = ["Providers", "configure"]

logger = logging.getLogger("genai_trace")

DEFAULT_SERVICE_NAME = "genai-app"
ENV_SERVICE_NAME = "OTEL_SERVICE_NAME"
ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
PROTOCOL_HTTP = "http/protobuf"
PROTOCOL_GRPC = "grpc"
MODE_EMBEDDED = "embedded"
_INSTALL_HINT = "pip install 'genai-trace-core[sdk]'"
_OFF = ("", "off", "none", "0", "false", "no")
# Spans per OTLP export unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise. The SDK's 512 holds
# the GIL ~24 ms while its pure-Python encoder serialises a batch, which the application sees as
# tail latency (p99 of a traced RAG call 25 ms at 512, 15 ms at 128, 8 ms untraced; see the
# backend-faults benchmark in tests/benchmarks/README.md); 128 costs 4x the requests.
EXPORT_BATCH = 128
ENV_BSP_BATCH = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
SHUTDOWN_TIMEOUT_MS = int(SHUTDOWN_TIMEOUT_S * 1000)


@dataclass(eq=False)
class Providers:
    """The providers :func:`configure` built. ``mode`` is ``embedded``, ``otlp/http/protobuf``
    or ``otlp/grpc``; ``jsonl_path`` is the JSONL file spans are appended to, if any."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    mode: str
    jsonl_path: Path | None = None
    span_processor: GuardedBatchSpanProcessor | None = None
    _is_shutdown: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def is_shutdown(self) -> bool:
        return self._is_shutdown

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered; ``True`` if every provider flushed in time. Returns within
        ``timeout_millis`` even when the backend is down (the SDK alone would retry past it)."""
        if self._is_shutdown:
            return False
        deadline = Deadline(timeout_millis / 1000)
        ok = True
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            left = deadline.left_ms()
            flushed = run_bounded(functools.partial(_flush, provider, left), left / 1000, "flush")
            ok = flushed and ok
        return ok

    def shutdown(self, timeout_millis: int = SHUTDOWN_TIMEOUT_MS) -> None:
        """Flush and stop every provider (idempotent; also runs at interpreter exit). Returns
        within ``timeout_millis``: a down or slow backend never holds the process at exit; what
        could not be sent by then is lost (counted in ``genai_trace.export.spans_dropped``)."""
        with self._lock:
            if self._is_shutdown:
                return
            self._is_shutdown = True
        atexit.unregister(self.shutdown)
        deadline = Deadline(timeout_millis / 1000)
        if self.span_processor is not None:  # it gives up (and counts what it drops) in time
            self.span_processor.shutdown_timeout_s = deadline.left_s() * 0.8
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            left = deadline.left_ms()
            run_bounded(functools.partial(_shutdown, provider, left), left / 1000, "shutdown")


def _flush(provider: Any, timeout_millis: int) -> bool:
    return bool(provider.force_flush(timeout_millis))


def _shutdown(provider: Any, timeout_millis: int) -> None:
    # The meter provider takes a timeout (its last export); the others do not.
    if "timeout_millis" in inspect.signature(provider.shutdown).parameters:
        provider.shutdown(timeout_millis=timeout_millis)
    else:
        provider.shutdown()


class _Installed:
    """The providers this module installed as OpenTelemetry globals, if any."""

    lock = threading.Lock()
    providers: Providers | None = None


def configure(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    console: bool | None = None,
    jsonl_path: str | os.PathLike[str] | None = None,
    capture_content: str | None = None,
    set_global: bool = True,
    **settings_overrides: Any,
) -> Providers:
    """Build (and by default install globally) tracer, meter and logger providers.

    Args:
        service_name: ``service.name``; default ``OTEL_SERVICE_NAME``, then ``"genai-app"``.
        endpoint: OTLP base URL (``http://host:4318`` or ``http://host:4317`` for gRPC); default
            ``OTEL_EXPORTER_OTLP_ENDPOINT``. Without one, the embedded terminal/JSONL default.
        protocol: ``http/protobuf`` (default) or ``grpc``; default ``OTEL_EXPORTER_OTLP_PROTOCOL``.
        console: print each finished trace as a tree on stderr (default: only without OTLP).
        jsonl_path: append spans to this file; ``""`` disables. Default ``GENAI_TRACE_JSONL``,
            then ``./.genai-trace/traces.jsonl`` without OTLP and no file with OTLP.
        capture_content: same values as ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
        set_global: install the providers as the OpenTelemetry globals. Calling again while the
            installed providers are alive returns them unchanged (settings are still applied).
        **settings_overrides: fields of :class:`genai_trace_core.Settings` to override.

    Raises ImportError without the SDK (``pip install 'genai-trace-core[sdk]'``), ValueError
    for a ``protocol`` other than ``http/protobuf``/``grpc``, TypeError for an unknown setting.
    """
    _require("opentelemetry.sdk")
    _apply_settings(capture_content, settings_overrides)
    with _Installed.lock:
        current = _Installed.providers
        if set_global and current is not None and not current.is_shutdown:
            logger.debug("genai-trace: configure() called again; keeping the installed providers")
            return current
        providers = _build(service_name, endpoint, protocol, console, jsonl_path)
        atexit.register(providers.shutdown)
        if set_global and _install_globals(providers):
            _Installed.providers = providers
    return providers


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError as exc:
        raise ImportError(f"genai_trace_core.configure() needs {module}: {_INSTALL_HINT}") from exc


def _apply_settings(capture_content: str | None, overrides: dict[str, Any]) -> None:
    known = {f.name for f in fields(get_settings())}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"configure() got unknown settings: {', '.join(unknown)}")
    changes = dict(overrides)
    if capture_content is not None:
        changes["capture_mode"] = parse_capture_mode(capture_content)
    if changes:
        set_settings(get_settings().with_overrides(**changes))


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


def _build(
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
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from genai_trace_core.export import _signals

    name = service_name or os.environ.get(ENV_SERVICE_NAME) or DEFAULT_SERVICE_NAME
    resource = Resource.create({semconv.SERVICE_NAME: name})
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

    if any_otlp:
        from genai_trace_core.export._quiet import quiet_exporter_logs

        quiet_exporter_logs()  # one line per kind of export failure, not one per batch
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
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


def guarded_span_processor(
    exporter: SpanExporter, meter_provider: MeterProvider
) -> GuardedBatchSpanProcessor:
    """The OTLP span processor: counts spans lost to a down/slow backend and warns once (instead
    of once per span); :data:`EXPORT_BATCH` spans per export unless the environment says."""
    from genai_trace_core.export._guarded import GuardedBatchSpanProcessor

    if os.environ.get(ENV_BSP_BATCH):  # the SDK reads it
        return GuardedBatchSpanProcessor(exporter, meter_provider=meter_provider)
    return GuardedBatchSpanProcessor(
        exporter, meter_provider=meter_provider, max_export_batch_size=EXPORT_BATCH
    )


def _is_unset(provider: object) -> bool:
    """The API's placeholders (proxies) mean nobody installed a provider yet."""
    return type(provider).__name__ in (
        "ProxyTracerProvider",
        "_ProxyMeterProvider",
        "ProxyLoggerProvider",
    )


def _install_globals(providers: Providers) -> bool:
    """Install each provider whose global slot is still free; never override (the API would
    log "Overriding of current TracerProvider is not allowed"). ``True`` if tracing was set."""
    from opentelemetry import _logs, metrics, trace

    taken: list[str] = []
    installed_tracing = False
    if _is_unset(trace.get_tracer_provider()):
        trace.set_tracer_provider(providers.tracer_provider)
        installed_tracing = True
    else:
        taken.append("TracerProvider")
    if _is_unset(metrics.get_meter_provider()):
        metrics.set_meter_provider(providers.meter_provider)
    else:
        taken.append("MeterProvider")
    if _is_unset(_logs.get_logger_provider()):
        _logs.set_logger_provider(providers.logger_provider)
    else:
        taken.append("LoggerProvider")
    if taken:
        logger.warning(
            "genai-trace: a global %s is already installed (opentelemetry-instrument, another "
            "library, or an earlier configure() that was shut down); configure() left it in place. "
            "Use the returned providers explicitly or pass set_global=False.",
            "/".join(taken),
        )
    return installed_tracing

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
import logging
import os
import threading
from dataclasses import fields
from typing import Any, ClassVar

from genai_trace_core._safe import warn_once
from genai_trace_core._settings import get_settings, parse_capture_mode, set_settings
from genai_trace_core.export._build import build
from genai_trace_core.export._globals import install_globals
from genai_trace_core.export._sdk_providers import Providers

__all__ = ["Providers", "configure"]

logger = logging.getLogger("genai_trace")

_INSTALL_HINT = "pip install 'genai-trace-core[sdk]'"


class _Installed:
    """The providers this module installed as OpenTelemetry globals, if any."""

    lock = threading.Lock()
    providers: Providers | None = None
    arguments: ClassVar[dict[str, object]] = {}  # the ones given to build them, to compare later


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
            installed providers are alive returns them unchanged (settings are still applied;
            other arguments that differ from the first call's are ignored, with one warning).
        **settings_overrides: fields of :class:`genai_trace_core.Settings` to override.

    Raises ImportError without the SDK (``pip install 'genai-trace-core[sdk]'``), ValueError
    for a ``protocol`` other than ``http/protobuf``/``grpc``, TypeError for an unknown setting.
    """
    _require("opentelemetry.sdk")
    _apply_settings(capture_content, settings_overrides)
    with _Installed.lock:
        current = _Installed.providers
        given: dict[str, object] = {
            "service_name": service_name, "endpoint": endpoint, "protocol": protocol,
            "console": console, "jsonl_path": None if jsonl_path is None else os.fspath(jsonl_path),
        }  # fmt: skip
        given = {name: value for name, value in given.items() if value is not None}
        if set_global and current is not None and not current.is_shutdown:
            _warn_ignored(given, _Installed.arguments)
            return current
        providers = build(service_name, endpoint, protocol, console, jsonl_path)
        atexit.register(providers.shutdown)
        if set_global and install_globals(providers):
            _Installed.providers = providers
            _Installed.arguments = given
    return providers


def _warn_ignored(given: dict[str, object], first: dict[str, object]) -> None:
    """A later call's arguments that differ from the first call's are ignored: say which (by
    name only: an endpoint may carry credentials)."""
    ignored = sorted(name for name, value in given.items() if first.get(name) != value)
    if not ignored:
        logger.debug("genai-trace: configure() called again; keeping the installed providers")
        return
    warn_once(
        "configure-again:" + ",".join(ignored),
        "genai-trace: configure() called again while the providers it installed are alive: "
        "they are kept, and %s (different from the first call's) ignored. Call "
        "providers.shutdown() first to build new ones, or pass set_global=False.",
        ", ".join(ignored),
    )


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
        changes["capture_mode"] = parse_capture_mode(capture_content, "configure(capture_content")
    if changes:
        set_settings(get_settings().with_overrides(**changes))

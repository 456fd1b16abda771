"""The OTLP exporters log every failed or retried batch (hundreds of lines while a backend is
down): keep the first record of each message, drop the repeats.

A logging filter applies only to the logger it is attached to, never to its children, so the
filter goes on every logger of the ``opentelemetry.exporter`` subtree: the names the exporter
releases we support log on are created (with the filter) before their modules are imported, and
:func:`quiet_exporter_logs` runs again once ``configure()`` has built its exporters, catching any
other name those modules created. Import order does not matter.
"""

from __future__ import annotations

import logging
import threading

_EXPORTER_LOGGERS = "opentelemetry.exporter"
_REPEAT_NOTE = " (genai-trace: further occurrences of this message are not logged)"
# Where the OTLP exporters (1.39 to 1.45, HTTP and gRPC, spans, metrics and logs) log from: each
# module logs on ``getLogger(__name__)`` and finds the logger created here, filter attached.
_KNOWN_LOGGERS = (
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.common._aggregation",
    "opentelemetry.exporter.otlp.proto.common._internal",
    "opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder",
    "opentelemetry.exporter.otlp.proto.common._internal.trace_encoder",
    "opentelemetry.exporter.otlp.proto.common._internal._log_encoder",
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc._log_exporter",
)


_SIGNALS = frozenset({"spans", "traces", "metrics", "logs"})


def _signal(record: logging.LogRecord) -> str:
    """The signal a record is about (the gRPC exporters log every signal with one template)."""
    args = record.args if isinstance(record.args, tuple) else ()
    return next((a for a in args if isinstance(a, str) and a in _SIGNALS), "")


class _FirstOfEachMessage(logging.Filter):
    """Lets through the first record of each message template (per signal), drops the repeats."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, object, str]] = set()
        self._lock = threading.Lock()
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg, _signal(record))
        with self._lock:
            if key in self._seen:
                self.suppressed += 1
                return False
            if len(self._seen) < 256:
                self._seen.add(key)
        if isinstance(record.msg, str):
            record.msg = record.msg + _REPEAT_NOTE
        return True


_quiet = _FirstOfEachMessage()


def _in_subtree(name: str) -> bool:
    return name == _EXPORTER_LOGGERS or name.startswith(_EXPORTER_LOGGERS + ".")


def quiet_exporter_logs() -> None:
    """The OTLP exporters log every failed or retried batch (hundreds of lines while a backend is
    down); keep the first of each kind. Covers the exporter loggers that exist now and those the
    supported exporter releases create later; call it again after importing other exporters."""
    names = set(_KNOWN_LOGGERS)
    names.update(n for n in list(logging.Logger.manager.loggerDict) if _in_subtree(n))
    for name in sorted(names):
        log = logging.getLogger(name)
        if _quiet not in log.filters:
            log.addFilter(_quiet)

"""The OTLP exporters log every failed or retried batch (hundreds of lines while a backend is
down): keep the first record of each message, drop the repeats."""

from __future__ import annotations

import logging
import threading

_EXPORTER_LOGGERS = "opentelemetry.exporter.otlp"
_REPEAT_NOTE = " (genai-trace: further occurrences of this message are not logged)"


class _FirstOfEachMessage(logging.Filter):
    """Lets through the first record of each message template, drops the repeats."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, object]] = set()
        self._lock = threading.Lock()
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
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


def quiet_exporter_logs() -> None:
    """The OTLP exporters log every failed or retried batch (hundreds of lines while a backend is
    down); keep the first of each kind. Applies to the exporter modules imported so far."""
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(_EXPORTER_LOGGERS):
            log = logging.getLogger(name)
            if _quiet not in log.filters:
                log.addFilter(_quiet)

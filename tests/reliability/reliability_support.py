"""Shared helpers for the reliability suite: a span ledger, an OTLP encoding check, log capture."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from genai_trace_core import _safe
from genai_trace_core.testing import OTelHarness


class SpanLedger(SpanProcessor):
    """Records every span id the SDK starts and how many times each one reaches ``on_end``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: dict[int, str] = {}
        self.ended: Counter[int] = Counter()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        with self._lock:
            self.ended[span.context.span_id] += 1

    def open_spans(self) -> list[str]:
        with self._lock:
            return sorted(n for sid, n in self.started.items() if sid not in self.ended)

    def ended_more_than_once(self) -> list[int]:
        with self._lock:
            return [sid for sid, n in self.ended.items() if n > 1]


def with_ledger(harness: OTelHarness) -> SpanLedger:
    ledger = SpanLedger()
    harness.tracer_provider.add_span_processor(ledger)
    return ledger


def otlp_bytes(spans: Sequence[ReadableSpan], logs: Iterable[Any] = ()) -> bytes:
    """Serialise spans (and log records) exactly as the OTLP exporters do; raises if they cannot."""
    data = encode_spans(list(spans)).SerializeToString()
    log_list = list(logs)
    if log_list:
        data += encode_logs(log_list).SerializeToString()
    return data


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_logs(name: str, level: int = logging.DEBUG) -> Iterator[list[logging.LogRecord]]:
    """Records logged on ``name`` (and below) inside the block; ``log_once`` memory is reset
    first so messages already logged by earlier tests show up again."""
    _safe._logged.clear()
    handler = _Collect()
    log = logging.getLogger(name)
    old_level = log.level
    log.setLevel(level)
    log.addHandler(handler)
    try:
        yield handler.records
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)

"""A span exporter that appends one JSON object per span to a local file.

The record shape is :meth:`SpanView.to_dict`, read back by ``genai-trace view``. Writes happen in
the batch processor's thread, under a lock, in append mode, flushed once per batch. A bad value
costs at most that value: text UTF-8 cannot encode (a lone surrogate in an application's span
attribute) is written as U+FFFD, and a span that cannot be serialised at all is skipped, never the
batch. An I/O error (disk full, permission denied, a directory in the way) drops the batch and is
reported by one warning per file on the ``genai_trace`` logger: telemetry never raises into the
application.

Subclasses the SDK's ``SpanExporter``; only :func:`configure` imports this module.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from genai_trace_core._safe import log_once, warn_once
from genai_trace_core.content import sanitize_utf8
from genai_trace_core.view import SpanView

__all__ = ["DEFAULT_JSONL_PATH", "ENV_JSONL", "JsonlSpanExporter"]

ENV_JSONL = "GENAI_TRACE_JSONL"
DEFAULT_JSONL_PATH = Path(".genai-trace") / "traces.jsonl"


class JsonlSpanExporter(SpanExporter):
    """Appends each finished span to a JSONL file, one object a line (``genai-trace view``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._dir_ready = False
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        data = b"".join([_line(s) for s in spans])
        try:
            with self._lock:
                if not self._dir_ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._dir_ready = True
                with self.path.open("ab") as fh:
                    fh.write(data)
                    fh.flush()
        except Exception as exc:  # disk full, permissions, ...: drop the batch, never raise
            warn_once(
                f"jsonl-export:{self.path}",
                "genai-trace: cannot write spans to %s (%s: %s); they are dropped",
                self.path,
                type(exc).__name__,
                exc,
            )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._closed = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _line(span: ReadableSpan) -> bytes:
    """One span's JSON line, UTF-8; empty if the span cannot be serialised (it alone is lost)."""
    try:
        text = json.dumps(SpanView.from_sdk(span).to_dict(), default=str, ensure_ascii=False)
    except Exception:
        log_once("jsonl-span", "genai-trace: a span could not be written to JSONL; skipped")
        return b""
    return (sanitize_utf8(text) + "\n").encode("utf-8")  # lone surrogates: U+FFFD each

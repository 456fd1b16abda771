"""A span exporter that appends one JSON object per span to a local file.

The record shape is :meth:`SpanView.to_dict`, read back by ``genai-trace view``. Writes happen in
the batch processor's thread, under a lock, in append mode, flushed once per batch. Any I/O error
(disk full, permission denied, a directory in the way) is logged once at debug and the batch is
dropped: telemetry never raises into the application.

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

from genai_trace_core._safe import log_once
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
        try:
            lines = "".join(
                json.dumps(SpanView.from_sdk(s).to_dict(), default=str, ensure_ascii=False) + "\n"
                for s in spans
            )
            with self._lock:
                if not self._dir_ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._dir_ready = True
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(lines)
                    fh.flush()
        except Exception:  # disk full, permissions, ...: drop the batch, never raise
            log_once(f"jsonl-export:{self.path}", "genai-trace: cannot write %s", self.path)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._closed = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

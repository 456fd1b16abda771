"""``OTEL_TRACES_EXPORTER=genai_trace``: the embedded default under ``opentelemetry-instrument``.

The SDK's auto-configuration (``opentelemetry-distro``) looks the name up in the
``opentelemetry_traces_exporter`` entry-point group, builds this exporter with no argument and
puts it behind a ``BatchSpanProcessor``. Each batch is appended to the JSONL file
(``GENAI_TRACE_JSONL``, default ``./.genai-trace/traces.jsonl``, ``off`` to disable) and fed to
the terminal tree. The tree takes a whole batch before printing: each trace whose local root is
in the batch is printed with every span of it in that batch (even one that ended after the root,
as a streamed model call read after the query returned) and those held from earlier batches. A
span that ends after its root and reaches the exporter in a later batch is printed on its own,
under ``trace <id> (continued)`` (``configure()`` sees spans start, so it waits for them; an
exporter cannot).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from genai_trace_core._safe import safe
from genai_trace_core.export._console import ConsoleSpanProcessor, is_local_root
from genai_trace_core.export._jsonl import DEFAULT_JSONL_PATH, ENV_JSONL, JsonlSpanExporter

__all__ = ["TreeAndJsonlExporter"]

_OFF = ("", "off", "none", "0", "false", "no")


def _roots_last(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """The batch trace by trace, each trace's local roots after its other spans (the tree prints
    a trace when its root arrives). Traces without a root in the batch come first (they are only
    held), then the others in the order their first root ended."""
    by_trace: dict[int, list[ReadableSpan]] = {}
    first_root: dict[int, int] = {}
    for index, span in enumerate(spans):
        trace_id = span.context.trace_id if span.context is not None else 0
        by_trace.setdefault(trace_id, []).append(span)
        if is_local_root(span):
            first_root.setdefault(trace_id, index)
    ordered = sorted(by_trace, key=lambda trace_id: first_root.get(trace_id, -1))
    return [span for tid in ordered for span in sorted(by_trace[tid], key=is_local_root)]


class TreeAndJsonlExporter(SpanExporter):
    """The terminal tree on stderr and the JSONL file, as one span exporter."""

    def __init__(self) -> None:
        raw = os.environ.get(ENV_JSONL)
        path = DEFAULT_JSONL_PATH if raw is None else Path(raw.strip())
        off = raw is not None and raw.strip().lower() in _OFF
        self.jsonl = None if off else JsonlSpanExporter(path.absolute())
        self._tree = ConsoleSpanProcessor(grace_seconds=0.0)

    @safe(default=SpanExportResult.FAILURE)
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.jsonl.export(spans) if self.jsonl else SpanExportResult.SUCCESS
        for span in _roots_last(spans):
            self._tree.on_end(span)
        return result

    def shutdown(self) -> None:
        self._tree.shutdown()
        if self.jsonl is not None:
            self.jsonl.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._tree.force_flush(timeout_millis)

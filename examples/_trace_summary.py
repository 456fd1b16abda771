"""Shared by the examples: collect this run's finished spans and print its cost summary.

The per-trace trees come from ``genai_trace_core.configure()`` (printed on stderr as each trace
ends); this adds one table for the whole run, per model, with core's own totals and renderer.
Any framework works: it reads finished spans only.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from genai_trace_core import Providers
from genai_trace_core._render import render_totals
from genai_trace_core._spanview import SpanView
from genai_trace_core._totals import aggregate, by_model
from genai_trace_core._tree import walk


class SpanCollector(SpanProcessor):
    """Keeps every finished span of the run (an example runs a handful of traces)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[SpanView] = []

    def on_end(self, span: ReadableSpan) -> None:
        view = SpanView.from_sdk(span)
        with self._lock:
            self.spans.append(view)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def collect(providers: Providers) -> SpanCollector:
    collector = SpanCollector()
    providers.tracer_provider.add_span_processor(collector)
    return collector


def print_cost_summary(collector: SpanCollector, out: TextIO = sys.stdout) -> None:
    """Tokens and USD per model over every trace of the run."""
    table = aggregate(walk(collector.spans), by_model)
    if not table:
        print("No model calls were traced.", file=out)
        return
    traces = len({s.trace_id for s in collector.spans})
    print(f"Cost summary ({traces} traces, {len(collector.spans)} spans)", file=out)
    print(render_totals("model", table), file=out)

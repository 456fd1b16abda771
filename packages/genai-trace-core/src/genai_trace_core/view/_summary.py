"""``cost_summary``: tokens and USD per model over any set of finished spans, as a text table.

Takes SDK spans (``ReadableSpan``) or JSONL records (dicts, as ``genai-trace view`` reads them);
the same totals and renderer as the terminal tree. Agent, workflow and tool spans are left out of
the sums, so nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from genai_trace_core.view._render import render_totals
from genai_trace_core.view._spanview import SpanView
from genai_trace_core.view._totals import aggregate, by_model
from genai_trace_core.view._tree import walk


def cost_summary(spans: Iterable[Any]) -> str:
    """``Cost summary (N traces, M spans)`` and a per-model table, or a one-line note if no
    model call is among ``spans``."""
    views = [
        s
        if isinstance(s, SpanView)
        else SpanView.from_dict(s)
        if isinstance(s, Mapping)
        else SpanView.from_sdk(s)
        for s in spans
    ]
    table = aggregate(walk(views), by_model)
    if not table:
        return "No model calls were traced."
    traces = len({v.trace_id for v in views})
    return f"Cost summary ({traces} traces, {len(views)} spans)\n" + render_totals("model", table)

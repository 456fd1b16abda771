"""Reads finished spans (SDK spans or JSONL lines) as trees and totals, and renders them for the
terminal. Imports only ``semconv``.
"""

from __future__ import annotations

from genai_trace_core.view._render import format_usd, render_totals, render_trace, use_color
from genai_trace_core.view._spanview import SpanView
from genai_trace_core.view._summary import cost_summary
from genai_trace_core.view._totals import aggregate, by_inherited, by_model
from genai_trace_core.view._tree import walk

__all__ = [
    "SpanView",
    "aggregate",
    "by_inherited",
    "by_model",
    "cost_summary",
    "format_usd",
    "render_totals",
    "render_trace",
    "use_color",
    "walk",
]

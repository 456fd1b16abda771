"""Render span trees and token/cost totals as plain text (the one rendering path).

Fed only :class:`~genai_trace_core.view._spanview.SpanView`, by the live terminal processor
(:mod:`genai_trace_core.export._console`) and by ``genai-trace view``
(:mod:`genai_trace_core.cli._main`). Token counts genai-trace estimated (the provider reported
none: ``genai_trace.usage.source=estimated``) read ``in ≈9``; retrievals show ``top_k`` and how
many documents came back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from genai_trace_core import semconv
from genai_trace_core.view._spanview import SpanView
from genai_trace_core.view._totals import Totals, aggregate, by_model, model_of, usage_of
from genai_trace_core.view._tree import walk

__all__ = ["format_duration", "format_usd", "render_totals", "render_trace", "use_color"]

_MAX_NAME = 60
ESTIMATED = semconv.USAGE_SOURCE_ESTIMATED

_DIM, _RED, _GREEN, _CYAN, _BOLD = "2", "31", "32", "36", "1"

# Names, models, error types and ids come from the model (a tool name it invented), the provider
# (the response model) or a JSONL file: control characters (C0, DEL, C1: ESC, BEL, CR, newline)
# and bidirectional overrides are shown escaped (``\x1b``), so no value can clear the screen,
# retitle the terminal, forge or reorder a line of the tree.
_UNPRINTABLE: dict[int, str] = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_UNPRINTABLE.update(
    {c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
)


def use_color(stream: TextIO) -> bool:
    """Colours only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and text else text


def format_duration(ns: int) -> str:
    ms = ns / 1e6
    if ms < 10:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def format_usd(value: float) -> str:
    """Four decimals from one cent up; sub-cent amounts keep up to eight significant decimals."""
    if value == 0 or abs(value) >= 0.01:
        return f"${value:.4f}"
    if abs(value) < 1e-8:
        return "<$0.00000001"
    text = f"{value:.8f}".rstrip("0")
    return "$" + text.ljust(text.index(".") + 5, "0")  # at least four decimals


def _details(span: SpanView, color: bool) -> list[str]:
    parts: list[str] = []
    model = model_of(span)
    if model and model not in span.name:
        parts.append(_paint(f"[{_shown(model)}]", _CYAN, color))
    parts.extend(_retrieval(span))
    usage = usage_of(span)
    if usage is not None:
        approx = "≈" if span.attributes.get(semconv.USAGE_SOURCE) == ESTIMATED else ""
        tokens: list[str] = []
        if usage.input_tokens is not None:
            tokens.append(f"in {approx}{usage.input_tokens:,}")
            if usage.cache_read_tokens:
                tokens.append(f"(cache {usage.cache_read_tokens:,})")
        if usage.output_tokens is not None:
            tokens.append(f"out {approx}{usage.output_tokens:,}")
        if tokens:
            parts.append(" ".join(tokens))
        if usage.cost_usd is not None:
            parts.append(_paint(format_usd(usage.cost_usd), _GREEN, color))
    error_type = span.attributes.get(semconv.ERROR_TYPE)
    if span.status == "ERROR" or error_type:
        label = "ERROR" + (f" {_shown(error_type)}" if error_type else "")
        if not error_type and span.status_message:
            label += f" {_shown(span.status_message, 2 * _MAX_NAME)}"
        parts.append(_paint(label, _RED, color))
    return parts


def _retrieval(span: SpanView) -> list[str]:
    """``top_k 2  docs 2`` for a retrieval span (whatever of the two it carries)."""
    attrs = span.attributes
    found = []
    top_k = attrs.get(semconv.GEN_AI_RETRIEVAL_TOP_K)
    if isinstance(top_k, (int, float)) and not isinstance(top_k, bool):
        found.append(f"top_k {top_k:g}")
    count = attrs.get(semconv.DOCUMENT_COUNT)
    if isinstance(count, int) and not isinstance(count, bool):
        found.append(f"docs {count}")
    return found


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _shown(value: object, width: int = _MAX_NAME) -> str:
    """``value`` as one terminal-safe line of at most ``width`` characters (only that much of
    it is read)."""
    return _clip(str(value)[:width].translate(_UNPRINTABLE), width)


def render_trace(
    spans: Sequence[SpanView], *, color: bool = False, dropped: int = 0, continued: bool = False
) -> str:
    """One trace as a tree (one line per span) followed by its totals per model; ``continued``:
    spans that ended after the trace was printed (the header says so)."""
    if not spans:
        return ""
    rows = walk(spans)
    labels = [_clip(r.prefix + _shown(r.span.name), _MAX_NAME) for r in rows]
    width = max(len(label) for label in labels)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    service = next((s.service_name for s in spans if s.service_name), None)
    header = [f"trace {_shown(spans[0].trace_id)}" + (" (continued)" if continued else "")]
    if service:
        header.append(_shown(service))
    header.append(f"{len(spans)} span{'s' if len(spans) != 1 else ''}")
    if dropped:
        header.append(f"{dropped} dropped")
    header.append(format_duration(max(0, end - start)))
    lines = [_paint(" · ".join(header), _BOLD, color)]
    for row, label in zip(rows, labels, strict=True):
        tree_part = _paint(row.prefix, _DIM, color) + label[len(row.prefix) :]
        pad = " " * (width - len(label))
        duration = _paint(f"{format_duration(row.span.duration_ns):>7}", _DIM, color)
        details = "  ".join(_details(row.span, color))
        lines.append(f"{tree_part}{pad}  {duration}" + (f"  {details}" if details else ""))
    totals = aggregate(rows, by_model)
    if totals:
        lines.append(render_totals("model", totals, color=color))
    return "\n".join(lines) + "\n"


def render_totals(title: str, table: dict[str, Totals], *, color: bool = False) -> str:
    """A small aligned table: one row per key (sorted by cost, then name) and a total row."""
    header = (title, "calls", "input", "cache", "output", "cost")
    body: list[tuple[str, ...]] = []
    items = sorted(table.items(), key=lambda kv: (-kv[1].cost_usd, kv[0]))
    grand = Totals()
    for key, t in items:
        body.append(_totals_cells(key, t))
        grand.calls += t.calls
        grand.input_tokens += t.input_tokens
        grand.output_tokens += t.output_tokens
        grand.cache_read_tokens += t.cache_read_tokens
        grand.cost_usd += t.cost_usd
        grand.priced = grand.priced or t.priced
    if len(items) > 1:
        body.append(_totals_cells("total", grand))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"  {first}  {rest}".rstrip()

    lines = [_paint(fmt(header), _DIM, color)] + [fmt(r) for r in body]
    return "\n".join(lines)


def _totals_cells(key: str, t: Totals) -> tuple[str, ...]:
    return (
        _shown(key),
        str(t.calls),
        f"{t.input_tokens:,}",
        f"{t.cache_read_tokens:,}",
        f"{t.output_tokens:,}",
        format_usd(t.cost_usd) if t.priced else "-",
    )

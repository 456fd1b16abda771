"""One trace as depth-first rows: the tree structure shared by the renderer and the totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from genai_trace_core import semconv
from genai_trace_core.view._spanview import SpanView

__all__ = ["TreeRow", "walk"]


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One span of a trace as a tree row: its depth, prefix and inherited attribution."""

    span: SpanView
    depth: int
    prefix: str  # box-drawing prefix, "" for roots
    inherited: dict[str, object]  # attribution inherited from ancestors (user.id, tenant)


_INHERITED_KEYS = (semconv.USER_ID, semconv.TENANT_ID)


def walk(spans: Sequence[SpanView]) -> list[TreeRow]:
    """Depth-first rows of one trace, children by start time. Spans whose parent is not in
    ``spans`` are roots; every span appears exactly once even if parent links are malformed."""
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[SpanView]] = {}
    roots: list[SpanView] = []
    for s in spans:
        if s.parent_id is not None and s.parent_id in by_id and s.parent_id != s.span_id:
            children.setdefault(s.parent_id, []).append(s)
        else:
            roots.append(s)

    def order(items: list[SpanView]) -> list[SpanView]:
        return sorted(items, key=lambda s: (s.start_ns, s.span_id))

    rows: list[TreeRow] = []
    seen: set[str] = set()
    root_ids = {s.span_id for s in roots}
    pending = order(roots) + [s for s in order(list(spans)) if s.span_id not in root_ids]
    for top in pending:
        if top.span_id in seen:
            continue
        # (span, depth, prefix for this row, prefix for its children, inherited attribution)
        stack: list[tuple[SpanView, int, str, str, dict[str, object]]] = [(top, 0, "", "", {})]
        while stack:
            span, depth, prefix, child_prefix, inherited = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            own = dict(inherited)
            for key in _INHERITED_KEYS:
                if key in span.attributes:
                    own[key] = span.attributes[key]
            rows.append(TreeRow(span, depth, prefix, own))
            kids = [k for k in order(children.get(span.span_id, [])) if k.span_id not in seen]
            for i in range(len(kids) - 1, -1, -1):
                last = i == len(kids) - 1
                stack.append(
                    (
                        kids[i],
                        depth + 1,
                        child_prefix + ("└── " if last else "├── "),
                        child_prefix + ("    " if last else "│   "),
                        own,
                    )
                )
    return rows

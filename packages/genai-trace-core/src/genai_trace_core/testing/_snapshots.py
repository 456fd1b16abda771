"""Finished spans as plain, ordered dicts: the whole exported span, for inline snapshots.

``assert otel.snapshot_dicts() == snapshot([...])`` (``inline-snapshot``) compares every span's
name, kind, parent, status, every attribute and every event, so an attribute that should not be
there fails the test. What differs between machines and versions is normalised, never dropped:

- ids and timestamps are left out; a span's parent is the index of the parent span in the list;
- an exception event's stack trace keeps only its last line, after ``... `` when it had frames
  (file paths and line numbers differ between machines and framework versions);
- floats are rounded to 12 significant digits (``sum`` of floats is exact from Python 3.12 on).

Values that legitimately vary otherwise are matched in the snapshot with ``dirty-equals``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from genai_trace_core.testing._trees import attr_value

_STACKTRACE = "exception.stacktrace"


def _stacktrace(text: str) -> str:
    """``... ValueError: message`` (the frames left out), or the one line as it was."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= 1:
        return "".join(lines)
    return f"... {lines[-1]}"


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, list):
        return [_round(x) for x in v]
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def normalised_attributes(attributes: Any, parse_json: bool = True) -> dict[str, Any]:
    """Attributes (of a span, an event, or an OTLP-received span) as :func:`snapshot_dicts` shows
    them: sorted by key, tuples as lists, JSON parsed, floats rounded, stack traces cut."""
    out = {k: _round(attr_value(v, parse_json)) for k, v in sorted((attributes or {}).items())}
    if isinstance(out.get(_STACKTRACE), str):
        out[_STACKTRACE] = _stacktrace(out[_STACKTRACE])
    return out


def snapshot_dicts(
    spans: list[ReadableSpan],
    *,
    unordered: tuple[str, ...] = (),
    parse_json: bool = True,
) -> list[dict[str, Any]]:
    """One dict per span, depth first (a parent before its children, siblings by start time).

    Each dict is ``{"name", "kind", "parent", "status", "attributes"}`` plus ``"events"`` when the
    span has any: ``parent`` is the list index of the parent span (None for a root, i.e. a span
    whose parent is not among ``spans``); ``attributes`` are sorted by key, tuples become lists
    and JSON strings are parsed (``parse_json``). ``unordered`` names (prefixes) the spans whose
    children run concurrently (LangChain's ``RunnableParallel``): those children are ordered by
    name, then by content, instead of by start time.
    """
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for s in spans:
        parent = s.parent.span_id if s.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(s)

    def as_dict(s: ReadableSpan, parent: int | None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": s.name,
            "kind": s.kind.name,
            "parent": parent,
            "status": s.status.status_code.name,
            "attributes": normalised_attributes(s.attributes, parse_json),
        }
        if s.status.description:
            d["status_description"] = s.status.description
        if s.events:
            d["events"] = [
                {"name": e.name, "attributes": normalised_attributes(e.attributes, parse_json)}
                for e in s.events
            ]
        return d

    out: list[dict[str, Any]] = []

    def subtree(s: ReadableSpan) -> str:
        assert s.context is not None
        kids = sorted(subtree(c) for c in children.get(s.context.span_id, []))
        return repr((as_dict(s, None), kids))

    def visit(s: ReadableSpan, parent: int | None) -> None:
        index = len(out)
        out.append(as_dict(s, parent))
        assert s.context is not None
        kids = sorted(children.get(s.context.span_id, []), key=lambda c: c.start_time or 0)
        if unordered and s.name.startswith(unordered):
            kids.sort(key=lambda c: (c.name, subtree(c)))
        for kid in kids:
            visit(kid, index)

    for root in sorted(children.get(None, []), key=lambda r: r.start_time or 0):
        visit(root, None)
    return out

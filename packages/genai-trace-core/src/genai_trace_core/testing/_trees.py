"""Finished spans as dicts and trees, for whole-tree assertions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan


def attr_value(v: Any, parse_json: bool) -> Any:
    """An attribute value as plain data: tuples as lists, JSON strings parsed (``parse_json``)."""
    if isinstance(v, tuple):
        return list(v)
    if parse_json and isinstance(v, str) and v[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def spans_as_dicts(spans: list[ReadableSpan], *, parse_json: bool = True) -> list[dict[str, Any]]:
    """Flat, export-order list of span dicts with stable ids (hex)."""
    out: list[dict[str, Any]] = []
    for s in spans:
        ctx = s.get_span_context()
        assert ctx is not None
        out.append(
            {
                "name": s.name,
                "kind": s.kind.name,
                "trace_id": f"{ctx.trace_id:032x}",
                "span_id": f"{ctx.span_id:016x}",
                "parent_id": f"{s.parent.span_id:016x}" if s.parent is not None else None,
                "status": s.status.status_code.name,
                "attributes": {
                    k: attr_value(v, parse_json) for k, v in (s.attributes or {}).items()
                },
                "events": [e.name for e in s.events],
                "start": s.start_time,
                "end": s.end_time,
            }
        )
    return out


def span_tree(
    spans: list[ReadableSpan],
    *,
    attributes: bool | tuple[str, ...] = True,
    parse_json: bool = True,
) -> list[dict[str, Any]]:
    """Nest finished spans by parent: ``[{"name", "kind", "status", "attributes", "children"}]``.

    Roots are spans whose parent is not among ``spans``; children are ordered by start time.
    ``attributes`` may be a tuple of keys to keep (for focused assertions) or False.
    """
    flat = spans_as_dicts(spans, parse_json=parse_json)
    by_id = {d["span_id"]: d for d in flat}
    nodes: dict[str, dict[str, Any]] = {}
    for d in flat:
        node: dict[str, Any] = {"name": d["name"], "kind": d["kind"], "status": d["status"]}
        if attributes is True:
            node["attributes"] = d["attributes"]
        elif attributes:
            node["attributes"] = {k: d["attributes"][k] for k in attributes if k in d["attributes"]}
        node["children"] = []
        node["_start"] = d["start"]
        nodes[d["span_id"]] = node
    roots: list[dict[str, Any]] = []
    for d in flat:
        node = nodes[d["span_id"]]
        parent_id = d["parent_id"]
        if parent_id is not None and parent_id in by_id:
            nodes[parent_id]["children"].append(node)
        else:
            roots.append(node)

    def finish(n: dict[str, Any]) -> dict[str, Any]:
        n["children"].sort(key=lambda c: c["_start"])
        for c in n["children"]:
            finish(c)
        n.pop("_start")
        return n

    roots.sort(key=lambda r: r["_start"])
    return [finish(r) for r in roots]


def tree_shape(
    nodes: list[dict[str, Any]],
    *,
    kind: bool = True,
    status: bool = True,
    unordered: tuple[str, ...] = (),
) -> list[Any]:
    """``[name, kind, status, [children...]]`` per node of :func:`span_tree` output, for compact
    whole-tree assertions (``kind``/``status`` can be left out).

    ``unordered`` names (prefixes) the nodes whose children run concurrently, e.g. LangChain's
    ``RunnableParallel`` on its thread pool: their children may start in either order, so they
    are listed in name order. Every other node keeps its children in start order.
    """
    out: list[Any] = []
    for n in nodes:
        row: list[Any] = [n["name"]]
        if kind:
            row.append(n["kind"])
        if status:
            row.append(n["status"])
        children = tree_shape(n["children"], kind=kind, status=status, unordered=unordered)
        if unordered and str(n["name"]).startswith(unordered):
            children.sort(key=str)
        row.append(children)
        out.append(row)
    return out


def walk_tree(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every node of :func:`span_tree` output, depth first."""
    for node in nodes:
        yield node
        yield from walk_tree(node["children"])

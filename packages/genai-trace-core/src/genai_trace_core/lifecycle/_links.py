"""Runs that get no span (``Telemetry.link``, hidden internal steps): their children nest under
the nearest traced ancestor. A linked run is an alias of that ancestor's run in the registry, or,
with no parent run, a spanless root that only carries the context its children start in."""

from __future__ import annotations

from collections.abc import Hashable

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from genai_trace_core.lifecycle._registry import BoundedRegistry
from genai_trace_core.lifecycle._run import Run, linked_root


def link(registry: BoundedRegistry[Run], run_id: Hashable, parent_run_id: Hashable | None) -> None:
    """``Telemetry.link``: register ``run_id`` under ``parent_run_id`` (or the current context)."""
    if registry.get(run_id) is not None:
        return
    parent = registry.get(parent_run_id) if parent_run_id is not None else None
    ctx = parent.ctx if parent is not None else otel_context.get_current()
    link_run(registry, run_id, parent, ctx)


def link_run(
    registry: BoundedRegistry[Run], run_id: Hashable, parent: Run | None, parent_ctx: Context
) -> None:
    """Register ``run_id`` as an alias of ``parent`` (or a linked root in ``parent_ctx``)."""
    if parent is not None and parent.ended:  # (an alias of) a run that ended: alias the
        parent = parent.open_ancestor()  # nearest open one, which its root's end reaches
    if parent is not None:
        # An alias: ``run_id`` resolves to its traced ancestor's run (one lookup for a
        # child); ``end`` pops the alias and ends nothing (the run has another id).
        registry.put_if_absent(run_id, parent)
        return
    registry.put_if_absent(run_id, linked_root(run_id, parent_ctx))

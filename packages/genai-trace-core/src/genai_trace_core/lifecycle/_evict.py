"""What the open-run registry needs from runs: how recently a run's request was active (read only
when an entry is up for eviction, never per span), and what an evicted entry becomes.

An evicted run ends as ``abandoned`` and is remembered like a run its root ended first
(``BoundedRegistry.retire``): a step it starts later nests under its ended span, in its own
trace, never under whatever context is current (another request's), and its own late end or
failure is ignored (it is no longer registered)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from genai_trace_core.lifecycle._detached import detached_context
from genai_trace_core.lifecycle._registry import BoundedRegistry
from genai_trace_core.lifecycle._run import Run, late_context
from genai_trace_core.lifecycle._sanitize import valid_ns

if TYPE_CHECKING:
    from genai_trace_core.lifecycle._telemetry import Telemetry

MAX_DEPTH = 64
"""Parents walked up to the top run of a request."""
MAX_NODES = 256
"""Runs of a request's tree read for its latest activity."""


def new_registry(tel: Telemetry) -> BoundedRegistry[Run]:
    """The registry of ``tel``'s open runs, bounded by its settings, ending what it evicts."""
    return BoundedRegistry(
        max_size=tel.settings.registry_max_size,
        ttl_s=tel.settings.registry_ttl_seconds,
        clock=lambda: tel._clock() / 1e9,
        on_evict=lambda key, run: evicted(tel, key, run),
        activity=tree_activity,
    )


def evicted(tel: Telemetry, key: Hashable, run: Run) -> None:
    """An entry the registry evicted: its run ends as abandoned and is retired (with what a
    late child inherits from it, see ``_run.Late``); a hidden run's alias (``key`` is not the
    run's id) only retires, its traced run stays as it is."""
    tel._registry.retire(key, late_context(detached_context(run.ctx), run))
    if key is run.run_id or key == run.run_id:
        tel.abandon(run)


def tree_activity(run: Run) -> float:
    """The latest start, streamed chunk or child end (``Run.last_active``) in the tree of the
    request ``run`` belongs to, in seconds: its top run and at most ``MAX_NODES`` open runs
    under it."""
    top = run
    for _ in range(MAX_DEPTH):
        parent = top.parent
        if parent is None:
            break
        top = parent
    latest = _last_ns(run)
    stack = [top]
    for _ in range(MAX_NODES):
        if not stack:
            break
        node = stack.pop()
        latest = max(latest, _last_ns(node))
        if node.children:
            stack.extend(node.children)
    return latest / 1e9


def _last_ns(run: Run) -> int:
    last_active = valid_ns(getattr(run, "last_active", 0)) or 0  # set at a child's end only
    return max(run.start_ns, last_active, run.last_chunk_ns or 0)

"""Timing loop, span processors and span-tree capture/replay shared by the worker processes."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PROCESSORS = ("simple", "batch")


class DroppingExporter(SpanExporter):
    """Counts and drops spans (the batch processor's worker thread still does all its work)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@dataclass
class Pipeline:
    """A fresh provider with one processor; ``exported()`` counts spans so far (after a flush)."""

    kind: str
    provider: TracerProvider = field(default_factory=TracerProvider)
    memory: InMemorySpanExporter | None = None
    dropping: DroppingExporter | None = None
    cleared: int = 0

    def __post_init__(self) -> None:
        if self.kind == "simple":
            self.memory = InMemorySpanExporter()
            self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        else:
            self.dropping = DroppingExporter()
            self.provider.add_span_processor(BatchSpanProcessor(self.dropping))

    def clear(self) -> None:
        """Once per repeat, inside the timed region (the in-memory list would grow otherwise)."""
        if self.memory is not None:
            self.cleared += len(self.memory.get_finished_spans())
            self.memory.clear()

    def exported(self) -> int:
        self.provider.force_flush()
        if self.memory is not None:
            return self.cleared + len(self.memory.get_finished_spans())
        assert self.dropping is not None
        return self.dropping.count


@dataclass
class Timing:
    us_per_inv: float  # median over repeats
    repeats_us: list[float]
    cpu_us_per_inv: float  # process CPU (all threads, incl. the batch worker), median
    invocations: int
    spans_per_inv: float


def measure(
    run: Callable[[], Any],
    pipeline: Pipeline | None,
    *,
    warmup_s: float,
    repeats: int,
    repeat_s: float,
) -> Timing:
    deadline = time.perf_counter() + warmup_s
    n = 0
    t0 = time.perf_counter()
    while n < 3 or time.perf_counter() < deadline:
        run()
        n += 1
    per_call = (time.perf_counter() - t0) / n
    k = max(2, round(repeat_s / per_call))
    if pipeline is not None:
        pipeline.clear()
        before = pipeline.exported()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(k):
            run()
        if pipeline is not None:
            pipeline.clear()
        w1, c1 = time.perf_counter(), time.process_time()
        wall.append((w1 - w0) / k * 1e6)
        cpu.append((c1 - c0) / k * 1e6)
    spans = 0.0
    if pipeline is not None:
        spans = (pipeline.exported() - before) / (k * repeats)
    return Timing(
        us_per_inv=statistics.median(wall),
        repeats_us=[round(w, 1) for w in wall],
        cpu_us_per_inv=statistics.median(cpu),
        invocations=k * repeats,
        spans_per_inv=spans,
    )


# --- span trees -----------------------------------------------------------------------------


def tree_recorder(provider: TracerProvider) -> InMemorySpanExporter:
    """Adds (for good: the SDK cannot remove a processor) an exporter that records every span;
    call it after all timing in a process, then :func:`capture_tree` once per workload."""
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


def capture_tree(
    provider: TracerProvider, run: Callable[[], Any], memory: InMemorySpanExporter
) -> list[dict[str, Any]]:
    """One invocation's spans (names, kinds, parents, attributes, order) for the floor replay."""
    memory.clear()
    run()
    provider.force_flush()
    spans = sorted(memory.get_finished_spans(), key=lambda s: s.start_time or 0)
    index = {s.context.span_id: i for i, s in enumerate(spans) if s.context is not None}
    tree: list[dict[str, Any]] = []
    for s in spans:
        parent = index.get(s.parent.span_id, -1) if s.parent is not None else -1
        tree.append(
            {
                "name": s.name,
                "kind": s.kind.name,
                "parent": parent,
                "attributes": {k: _plain(v) for k, v in (s.attributes or {}).items()},
                "start": s.start_time or 0,
                "end": s.end_time or 0,
            }
        )
    base = min((t["start"] for t in tree), default=0)
    for t in tree:
        t["start"] -= base
        t["end"] -= base
    return tree


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def replayer(tree: list[dict[str, Any]], provider: TracerProvider) -> Callable[[], None]:
    """Bare ``tracer.start_span``/``end`` recreating ``tree`` in its original start/end order."""
    depth: list[int] = []
    for node in tree:
        p = node["parent"]
        depth.append(0 if p < 0 else depth[p] + 1)
    events = [(n["start"], 0, depth[i], i) for i, n in enumerate(tree)]
    events += [(n["end"], 1, -depth[i], i) for i, n in enumerate(tree)]
    ops = [(e[1] == 0, e[3]) for e in sorted(events)]
    names = [n["name"] for n in tree]
    kinds = [trace.SpanKind[n["kind"]] for n in tree]
    parents = [n["parent"] for n in tree]
    attrs = [
        {k: tuple(v) if isinstance(v, list) else v for k, v in n["attributes"].items()}
        for n in tree
    ]
    tracer = provider.get_tracer("genai_trace.bench.floor")
    set_in_context = trace.set_span_in_context

    def replay() -> None:
        spans: list[Any] = [None] * len(names)
        for is_start, i in ops:
            if is_start:
                p = parents[i]
                ctx = set_in_context(spans[p]) if p >= 0 else None
                spans[i] = tracer.start_span(
                    names[i], context=ctx, kind=kinds[i], attributes=attrs[i]
                )
            else:
                spans[i].end()

    return replay


def sdk_in_place(run: Callable[[], Any], invocations: int) -> float:
    """CPU µs per invocation spent inside the SDK's span methods while the workload runs.

    The replay floor runs ``start_span``/``end`` back to back (warm caches, little garbage);
    here the same SDK calls are timed where the instrumentation makes them, between the
    framework's own work: the SDK's cost *in place*. ``Tracer.start_span`` and the ``Span``
    methods that record data are wrapped with ``thread_time_ns`` (outermost call only, per
    thread), and so are the fast span path's tracer wrapper and span methods (``FastTracer``,
    ``FastSpan``) that do the same work for genai-trace; the clock's own cost per reading pair
    is measured and subtracted.
    """
    import threading

    from opentelemetry.sdk import trace as sdk_trace

    clock = time.thread_time_ns
    local = threading.local()
    spent = [0, 0]  # ns, calls
    patched: list[tuple[Any, str, Any]] = []

    def wrap(cls: Any, name: str) -> None:
        orig = getattr(cls, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(local, "inside", False):
                return orig(*args, **kwargs)
            local.inside = True
            t0 = clock()
            try:
                return orig(*args, **kwargs)
            finally:
                spent[0] += clock() - t0
                spent[1] += 1
                local.inside = False

        setattr(cls, name, timed)
        patched.append((cls, name, orig))

    wrap(sdk_trace.Tracer, "start_span")
    for name in _SPAN_METHODS:
        wrap(sdk_trace.Span, name)
    # genai-trace's fast span path does the SDK's work in a tracer wrapper and a ``Span``
    # subclass that overrides these methods: time them too, or its SDK work would go unseen.
    from genai_trace_core.export._fast_span import FastSpan
    from genai_trace_core.export._fast_tracer import FastTracer

    wrap(FastTracer, "start_span")
    for name in _SPAN_METHODS:
        if name in vars(FastSpan):
            wrap(FastSpan, name)
    try:
        for _ in range(invocations):
            run()
    finally:
        for cls, name, orig in reversed(patched):
            setattr(cls, name, orig)
    pair = min(_clock_pair_ns(clock) for _ in range(5))
    return max(0.0, (spent[0] - spent[1] * pair) / invocations / 1000)


_SPAN_METHODS = (
    "end",
    "set_attribute",
    "set_attributes",
    "add_event",
    "add_link",
    "set_status",
    "record_exception",
    "update_name",
)


def _clock_pair_ns(clock: Callable[[], int], n: int = 2000) -> float:
    total = 0
    for _ in range(n):
        a = clock()
        total += clock() - a
    return total / n

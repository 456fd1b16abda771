"""The span lifecycle keyed by run id: start, chunk, end, fail; bounded registry; context hygiene.

Integrations call :class:`Telemetry`. Every public method is wrapped by ``safe``: telemetry never
raises into the user's program. The hot path at start is: look up the parent, build the start
attributes, start the span, remember it. Usage normalisation, estimation and cost run once at end;
content serialisation only when capture is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from opentelemetry import _logs, metrics, trace
from opentelemetry.context import Context

from genai_trace_core import content as _content
from genai_trace_core import semconv
from genai_trace_core._attribution import current_attribution, run_attribution
from genai_trace_core._safe import log_once, safe
from genai_trace_core._settings import Settings, get_settings
from genai_trace_core.lifecycle import _context, _links, _run, _tracers
from genai_trace_core.lifecycle._attributes import (
    attribution_attributes,
    span_kind,
    span_name,
    start_attributes,
)
from genai_trace_core.lifecycle._evict import new_registry
from genai_trace_core.lifecycle._finish import ended_parent, finish
from genai_trace_core.lifecycle._first_chunk import first_chunk
from genai_trace_core.lifecycle._labels import label
from genai_trace_core.lifecycle._metrics import Instruments
from genai_trace_core.lifecycle._registry import BoundedRegistry
from genai_trace_core.lifecycle._run import Run, inherited_attribution
from genai_trace_core.lifecycle._run_metrics import start_metric_attributes
from genai_trace_core.lifecycle._sanitize import clean_attributes, valid_ns
from genai_trace_core.lifecycle._suppress import SUPPRESSIBLE_KINDS, provider_suppression
from genai_trace_core.records import Operation, OperationKind, Outcome
from genai_trace_core.usage import preload_prices_in_background
from genai_trace_core.version import __version__

_SCOPE = "genai_trace"
_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"


class Telemetry:
    """Span lifecycle, metrics and events for one instrumentation (one per handler/instrumentor)."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        settings: Settings | None = None,
        clock: Callable[[], int] | None = None,
        scope_name: str = _SCOPE,
        scope_version: str = __version__,
    ) -> None:
        self.settings = settings if settings is not None else get_settings()
        self._tracer = _tracers.get_tracer(scope_name, scope_version, tracer_provider, _SCHEMA_URL)
        meter = metrics.get_meter(scope_name, scope_version, meter_provider, _SCHEMA_URL)
        self.instruments = Instruments(meter, self.settings.metrics_naming)
        self._record_gap = self.instruments.tpoc.record  # per streamed chunk: no extra call
        self.logger = _logs.get_logger(scope_name, scope_version, logger_provider, _SCHEMA_URL)
        self._clock: Callable[[], int] = clock or time.time_ns
        preload_prices_in_background(self.settings.price_overrides)  # not on the first span
        self._registry: BoundedRegistry[Run] = new_registry(self)  # ends and retires evictions

    @property
    def capture_content(self) -> bool:
        """True when any content (span or event) is captured: integrations build content then."""
        return self.settings.capture_mode.any

    def open_count(self) -> int:
        return len(self._registry)

    def is_open(self, run_id: Hashable) -> bool:
        return self._registry.get(run_id) is not None

    @safe()
    def context_of(self, run_id: Hashable) -> Context | None:
        """The OTel context carrying ``run_id``'s span (for explicit propagation), and what a run
        started in it after ``run_id`` ended inherits (its attribution: a stream read later)."""
        run = self._registry.get(run_id)
        return None if run is None else _run.late_context(run.ctx, run)

    def start(
        self,
        run_id: Hashable,
        op: Operation,
        *,
        parent_run_id: Hashable | None = None,
        activate: bool = False,
        start_time_ns: int | None = None,
        root: bool = False,
    ) -> None:
        """Start a span for ``run_id``. The parent is ``parent_run_id``'s span when it is open,
        else the current OTel context. ``activate`` makes the span current until it ends, so spans
        created by user or provider code inside the run nest under it. ``root`` says the framework
        reports no parent: such a run never nests under another root still current in the very
        execution context it starts in (a batch's items are siblings, see ``_context``). A run
        that another ``Telemetry`` already traces (its activation is current: two handlers on one
        framework run) gets no second span."""
        try:  # inline, not ``safe``: no wrapper call on the hot path (the same never-raise rule)
            self._start(run_id, op, parent_run_id, activate, start_time_ns, root)
        except Exception:
            log_once("start", "genai-trace: Telemetry.start failed")

    def _start(
        self, run_id: Hashable, op: Operation, parent_run_id: Hashable | None, activate: bool,
        start_time_ns: int | None, root: bool,
    ) -> None:  # fmt: skip
        registry = self._registry
        if registry.get(run_id) is not None:
            log_once("dup-start", "genai-trace: duplicate start for an open run ignored")
            return
        parent = registry.get(parent_run_id) if parent_run_id is not None else None
        heir: Run | _run.Late | None = parent  # whose attribution and agent it inherits
        if parent is None:
            current = _context.current()
            if _context.traced_here(current, run_id):
                return  # traced by another handler's Telemetry, which was called first
            late = registry.retired(parent_run_id) or ended_parent(current, parent_run_id)
            parent_ctx = late or _context.root_context(current, root)  # (no ended parent)
            heir = _run.late_of(parent_ctx)  # a run that ended: what its context carries
        else:
            parent_ctx = _context.parent_context(parent)
            if parent.ended:  # a hidden run's alias, its traced parent ended first: the span
                parent = parent.open_ancestor()  # nests there, the run under one still open
        settings = self.settings
        kind = op.kind
        if kind is OperationKind.STEP and settings.hide_internal_spans:  # noqa: SIM102
            # hidden, unless a root: then it stays a span, and its work one trace under it (a
            # root also under hidden runs with no span above them: the parent's context decides)
            if trace.get_current_span(parent_ctx).get_span_context().is_valid:
                _links.link_run(registry, run_id, parent, parent_ctx)
                return
        if kind is OperationKind.EXECUTE_TOOL and op.agent_name is None and heir is not None:
            op.agent_name = heir.enclosing_agent_name()  # CR when a tool runs for an agent
        attrs = start_attributes(op)
        block = current_attribution()  # an attribution() block opened inside the parent wins
        attribution = run_attribution(
            op, inherited_attribution(block, heir), settings.metadata_keys
        )
        if attribution is not None:
            attrs.update(attribution_attributes(attribution))
        run = Run(run_id, parent, op, attribution)
        run.block = block
        if parent is None:  # a run of ours (either integration) it started inside, if any
            run.outer = _context.run_in(parent_ctx)
        if settings.capture_mode.on_span:
            run.budget = _content.ContentBudget(settings)
            attrs.update(_content.build_content_attributes(op, settings, run.budget))
        t = valid_ns(start_time_ns) or self._clock()
        run.start_ns = t
        clean = clean_attributes(attrs)  # the span's and the metrics' (both encoders drop bad ones)
        span = self._tracer.start_span(
            span_name(op), context=parent_ctx, kind=span_kind(kind), attributes=clean,
            start_time=t,
        )  # fmt: skip
        run.span = span
        run.metric_attrs = start_metric_attributes(clean, attribution, settings)
        run.ctx = trace.set_span_in_context(span, parent_ctx)
        if not registry.put_if_absent(run_id, run, t / 1e9):
            span.end(end_time=t)
            return
        if parent is not None:  # the tree's quiet task: where its runs are not activated
            parent.add_child(run)
            run.quiet_ref = parent.quiet_ref
        else:
            run.quiet_ref = _run.task_ref(_context.quiet_task(activate))
        task = _context.current_task() if activate else None
        if activate and (task is None or task is not _run.task_of(run.quiet_ref)):
            extra = None
            if kind in SUPPRESSIBLE_KINDS and settings.suppress_provider_spans:
                extra, run.provider_data = provider_suppression(kind)
            ctx = _context.activation_context(run.ctx, run, extra)
            run.active_ctx = ctx
            run.home_ref = _run.task_ref(task)
            if root and parent is None:  # restored at end: the context before this root
                # and its siblings (a run under a known parent is no root, whatever the flag)
                run.home_token = _context.mark_home()
                run.prev_ctx = _context.activate(ctx, parent_ctx)
            else:
                run.prev_ctx = _context.activate(ctx)

    def link(self, run_id: Hashable, *, parent_run_id: Hashable | None = None) -> None:
        """Register a run that gets no span: its children nest under its nearest traced ancestor."""
        try:
            _links.link(self._registry, run_id, parent_run_id)
        except Exception:
            log_once("link", "genai-trace: Telemetry.link failed")

    def root_of(self, run_id: Hashable) -> Hashable | None:
        """The run id of the top run above the open run ``run_id`` (its own id for a root),
        following each run's parent; ``None`` for an unknown run (or a parent chain too deep)."""
        try:
            run = self._registry.get(run_id)
            for _ in range(256):  # bounded walk: a cycle of parents cannot loop
                if run is None or run.parent is None:
                    return None if run is None else run.run_id
                run = run.parent
        except Exception:
            log_once("root-of", "genai-trace: Telemetry.root_of failed")
        return None

    def chunk(self, run_id: Hashable, *, time_ns: int | None = None) -> None:
        """A streamed chunk arrived: time to first chunk, then the gap between chunks."""
        try:
            run = self._registry.get(run_id)
            if run is None or run.span is None:
                return
            t = self._clock() if time_ns is None else (valid_ns(time_ns) or self._clock())
            last = run.last_chunk_ns
            if last is None:
                first_chunk(run, t)
            else:  # the common case: one histogram record per gap, nothing else
                self._record_gap((t - last) / 1e9, run.metric_attrs)
            run.last_chunk_ns = t
        except Exception:
            log_once("chunk", "genai-trace: Telemetry.chunk failed")

    @safe()
    def add_event(
        self, run_id: Hashable, name: str, attributes: Mapping[str, Any] | None = None
    ) -> None:
        run = self._registry.get(run_id)
        if run is not None and run.span is not None and not run.ended:
            attrs = clean_attributes(attributes) if attributes else attributes
            run.span.add_event(label(name), attrs, timestamp=self._clock())

    @safe()
    def set_attributes(self, run_id: Hashable, attributes: Mapping[str, Any]) -> None:
        run = self._registry.get(run_id)
        if run is not None and run.span is not None and not run.ended:
            run.span.set_attributes(clean_attributes(attributes))

    def end(
        self,
        run_id: Hashable,
        outcome: Outcome | None = None,
        *,
        end_time_ns: int | None = None,
        with_descendants: bool = False,
        with_streams: bool = False,
    ) -> None:
        """End ``run_id`` successfully (unknown or ended runs are ignored). A root ends what is
        still open under it: as abandoned, or ``with_descendants`` successfully (a cancellation
        reported on the root first); a stream only ``with_streams`` (else it ends on its own)."""
        try:
            run = self._registry.pop(run_id)
            if run is not None and run.run_id == run_id:  # else a link's alias: nothing to end
                finish(self, run, outcome, None, end_time_ns, with_descendants, with_streams)
        except Exception:
            log_once("end", "genai-trace: Telemetry.end failed")

    def fail(
        self,
        run_id: Hashable,
        error: BaseException | str,
        *,
        outcome: Outcome | None = None,
        end_time_ns: int | None = None,
        with_streams: bool = False,
    ) -> None:
        """End ``run_id`` with status ERROR and ``error.type`` (a string is taken as the type); what
        is open under a root ends as abandoned, a streamed inference only ``with_streams``."""
        try:
            run = self._registry.pop(run_id)
            if run is not None and run.run_id == run_id:  # else a link's alias: nothing to end
                finish(self, run, outcome, error, end_time_ns, with_streams=with_streams)
        except Exception:
            log_once("fail", "genai-trace: Telemetry.fail failed")

    @safe(default=0)
    def sweep(self) -> int:
        """End every run idle longer than the TTL as abandoned; return how many."""
        return self._registry.sweep()

    @safe()
    def shutdown(self) -> None:
        """End every open run as abandoned (process exit, uninstrument)."""
        for run in self._registry.drain():
            self.abandon(run)

    def abandon(self, run: Run) -> None:
        """End ``run`` as ``error.type=abandoned`` (evicted, or still open when its root ended)."""
        if run.ended:
            return
        self._registry.pop(run.run_id)
        if run.span is not None:
            self.instruments.add_abandoned(run.metric_attrs)
        finish(self, run, None, semconv.ERROR_TYPE_ABANDONED, None)

    def now(self) -> int:
        """The telemetry clock, in nanoseconds."""
        return self._clock()

"""Ending a run: what it computed, then the span, metrics, budgets and events, in that order.

``finish`` unlinks a run from the tree (open grandchildren stay reachable from the root) and ends
its span. ``end_span`` first computes everything the end needs (the response fields a provider
instrumentation published, usage, cost, error type, content), then builds the end attributes in
one place (``_attributes.end_attributes``), then ends the span, records metrics, notifies budgets
and emits events. A root that ends closes what is still open under it (abandoned), except streams
its caller hands on, unless its ender says they end too (``with_streams``: the app stopped reading).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from genai_trace_core import _budget, semconv
from genai_trace_core import content as _content
from genai_trace_core._safe import log_once
from genai_trace_core.lifecycle import _context, _events
from genai_trace_core.lifecycle._attributes import (
    end_attributes,
    end_metric_attributes,
    error_type_of,
)
from genai_trace_core.lifecycle._detached import detached_context
from genai_trace_core.lifecycle._rollup import roll_up, rollup_attributes
from genai_trace_core.lifecycle._run import Run, late_context, task_of
from genai_trace_core.lifecycle._run_metrics import record_run_metrics
from genai_trace_core.lifecycle._run_response import outcome_with_published
from genai_trace_core.lifecycle._run_usage import usage_of_run
from genai_trace_core.lifecycle._sanitize import clean_attributes, valid_ns
from genai_trace_core.records import Cost, OperationKind, Outcome, Usage
from genai_trace_core.usage import compute_cost

if TYPE_CHECKING:
    from genai_trace_core.lifecycle._telemetry import Telemetry

_ESTIMATED = semconv.USAGE_SOURCE_ESTIMATED


def finish(
    tel: Telemetry,
    run: Run,
    outcome: Outcome | None,
    error: BaseException | str | None,
    end_time_ns: int | None,
    with_descendants: bool = False,
    with_streams: bool = False,
) -> None:
    """End ``run`` once: unlink it, end its span (never raising), undo its activation. A root
    ends what is still open under it: as abandoned, or ``with_descendants`` successfully; its
    streamed inferences only ``with_streams`` (else each ends with its stream)."""
    if run.ended:
        return
    run.ended = True
    parent = run.parent
    if parent is not None:
        # the parent's tree was active now (the registry's TTL counts idle time): the clock is
        # read here instead of in end_span, so ending a run reads it no more than before
        if end_time_ns is None:
            end_time_ns = tel.now()
        parent.last_active = end_time_ns
        parent.remove_child(run)
        if run.children:  # open grandchildren stay reachable from the root, and re-parented:
            for child in run.children:  # when they end, theirs move up to a run still open
                child.parent = parent
                parent.add_child(child)
            run.children = None
    span = run.span
    if span is not None:
        try:
            end_span(tel, run, span, outcome, error, end_time_ns)
        except Exception:
            log_once("end-span", "genai-trace: enriching a span at end failed")
            if span.is_recording():
                span.end(end_time=valid_ns(end_time_ns))
        finally:
            deactivate(run)
    if run.parent is None and run.children:
        _end_descendants(tel, run, with_descendants, with_streams)


def deactivate(run: Run) -> None:
    """Undo ``run``'s activation where it is still current (here, or in the task it was made)."""
    active, prev, task = run.active_ctx, run.prev_ctx, task_of(run.home_ref)
    # The activation context holds the run (``RUN_KEY``) and the root's home token holds the
    # execution context: let go of both, so an ended run is in no reference cycle and is freed
    # by reference counting, not by the garbage collector. ``prev_ctx`` stays: a context still
    # current elsewhere falls back through it (``stale_fallback``).
    run.active_ctx = None
    run.home_token = None
    if active is None or prev is None:
        return
    run.home_ref = None
    _context.deactivate(active, prev, _context.stale_fallback)
    if task is not None and task is not _context.current_task():
        # Ended in a copy of the start context (e.g. a shielded async callback): undo the
        # activation in the task that made it, or it outlives the run there.
        _context.deactivate_in_task(task, active, prev, _context.stale_fallback)
        if not _context.CAN_UNDO_IN_TASK and not task.done():  # undone in place: a copy of
            setattr(active, _ENDED_RUN, run)  # it (a task it made) still tells whose it was


# The run whose activation a ``Context`` undone in place was (Python < 3.12; see ``_context``).
_ENDED_RUN = "_genai_trace_ended_run"


def ended_parent(current: Context, parent_run_id: Hashable | None) -> Context | None:
    """Where a run whose parent ``parent_run_id`` already ended starts: under that parent, when
    ``current`` is (a copy of) the activation of it or of a run under it: the context it handed to
    a thread or a task it started (``copy_context``, ``create_task``) whose work began after it
    ended. Nothing is kept for this at end: the context the work carries is the record."""
    if parent_run_id is None:  # a root
        return None
    for made_in in (current.get(_context.RUN_KEY), getattr(current, _ENDED_RUN, None)):
        run = made_in  # the run the context was made in, then up its parents (bounded)
        for _ in range(64):
            if not isinstance(run, Run):
                break
            if run.run_id == parent_run_id:
                return None if run.span is None else late_context(detached_context(run.ctx), run)
            run = run.parent
    return None


def _end_descendants(tel: Telemetry, root: Run, with_root: bool, with_streams: bool) -> None:
    stack = list(root.children or ())
    while stack:
        child = stack.pop()
        if child.ended:
            continue
        if child.children:
            stack.extend(child.children)
        op = child.op
        if child.streaming and not with_streams and op is not None and op.kind.is_inference:
            continue  # a stream consumed after its caller returned ends on its own
        if child.span is not None:  # a step that still starts under it (an async branch the
            # framework did not cancel when its sibling failed) nests there, in the same trace
            tel._registry.retire(child.run_id, late_context(detached_context(child.ctx), child))
        if with_root:
            tel.end(child.run_id)
        else:
            tel.abandon(child)


def _usage_and_cost(
    run: Run, outcome: Outcome | None, error: BaseException | str | None, exact: bool
) -> tuple[Usage | None, Cost | None]:
    op = run.op
    assert op is not None
    if not op.kind.is_model_call:
        return None, None
    usage = usage_of_run(op, outcome, error, run.provider_data, exact=exact)
    if usage is None:
        return None, None
    model = (outcome.response_model if outcome else None) or op.request_model
    return usage, compute_cost(model, op.provider, usage, request_model=op.request_model)


def _exception_attributes(exc: _content.ExceptionText) -> dict[str, str]:
    return {
        semconv.EXCEPTION_TYPE: exc.type,
        semconv.EXCEPTION_MESSAGE: exc.message,
        semconv.EXCEPTION_STACKTRACE: exc.stacktrace,
    }


def end_span(
    tel: Telemetry,
    run: Run,
    span: Span,
    outcome: Outcome | None,
    error: BaseException | str | None,
    end_time_ns: int | None,
) -> None:
    """Compute, then build the end attributes once, then end the span and record the rest."""
    op = run.op
    assert op is not None
    kind = op.kind
    settings = tel.settings
    end_ns = valid_ns(end_time_ns) or tel.now()
    duration = max(0.0, (end_ns - run.start_ns) / 1e9)
    # 1. what the end needs: first the response fields the framework dropped, as a suppressed
    # util-genai provider instrumentation published them (cost then prices the response model).
    # Offline counts: tiktoken only on the user's opt-in (exported as gen_ai.usage.*), else the
    # cheap ceil(chars/4), so no tokenizer runs on the app's thread by default.
    if run.provider_data is not None:
        outcome = outcome_with_published(outcome, run.provider_data)
    usage, cost = _usage_and_cost(run, outcome, error, settings.estimate_usage)
    error_type = error_type_of(error) if error is not None else None
    mode = settings.capture_mode
    capture_any, on_span = mode.any, mode.on_span
    content_attrs: dict[str, Any] = {}
    if capture_any and outcome is not None:
        if run.budget is None:
            run.budget = _content.ContentBudget(settings)
        content_attrs = _content.build_outcome_content(outcome, settings, run.budget)
    span_content: dict[str, Any] | None = content_attrs if on_span else None
    # What was cut of what the span carries: its content's budget, only when it carries content.
    span_budget = run.budget if on_span else None
    if capture_any and not on_span and outcome is not None and outcome.documents is not None:
        # EVENT_ONLY: retrieval has no content event; its documents' ids and scores (no text)
        # stay on the span, scrubbed and redacted like content, within a budget of their own.
        span_budget = _content.ContentBudget(settings)
        refs = _content.serialize_documents(outcome.documents, span_budget, include_content=False)
        span_content = {semconv.GEN_AI_RETRIEVAL_DOCUMENTS: refs} if refs else None
    # 2. the end attributes, in one place
    estimates = settings.estimate_usage
    attrs = end_attributes(
        kind, outcome, usage, cost, error_type, span_content, estimates=estimates
    )
    if kind is OperationKind.INVOKE_AGENT:
        attrs.update(rollup_attributes(run, attrs, on_span))
    # An offline estimate prices the call; it is usage the conventions show only on opt-in.
    shown = usage if usage is None or estimates or usage.source != _ESTIMATED else None
    if kind.is_inference:
        roll_up(run, shown, outcome.finish_reasons if outcome else None, content_attrs)
    if span_budget is not None:
        attrs.update(span_budget.flag_attributes())
    metric_attrs = end_metric_attributes(run.metric_attrs, outcome, error_type)
    # 3. the span
    exc = _content.describe_exception(error, settings) if isinstance(error, BaseException) else None
    if exc is not None:
        span.set_status(Status(StatusCode.ERROR, exc.description))
        # Not span.record_exception: it would export str(error) and the full traceback as is.
        span.add_event(semconv.EVENT_EXCEPTION, _exception_attributes(exc), timestamp=end_ns)
    elif error is not None:
        assert error_type is not None
        desc = _content.describe_error_text(str(error), settings)
        span.set_status(Status(StatusCode.ERROR, desc or error_type))
    if attrs:
        span.set_attributes(clean_attributes(attrs))
    # 4. metrics, budgets, events
    if kind is not OperationKind.STEP:  # a step records no metric
        record_run_metrics(tel.instruments, run, metric_attrs, duration, shown, cost, outcome)
    if cost is not None and _budget.listeners:  # spend per user/tenant/feature
        _budget.notify(cost.total_usd, run.attribution, run.ctx)
    if kind.is_inference and settings.emits_events:
        _events.emit_run_details(tel.logger, run, op, attrs, content_attrs, settings, end_ns)
    # The exception event is recommended for a failed model call, whatever the capture mode.
    if exc is not None and (settings.emits_events or kind.is_model_call):
        _events.emit_exception(tel.logger, run.ctx, exc, metric_attrs, end_ns)
    span.end(end_time=end_ns)

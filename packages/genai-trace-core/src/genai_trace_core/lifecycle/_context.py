"""Making a span current without ever producing "Failed to detach context".

OpenTelemetry's ``detach(token)`` fails when the token was created in another ``contextvars``
context (a LangChain callback that starts in one task and ends in another, a copied context per
step). We never reset tokens. To activate we ``attach`` the span's context and remember what was
current before; to deactivate we re-``attach`` that previous context, but only if our context is
still the current one in *this* execution context. If it is not, the context we attached into has
moved on (or was a copy that is gone) and there is nothing to undo. A re-attached previous context
that belongs to a span already ended is skipped over, so out-of-order ends never resurrect it.

Async frameworks end runs in a *copy* of the context they started in (LangChain shields its async
end callbacks with ``asyncio.shield``, which runs them in a new task). An activation made in the
caller's task would then outlive the run there: the caller's next span would nest under an ended
span, and every run would keep the previous one alive. So an activation remembers the task it
was made in, and an end that cannot undo it here undoes it inside that task's own context
(``Task.get_context()``, Python 3.12+). Python 3.10/3.11 have no way into another task's context:
there the activation's own ``Context`` object (made here, handed to nobody else) is turned in
place into the context it replaced (:func:`_undo_in_place`), so the task that still has it
current carries on as if it had been undone: its next span nests where it would have without us,
provider instrumentations are no longer told to stand down, and no ended run stays reachable.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

from genai_trace_core.lifecycle._run import Run

RUN_KEY = otel_context.create_key("genai_trace.run")
# The key ``trace.set_span_in_context`` stores the span under, learnt once from the public API:
# reading a context's span is then a dict lookup (the hot path does it for every run).
SPAN_KEY: str = next(iter(trace.set_span_in_context(trace.INVALID_SPAN, Context())))
_get_current = otel_context.get_current
current = otel_context.get_current
_attach = otel_context.attach


def activation_context(ctx: Context, run: Run, extra: dict[str, Any] | None) -> Context:
    """``ctx`` marked as ``run``'s activation (plus ``extra`` keys), in one copy. Only contexts
    made current by :func:`activate` carry :data:`RUN_KEY`: a run's own context (handed out for
    explicit propagation) does not, so attaching it after the run ended is not mistaken for a
    leftover activation."""
    values = dict(ctx)
    values[RUN_KEY] = run
    if extra:
        values.update(extra)
    return Context(values)


# Task.get_context() (3.12+) lets an end in another task undo an activation in the task it was made.
CAN_UNDO_IN_TASK = hasattr(asyncio.Task, "get_context")
_running_loop = asyncio.events._get_running_loop


def current_task() -> asyncio.Task[Any] | None:
    """The asyncio task running this code, or ``None`` outside an event loop (cheap)."""
    if _running_loop() is None:
        return None
    return asyncio.current_task()


def quiet_task(activate: bool) -> asyncio.Task[Any] | None:
    """For a new root: the task in which the runs of its tree are not activated, or ``None``.
    Python < 3.12 only, and only for a root that is not activated itself (a stream's, read by
    a loop in this very task): older LangChain on 3.10 runs the stream's steps in this task too,
    between the loop's turns, and their activations would hold the loop's own spans."""
    return None if activate or CAN_UNDO_IN_TASK else current_task()


def activate(ctx: Context, prev: Context | None = None) -> Context:
    """Make ``ctx`` current; return the context to restore when it ends: ``prev`` if given,
    else the one current before (never chaining runs through ended ones)."""
    if prev is None:
        prev = live_context(_get_current())
    _attach(ctx)
    return prev


def deactivate(ctx: Context, prev: Context, is_stale: Callable[[Context], Context | None]) -> bool:
    """Undo :func:`activate` if ``ctx`` is current here, possibly under activations of runs that
    already ended (a child that ended in another task) or that are still open but were made on
    top of ours (a stream handed to code that reads it in another thread); return whether it was
    undone. Those are undone with ours: once a run ends, the context it was activated in is as
    it was before it, never left with a span of ours current.

    ``is_stale(c)`` returns the context to fall back to when ``c`` belongs to an ended span
    (its own previous context), or ``None`` when ``c`` is live; it lets us skip ended ancestors.
    """
    current = _get_current()
    for _ in range(64):  # bounded walk from the current context past activations made on ours
        if current is ctx:
            break
        undone = getattr(current, _UNDONE, None)
        if undone is not None:  # an activation undone in place stands for the one before
            current = undone
            continue
        fallback = is_stale(current)
        if fallback is None:
            fallback = _open_activation_below(current)
            if fallback is None:
                return False  # a live context that is not ours: nothing of ours to undo here
        current = fallback
    else:
        return False
    target = prev
    for _ in range(64):  # bounded walk past ended ancestors
        fallback = is_stale(target)
        if fallback is None:
            break
        target = fallback
    _attach(target)
    return True


def _open_activation_below(current: Context) -> Context | None:
    """The context under ``current`` when it is exactly the activation of a run still open (no
    span a user or provider opened inside it), else ``None``. ``deactivate`` walks through it
    only on its way to its own activation: a run made current on top of ours, in our scope."""
    run = current.get(RUN_KEY)
    if isinstance(run, Run) and run.active_ctx is current:
        return run.prev_ctx
    return None


def deactivate_in_task(
    task: asyncio.Task[Any],
    ctx: Context,
    prev: Context,
    is_stale: Callable[[Context], Context | None],
) -> None:
    """Undo an activation inside ``task``'s own context (the task is suspended, awaiting us)."""
    if task.done():
        return
    if not CAN_UNDO_IN_TASK:
        _undo_in_place(ctx, prev, is_stale)
        return
    try:
        task_context: contextvars.Context = getattr(task, "get_context")()  # noqa: B009 - 3.12+
        task_context.run(deactivate, ctx, prev, is_stale)
    except RuntimeError:  # that context is entered right now (it is this one): nothing to do
        return


# An activation undone in place carries, as plain attributes (not context values: it compares
# equal to the context it replaced), the context it now stands for, and an open run's activation
# the (weakly held) undone ones that stand for it, which follow it when it is undone in turn.
_UNDONE = "_genai_trace_undone"
_STAND_INS = "_genai_trace_stand_ins"


def _undo_in_place(
    ctx: Context, prev: Context, is_stale: Callable[[Context], Context | None]
) -> None:
    """Python < 3.12 cannot enter another task's context: the ``Context`` object ``attach`` put
    there (ours, from :func:`activation_context`) is turned in place into the one it replaced,
    so the task's next span nests where it would have without us (``dict``'s own methods:
    ``Context`` refuses item assignment)."""
    target = live_context(prev)  # never a chain of undone activations: each stands for a live one
    for _ in range(64):  # bounded walk past ended ancestors
        fallback = is_stale(target)
        if fallback is None:
            break
        target = fallback
    _become(ctx, target, 0)


def _become(ctx: Context, target: Context, depth: int) -> None:
    """``ctx`` takes ``target``'s values (set before others are removed: a reader never sees it
    empty), and so do the undone activations that stood for ``ctx``."""
    dict.update(ctx, target)
    for key in [k for k in ctx if k not in target]:
        dict.pop(ctx, key, None)
    setattr(ctx, _UNDONE, target)
    stand_ins: list[weakref.ref[Context]] | None = getattr(ctx, _STAND_INS, None)
    setattr(ctx, _STAND_INS, None)
    run = target.get(RUN_KEY)
    if isinstance(run, Run) and run.active_ctx is target:  # an open run's: follow it later
        held = getattr(target, _STAND_INS, None)
        if held is None:
            held = []
            setattr(target, _STAND_INS, held)
        held.append(weakref.ref(ctx))
    if stand_ins and depth < 16:
        for ref in stand_ins:
            follower = ref()
            if follower is not None:
                _become(follower, target, depth + 1)


def parent_context(parent: Run | None) -> Context:
    """The context a new run's span starts in: its parent run's, unless a span that user or
    provider code opened *inside* that parent's activation is current (a user span in a lambda
    around a tool call): then the current context, so the run nests under that span."""
    current = _get_current()
    if parent is None:
        return live_context(current)
    anchor: Run | None = parent
    while anchor is not None and anchor.span is None:  # hidden/linked runs have no span
        anchor = anchor.parent
    if (
        anchor is not None
        and current.get(RUN_KEY) is anchor
        and current.get(SPAN_KEY) is not anchor.span
    ):
        return current
    return parent.ctx


def run_in(ctx: Context) -> Run | None:
    """The run whose activation ``ctx`` is (or was made inside), if any."""
    run = ctx.get(RUN_KEY)
    return run if isinstance(run, Run) else None


def traced_here(current: Context, run_id: object) -> bool:
    """True when ``current`` is the activation of the open run ``run_id`` (of any Telemetry)."""
    run = current.get(RUN_KEY)
    return isinstance(run, Run) and not run.ended and run.run_id == run_id


def root_context(current: Context, sibling_roots: bool) -> Context:
    """The context a run with no known parent starts in: the current one, without activations of
    runs already ended and, for a framework root (``sibling_roots``), without the activations of
    other framework roots made in this very execution context: a framework that batches starts
    every item's root here before running any, and those roots are siblings, not ancestors. A root
    started inside another root's work (a copied context, another thread or task) still nests."""
    ctx = live_context(current)
    if not sibling_roots:
        return ctx
    for _ in range(64):  # bounded walk past sibling roots
        run = ctx.get(RUN_KEY)
        if (
            not isinstance(run, Run)
            or run.home_token is None
            or run.prev_ctx is None
            or ctx.get(SPAN_KEY) is not run.span  # a span opened inside it is current: nest
            or not in_home_context(run)
        ):
            return ctx
        ctx = live_context(run.prev_ctx)
    return ctx


# Marks the execution context a framework root was activated in. Only its tokens matter:
# ``ContextVar.reset`` accepts a token in the context that made it and no other, which tells
# "this very context" from a copy of it (copies carry the same values, so values cannot).
_home: contextvars.ContextVar[None] = contextvars.ContextVar("genai_trace_home")


def mark_home() -> contextvars.Token[None]:
    """A token proving, later, that code runs in the execution context current now."""
    return _home.set(None)


def in_home_context(run: Run) -> bool:
    """True when this code runs in the execution context ``run`` was activated in (its
    ``home_token`` was made here); renews the token, which a check uses up."""
    token = run.home_token
    if token is None:
        return False
    try:
        _home.reset(token)
    except (ValueError, RuntimeError):  # made in another context (or used by a racing check)
        return False
    run.home_token = _home.set(None)
    return True


def live_context(ctx: Context) -> Context:
    """``ctx`` without the activations of runs that already ended (ended in another thread or
    task, which cannot reset this one's context): a new root never nests under an ended span."""
    for _ in range(64):  # bounded walk past ended ancestors
        undone = getattr(ctx, _UNDONE, None)
        if undone is not None:  # an activation undone in place stands for the one before
            ctx = undone
            continue
        run = ctx.get(RUN_KEY)
        if not isinstance(run, Run) or ctx.get(SPAN_KEY) is not run.span:
            return ctx
        fallback = stale_fallback(ctx)
        if fallback is None:
            return ctx
        ctx = fallback
    return ctx


def stale_fallback(ctx: Context) -> Context | None:
    run = ctx.get(RUN_KEY)
    if run is not None and isinstance(run, Run) and run.ended and run.prev_ctx is not None:
        return run.prev_ctx
    return None

"""Making a span current without ever producing "Failed to detach context".

OpenTelemetry's ``detach(token)`` fails when the token was created in another ``contextvars``
context (a LangChain callback that starts in one task and ends in another, a copied context per
step). We never reset tokens. To activate we ``attach`` the span's context and remember what was
current before; to deactivate we re-``attach`` that previous context, but only if our context is
still the current one in *this* execution context. If it is not, the context we attached into has
moved on (or was a copy that is gone) and there is nothing to undo. A re-attached previous context
that belongs to a span already ended is skipped over, so out-of-order ends never resurrect it.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

from genai_trace_core._run import Run

RUN_KEY = otel_context.create_key("genai_trace.run")


def activate(ctx: Context) -> Context:
    """Make ``ctx`` current; return the context that was current before."""
    prev = otel_context.get_current()
    otel_context.attach(ctx)
    return prev


def deactivate(ctx: Context, prev: Context, is_stale: Callable[[Context], Context | None]) -> None:
    """Undo :func:`activate` if ``ctx`` is still current here.

    ``is_stale(c)`` returns the context to fall back to when ``c`` belongs to an ended span
    (its own previous context), or ``None`` when ``c`` is live; it lets us skip ended ancestors.
    """
    if otel_context.get_current() is not ctx:
        return
    target = prev
    for _ in range(64):  # bounded walk past ended ancestors
        fallback = is_stale(target)
        if fallback is None:
            break
        target = fallback
    otel_context.attach(target)


def parent_context(parent: Run | None) -> Context:
    """The context a new run's span starts in: its parent run's, unless a span that user or
    provider code opened *inside* that parent's activation is current (a user span in a lambda
    around a tool call): then the current context, so the run nests under that span."""
    current = otel_context.get_current()
    if parent is None:
        return live_context(current)
    anchor: Run | None = parent
    while anchor is not None and anchor.span is None:  # hidden/linked runs have no span
        anchor = anchor.parent
    if (
        anchor is not None
        and current.get(RUN_KEY) is anchor
        and trace.get_current_span(current) is not anchor.span
    ):
        return current
    return parent.ctx


def live_context(ctx: Context) -> Context:
    """``ctx`` without the activations of runs that already ended (ended in another thread or
    task, which cannot reset this one's context): a new root never nests under an ended span."""
    for _ in range(64):  # bounded walk past ended ancestors
        run = ctx.get(RUN_KEY)
        if not isinstance(run, Run) or trace.get_current_span(ctx) is not run.span:
            return ctx
        fallback = stale_fallback(ctx)
        if fallback is None:
            return ctx
        ctx = fallback
    return ctx


def stale_fallback(ctx: Context) -> Context | None:
    run = ctx.get(RUN_KEY)
    if isinstance(run, Run) and run.ended and run.prev_ctx is not None:
        return run.prev_ctx
    return None

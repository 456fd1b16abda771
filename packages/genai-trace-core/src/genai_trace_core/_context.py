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
from opentelemetry.context import Context


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

"""Carry the caller's context into worker threads.

``contextvars`` do not follow work into a ``ThreadPoolExecutor``: OpenTelemetry's current span,
LangChain's and LlamaIndex's own run/span context variables all start empty in the worker, so the
work becomes a new trace. These helpers run the work in a *copy* of the submitting context (the
worker never changes the caller's context, and nothing is attached or detached by hand).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = ["ContextThreadPoolExecutor", "with_current_context"]

P = ParamSpec("P")
R = TypeVar("R")


def with_current_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind ``fn`` to a copy of the current context: call the result from any thread (or pass it
    to ``loop.run_in_executor``) and ``fn`` runs in the caller's trace."""
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.copy().run(fn, *args, **kwargs)

    return run


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in a copy of the submitter's context."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)

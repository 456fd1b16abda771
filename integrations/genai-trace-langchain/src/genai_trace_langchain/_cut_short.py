"""A bare async model or retriever call cut short: its run ends where the call ends.

LangChain reports no end for a bare ``await model.ainvoke(...)`` or ``await retriever.ainvoke(...)``
whose task is cancelled inside it (``BaseChatModel.agenerate`` turns only *results* of its
``asyncio.gather`` into ``on_llm_error``; ``BaseRetriever.ainvoke`` catches ``Exception`` only).
A timeout in the caller's own task (``asyncio.timeout``, ``anyio.move_on_after``/``fail_after``,
``asyncio.wait_for`` on 3.12+) cancels the call and lets the task carry on, with the run's span
still current: the task's next spans would nest under it, and provider instrumentations would
stay told to stand down, until core's ``TaskEnds`` ended the run with the task.

So, while :class:`~genai_trace_langchain.LangChainInstrumentor` is active,
``BaseChatModel.agenerate`` (which ``ainvoke`` and ``agenerate_prompt`` go through) and
``BaseRetriever.ainvoke`` are wrapped: when anything (``CancelledError`` included) escapes the
call, the runs it left current in the caller's context end right there, a cancellation as
``error.type=cancelled`` (or without error under a streamed request whose client went away, as
the handler ends such runs), and the caller's context is the one it had before the call. The
wrapper is a coroutine function with the original's name and signature; on the normal path it
adds one coroutine frame and one context read per call, nothing per span. Runs of a handler
passed by hand (no instrumentor) still end with their task. Async text completions start their
runs in child tasks of ``asyncio.gather`` and streams report their own errors: neither is
wrapped; the embed methods end their spans on any exception already (``_embeddings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from opentelemetry import context as otel_context

from genai_trace_core import safe
from genai_trace_langchain import _hook
from genai_trace_langchain._wrapping import unwrap_method, wrap_method

if TYPE_CHECKING:
    from uuid import UUID

_get_current = otel_context.get_current


@safe()  # telemetry never breaks the caller: its exception propagates as it was
def _end_cut_short(before: Any, error: BaseException) -> None:
    handler = _hook.current()
    if handler is None:
        return
    for run_id in handler._task_ends.left_current(before):
        # ``CancelledError``: cancelled, as ``TaskEnds`` ends it
        handler._fail(cast("UUID", run_id), error)


def _make(original: Any) -> Any:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = _get_current()
        try:
            return await original(self, *args, **kwargs)
        except BaseException as error:
            if _get_current() is not before:  # a run of the call's is still current here
                _end_cut_short(before, error)
            raise

    return method


def _targets() -> list[tuple[type, str]]:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.retrievers import BaseRetriever

    return [(BaseChatModel, "agenerate"), (BaseRetriever, "ainvoke")]


def patch() -> None:
    """Wrap the bare async entry points (once; see the module docs)."""
    for cls, name in _targets():
        wrap_method(cls, name, _make)


def unpatch() -> None:
    """Restore what :func:`patch` wrapped."""
    for cls, name in _targets():
        unwrap_method(cls, name)

"""Root runs whose asyncio task ends before the framework reports their end.

Some framework calls report a start and, when their asyncio task is cancelled or an exception
passes through them, no end: LangChain's bare ``await model.ainvoke(...)`` (``agenerate`` turns
only *results* of its ``asyncio.gather`` into ``on_llm_error``) and ``retriever.ainvoke(...)``
(it catches ``Exception`` only); LlamaIndex's ``aget_text_embedding_batch`` on the legacy
callback path (it starts every chunk's event, then awaits ``asyncio.gather`` with no
``try``). Such a run stayed open until the registry's TTL. An integration watches such a root
from its start: when the task it started in is done first, the run ends as ``cancelled`` (the
task was cancelled) or ``abandoned`` (it finished with the run still open, e.g. an
``asyncio.timeout`` block inside it expired, or it caught the call's exception and carried on).
A run that ends as reported stops being watched (``forget``), so a long-lived task keeps no
callback per call; a sync call is never watched. At most one ``add_done_callback`` per async
root watched: nothing on the path of a sync program. LangChain's ``astream_events`` runs a chain's
stream in a task of its own, and a cancellation can stop that task after its root's start and
before LangChain reports anything: such roots are watched with ``on_cancel``, the integration's
own end for a cancellation, and left alone when their task finishes otherwise (the run may go on
in another task).

An integration that wraps such a call need not wait for the task: when the call raises,
:meth:`TaskEnds.left_current` names the runs it left current in the caller's context (a
timeout inside the task: ``asyncio.timeout``, ``anyio.move_on_after``, ``wait_for`` on 3.12+),
which the integration then ends at once, restoring the caller's context through the normal end.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from genai_trace_core import semconv
from genai_trace_core._safe import safe
from genai_trace_core.lifecycle import _context
from genai_trace_core.lifecycle._telemetry import Telemetry

if TYPE_CHECKING:
    from opentelemetry.context import Context

_running_loop = asyncio.get_running_loop
# Runs watched at once, at most (each holds a done callback on a task still running).
MAX_WATCHED = 10_000


class TaskEnds:
    """Run id -> (task, done callback) for the open root runs watched (see the module docs).

    ``cancelled_is_error``: whether a run whose task was cancelled ends as ERROR with
    ``error.type=cancelled`` (LangChain's convention for a cancellation) or without error, as
    an integration that reports cancellations as no error ends its own (LlamaIndex). A run
    whose task finished with it open is ``abandoned`` either way.
    """

    __slots__ = ("_cancelled_is_error", "_telemetry", "_watched")

    def __init__(self, telemetry: Telemetry, *, cancelled_is_error: bool = True) -> None:
        self._telemetry = telemetry
        self._cancelled_is_error = cancelled_is_error
        self._watched: dict[Hashable, tuple[asyncio.Task[Any], Callable[[Any], None]]] = {}

    def watch(
        self,
        run_id: Hashable,
        then: Callable[[Hashable], None] | None = None,
        *,
        on_cancel: Callable[[Any, BaseException], None] | None = None,
    ) -> None:
        """Watch a root run that just started, if it started inside an asyncio task; ``then``
        (the integration's own cleanup for the run) is called after the task ended it. With
        ``on_cancel``, a run still open when its task was cancelled is handed to it with a
        ``CancelledError`` (as the framework reports one), and one whose task finished otherwise
        is left open: it may go on in another task (a stream read on by another task, a batch
        item whose start ran in a child task of ``gather``)."""
        try:
            _running_loop()
        except RuntimeError:  # a sync call: the framework reports every way it ends
            return
        task = asyncio.current_task()
        if task is None or task.done() or not self._telemetry.is_open(run_id):
            return
        if len(self._watched) >= MAX_WATCHED:  # bounded: past it, the registry's TTL ends them
            return
        telemetry, watched = self._telemetry, self._watched
        cancelled_is_error = self._cancelled_is_error

        @safe()  # a done callback: never an error logged by the event loop
        def task_done(done: asyncio.Task[Any]) -> None:
            watched.pop(run_id, None)
            if telemetry.is_open(run_id):
                if on_cancel is not None:
                    if done.cancelled():
                        on_cancel(run_id, asyncio.CancelledError())
                elif not done.cancelled():
                    telemetry.fail(run_id, semconv.ERROR_TYPE_ABANDONED)
                elif cancelled_is_error:
                    telemetry.fail(run_id, semconv.ERROR_TYPE_CANCELLED)
                else:
                    telemetry.end(run_id, with_descendants=True)
            if then is not None:
                then(run_id)

        # An empty context: nothing of the finished task's (or of our activation) runs with it.
        task.add_done_callback(task_done, context=contextvars.Context())
        watched[run_id] = (task, task_done)

    def forget(self, run_id: Hashable) -> None:
        """The run ended as the framework reported it: stop watching its task."""
        if self._watched:
            entry = self._watched.pop(run_id, None)
            if entry is not None:
                entry[0].remove_done_callback(entry[1])

    @safe(default=())
    def left_current(self, before: Context) -> tuple[Hashable, ...]:
        """The open runs of this ``Telemetry`` that a call which began with ``before`` current
        left current here (it raised before the framework reported their end), innermost first:
        the current context is their activations, each made on the one before, down to
        ``before``. Empty when ``before`` is current, or when anything else sits on it (a
        context we cannot account for is left to the task's end). Call it where the call raised,
        in the caller's own context; only that path pays for it."""
        current = _context.current()
        if current is before:
            return ()
        # what a run started on ``before`` was activated on: ``before`` itself, or (a root) it
        # without the ended runs' activations and the sibling roots' (see ``_context``)
        bases = (before, _context.live_context(before), _context.root_context(before, True))
        found: list[Hashable] = []
        for _ in range(64):  # bounded walk down the activations made on ``before``
            run = _context.run_in(current)
            if run is None or run.ended or run.active_ctx is not current:
                return ()
            if not self._telemetry.is_open(run.run_id) or run.prev_ctx is None:
                return ()
            found.append(run.run_id)
            current = run.prev_ctx
            if any(current is base for base in bases):
                return tuple(found)
        return ()

"""Root chat model and retriever runs whose asyncio task ends before LangChain ends them.

LangChain reports no end for a cancelled ``await model.ainvoke(...)`` (``agenerate`` awaits an
``asyncio.gather`` and only turns *results* into ``on_llm_error``), nor for a cancelled
``retriever.ainvoke(...)`` (it catches ``Exception`` only): ``task.cancel()`` or
``asyncio.wait_for`` around such a bare call left its span open until the registry's TTL. Such a
root is watched from its start: when the task it started in is done first, the run is failed as
``cancelled`` (the task was cancelled) or ``abandoned`` (it finished with the run still open,
e.g. an ``asyncio.timeout`` block inside it expired). A run that ends normally stops being
watched, so a long-lived task keeps no callback per call.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any
from uuid import UUID

from genai_trace_core import Telemetry, semconv

_running_loop = asyncio.get_running_loop


class TaskEnds:
    """Run id -> (task, done callback) for the open root runs watched (see the module docs)."""

    __slots__ = ("_telemetry", "_watched")

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry
        self._watched: dict[UUID, tuple[asyncio.Task[Any], Callable[[Any], None]]] = {}

    def watch(self, run_id: UUID) -> None:
        """Watch a root run that just started, if it started inside an asyncio task."""
        try:
            _running_loop()
        except RuntimeError:  # a sync call: LangChain reports every way it ends
            return
        task = asyncio.current_task()
        if task is None or task.done() or not self._telemetry.is_open(run_id):
            return
        telemetry, watched = self._telemetry, self._watched

        def task_done(done: asyncio.Task[Any]) -> None:
            watched.pop(run_id, None)
            if telemetry.is_open(run_id):
                cancelled = done.cancelled()
                reason = semconv.ERROR_TYPE_CANCELLED if cancelled else semconv.ERROR_TYPE_ABANDONED
                telemetry.fail(run_id, reason)

        # An empty context: nothing of the finished task's (or of our activation) runs with it.
        task.add_done_callback(task_done, context=contextvars.Context())
        watched[run_id] = (task, task_done)

    def forget(self, run_id: UUID) -> None:
        """The run ended as LangChain reported it: stop watching its task."""
        if self._watched:
            entry = self._watched.pop(run_id, None)
            if entry is not None:
                entry[0].remove_done_callback(entry[1])

"""A streamed request the client went away from: its ``CancelledError`` is not an error.

A server relaying ``chain.astream(...)`` (Starlette's ``StreamingResponse`` under uvicorn) stops
a response whose client disconnected by cancelling the task that reads the stream; LangChain then
reports ``CancelledError`` on the runs still open. That is the async twin of an app closing the
stream early (``aclose()``: ``GeneratorExit``), so such runs end the same way: without error, the
root's open descendants with it. Only runs under a root the user streams count: LangChain's
``stream``/``astream`` (and ``astream_events``, which runs ``astream``), and a LangGraph graph's
``stream``/``astream`` called by the user, not by the graph's own ``invoke``/``ainvoke``. A
cancelled ``ainvoke`` (a timeout, a cancelled task) stays ``error.type=cancelled``.

The handler keeps the open streamed roots in a :class:`StreamRoots`: one add when such a root
starts, one discard when any root ends or fails; the lookup (``Telemetry.root_of``) runs only for
a ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Hashable
from typing import Any

from genai_trace_core import Telemetry, semconv
from genai_trace_langchain._stream_roots import graph_stream_frame, in_langgraph, is_stream_input

_MAX_OPEN = 1024  # streamed roots remembered at once (one per streamed request in flight)
_GRAPH_INVOKES = frozenset(("invoke", "ainvoke"))
# Control-flow exceptions of LangGraph (interrupt, Command(goto=..., graph=PARENT)): not errors.
_CONTROL_FLOW = frozenset({"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"})


def error_of(error: BaseException) -> BaseException | str | None:
    """What to fail a run with, or ``None`` when the exception is control flow."""
    if isinstance(error, asyncio.CancelledError):
        return semconv.ERROR_TYPE_CANCELLED
    for cls in type(error).__mro__:
        if cls.__name__ in _CONTROL_FLOW:
            return None
    return error


class StreamRoots:
    """The open streamed roots of one handler: bounded, each entry gone when its root ends."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[Hashable, None] = {}  # insertion-ordered: the oldest is dropped first

    def add(self, run_id: Hashable) -> None:
        """Remember a streamed root (the oldest is forgotten past the bound: a root never
        reported ended, its cancellation then counts as an error, as it did before)."""
        roots = self._open
        if len(roots) >= _MAX_OPEN:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # another thread
                del roots[next(iter(roots))]
        roots[run_id] = None

    def discard(self, run_id: Hashable) -> None:
        """Forget ``run_id`` (any root that ends or fails; a no-op for one never added)."""
        self._open.pop(run_id, None)

    def __len__(self) -> int:
        return len(self._open)

    def stopped(self, telemetry: Telemetry, run_id: Hashable, error: BaseException) -> bool:
        """For a run that failed: True when ``error`` is a ``CancelledError`` on a run under an
        open streamed root (the root included). Forgets ``run_id`` when it is a root."""
        roots = self._open
        if not roots:
            return False
        root = telemetry.root_of(run_id) if isinstance(error, asyncio.CancelledError) else None
        streamed = root is not None and root in roots
        roots.pop(run_id, None)
        return streamed


def user_streamed(inputs: Any) -> bool:
    """For a streamed root (``is_stream_root``): True unless it is a LangGraph graph run by its
    own ``invoke``/``ainvoke`` (which run through ``stream``/``astream``). Call it from the
    handler's ``on_chain_start``: it looks a bounded number of frames up."""
    # 0 this function, 1 on_chain_start, 2 safe's wrapper, then LangChain's callback manager
    graph = graph_stream_frame(sys._getframe(2))
    if graph is None:  # no graph: LangChain's stream/astream placeholder input says it
        return is_stream_input(inputs)
    caller = graph.f_back
    return not (
        caller is not None and caller.f_code.co_name in _GRAPH_INVOKES and in_langgraph(caller)
    )

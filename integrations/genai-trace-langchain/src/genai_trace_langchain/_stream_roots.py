"""Which root runs are streamed: LangChain's ``stream``/``astream`` and every LangGraph graph.

A streamed root runs its steps in copied contexts and hands chunks to the caller's loop in the
caller's own context, so the handler does not make its span current there (it would adopt the
spans the caller opens in its loop body).
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

GRAPH_STREAMS = frozenset(("stream", "astream"))


def is_stream_root(inputs: Any, metadata: Any) -> bool:
    """True for a root run that LangChain or LangGraph streams (call it from the callback
    itself: it looks a fixed number of frames up for LangGraph's ``stream``/``astream``)."""
    return (
        is_stream_input(inputs)
        or (isinstance(metadata, dict) and metadata.get("ls_integration") == "langgraph")
        or _started_by_graph()
    )


def is_stream_input(inputs: Any) -> bool:
    """What ``Runnable.stream``/``astream`` (``_transform_stream_with_config``) report as the
    inputs: ``{"input": ""}`` (compared without ``==`` on the user's objects)."""
    if type(inputs) is not dict or len(inputs) != 1:
        return False
    value = inputs.get("input")
    return type(value) is str and not value


def _started_by_graph() -> bool:
    """True when a LangGraph graph's ``stream``/``astream`` (``invoke`` runs through them too)
    is a few frames above the callback: langgraph 1.0.x starts its root without the
    ``ls_integration`` metadata later versions add."""
    # 0 this function, 1 is_stream_root, 2 the handler's callback, 3 LangChain's callback manager
    return graph_stream_frame(sys._getframe(3)) is not None


def graph_stream_frame(frame: FrameType | None) -> FrameType | None:
    """The frame of a LangGraph graph's ``stream``/``astream`` at most 8 frames up from
    ``frame``, or ``None``."""
    for _ in range(8):
        if frame is None:
            return None
        if frame.f_code.co_name in GRAPH_STREAMS and in_langgraph(frame):
            return frame
        frame = frame.f_back
    return None


def in_langgraph(frame: FrameType) -> bool:
    """True when ``frame`` runs code of a ``langgraph`` module."""
    return str(frame.f_globals.get("__name__", "")).startswith("langgraph.")

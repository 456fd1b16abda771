"""Terminal output: print each finished trace as a tree when its local root span ends.

This module subclasses the SDK's ``SpanProcessor`` (the SDK calls private hooks on processors, so
duck typing is not safe), hence it imports ``opentelemetry.sdk``. Only :func:`configure` imports it,
from inside the function; the library paths never do.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from genai_trace_core._render import render_trace, use_color
from genai_trace_core._safe import safe
from genai_trace_core._spanview import SpanView

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

__all__ = ["ConsoleSpanProcessor"]


class _TraceBuffer:
    __slots__ = ("dropped", "spans")

    def __init__(self, max_spans: int) -> None:
        self.spans: deque[ReadableSpan] = deque(maxlen=max_spans)
        self.dropped = 0

    def add(self, span: ReadableSpan) -> None:
        if len(self.spans) == self.spans.maxlen:
            self.dropped += 1  # deque drops the oldest
        self.spans.append(span)


class ConsoleSpanProcessor(SpanProcessor):
    """Buffer ended spans per trace; render the trace when its local root ends.

    A local root is a span without a parent or with a remote parent. Buffers are bounded: at most
    ``max_traces`` open traces (the oldest is dropped) and ``max_spans_per_trace`` spans each (the
    oldest spans are dropped and counted in the header). ``stream=None`` means ``sys.stderr`` at
    render time; ``color=None`` means auto-detect (TTY and no ``NO_COLOR``).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        color: bool | None = None,
        max_traces: int = 256,
        max_spans_per_trace: int = 1000,
    ) -> None:
        self._stream = stream
        self._color = color
        self._max_traces = max(1, max_traces)
        self._max_spans = max(1, max_spans_per_trace)
        self._buffers: OrderedDict[int, _TraceBuffer] = OrderedDict()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    @safe()
    def on_end(self, span: ReadableSpan) -> None:
        if self._closed or span.context is None:
            return
        trace_id = span.context.trace_id
        is_local_root = span.parent is None or span.parent.is_remote
        with self._lock:
            buffer = self._buffers.get(trace_id)
            if buffer is None:
                if is_local_root:  # a single-span trace: nothing to buffer
                    buffer = _TraceBuffer(self._max_spans)
                else:
                    buffer = self._buffers[trace_id] = _TraceBuffer(self._max_spans)
                    while len(self._buffers) > self._max_traces:
                        self._buffers.popitem(last=False)
            buffer.add(span)
            if is_local_root:
                self._buffers.pop(trace_id, None)
        if is_local_root:
            self._render(buffer)

    def _render(self, buffer: _TraceBuffer) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        color = self._color if self._color is not None else use_color(stream)
        views = [SpanView.from_sdk(s) for s in buffer.spans]
        text = render_trace(views, color=color, dropped=buffer.dropped)
        with self._write_lock:
            stream.write(text)
            stream.flush()

    def pending_traces(self) -> int:
        """Traces whose local root has not ended yet (for tests and diagnostics)."""
        with self._lock:
            return len(self._buffers)

    def shutdown(self) -> None:
        self._closed = True
        with self._lock:
            self._buffers.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

"""Terminal output: print each finished trace as a tree once its local root span has ended and
every span started in it has ended too (bounded wait).

This module subclasses the SDK's ``SpanProcessor`` (the SDK calls private hooks on processors, so
duck typing is not safe), hence it imports ``opentelemetry.sdk``. Only :func:`configure` imports it,
from inside the function; the library paths never do.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict, deque
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from genai_trace_core._safe import safe
from genai_trace_core.export._line_start import LineStart
from genai_trace_core.semconv import STREAM_DEFERRED
from genai_trace_core.view import SpanView, render_trace, use_color

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

__all__ = ["ConsoleSpanProcessor", "is_local_root"]


def is_local_root(span: ReadableSpan) -> bool:
    """A span without a parent, or with a remote one: its trace is printed when it has ended."""
    return span.parent is None or span.parent.is_remote


class _TraceBuffer:
    """The ended spans of one trace, the spans started but not ended yet, and whether its local
    root has ended (then the buffer waits for the open spans, at most ``grace`` seconds)."""

    __slots__ = ("awaiting", "continued", "dropped", "open", "root_ended", "spans", "timer")

    def __init__(self, max_spans: int, *, continued: bool = False) -> None:
        self.spans: deque[ReadableSpan] = deque(maxlen=max_spans)
        self.dropped = 0
        self.open: dict[int, ReadableSpan] = {}  # span id -> live span (marked when forced)
        self.root_ended = False
        # a span ended returning a stream read later (``STREAM_DEFERRED``): its model call has
        # not started yet, so the trace is not complete even with nothing open
        self.awaiting = False
        # spans of a trace already printed (they ended, or started, after it was): printed on
        # their own, under a ``(continued)`` header, once they have ended
        self.continued = continued
        self.root_ended = continued
        self.timer: threading.Timer | None = None

    def add(self, span: ReadableSpan) -> bool:
        """Keep the ended span; ``False`` when the oldest was dropped for it (no growth)."""
        full = self.full
        if full:
            self.dropped += 1  # deque drops the oldest
        self.spans.append(span)
        return not full

    @property
    def size(self) -> int:
        return len(self.spans) + len(self.open)

    @property
    def full(self) -> bool:
        """No room for another ended span without dropping one."""
        return len(self.spans) == self.spans.maxlen

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class ConsoleSpanProcessor(SpanProcessor):
    """Buffer ended spans per trace; render the trace when its local root has ended and every
    span started in it has ended too.

    A local root is a span without a parent or with a remote parent. A span may end after its
    local root (a streamed model call read after the query returned; it may even start after,
    which a span marked ``genai_trace.stream.deferred`` announces): the trace then waits for
    it, at most ``grace_seconds`` or until the trace's buffer is full, and is printed anyway with
    the spans still open marked ``(open)``. Buffers are bounded: at most ``max_traces`` traces
    and ``max_buffered_spans`` spans in all (beyond either, the oldest trace is printed when its
    root has ended, else dropped, and its later spans ignored), ``max_spans_per_trace`` spans
    each (the oldest ended spans are dropped and counted in the header). A span that
    ends after its trace was printed (a model stream read for longer than the grace period) is
    printed on its own, with its tokens and cost, under a ``trace ... (continued)`` header.
    ``stream=None`` means ``sys.stderr`` at render time; ``color=None`` means auto-detect (TTY
    and no ``NO_COLOR``).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        color: bool | None = None,
        max_traces: int = 4096,
        max_spans_per_trace: int = 1000,
        max_buffered_spans: int = 16384,
        grace_seconds: float = 5.0,
    ) -> None:
        self._stream = stream
        self._color = color
        self._max_traces = max(1, max_traces)
        self._max_spans = max(1, max_spans_per_trace)
        self._grace = max(0.0, grace_seconds)
        self._max_held = max(1, max_buffered_spans)
        self._buffers: OrderedDict[int, _TraceBuffer] = OrderedDict()
        self._held = 0  # spans in the buffers, ended or open
        # the traces printed (True) or dropped while running (False) last, bounded: a later span
        # of a printed trace is a continuation; one of a dropped trace is ignored (its buffer
        # would evict another running trace, and so on: a cascade that cut every tree)
        self._gone: OrderedDict[int, bool] = OrderedDict()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._line = LineStart()  # under _write_lock
        self._closed = False

    @safe()
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        ctx = span.context
        if self._closed or ctx is None:
            return
        ready: list[_TraceBuffer] = []
        local_root = is_local_root(span)
        with self._lock:
            if not local_root and self._gone.get(ctx.trace_id) is False:
                return  # its trace was dropped while running
            buffer = self._buffer(ctx.trace_id, ready)
            buffer.awaiting = False
            if local_root:  # a request of its own (under a remote parent printed)
                buffer.root_ended = buffer.continued = False
            if len(buffer.open) < self._max_spans:
                buffer.open[ctx.span_id] = span
                self._held += 1
                self._evict(ready, keep=ctx.trace_id)
        self._render_all(ready)

    @safe()
    def on_end(self, span: ReadableSpan) -> None:
        ctx = span.context
        if self._closed or ctx is None:
            return
        trace_id = ctx.trace_id
        local_root = is_local_root(span)
        ready: list[_TraceBuffer] = []
        waiting: _TraceBuffer | None = None
        with self._lock:
            buffer = self._buffers.get(trace_id)
            if buffer is None and local_root:
                buffer = _TraceBuffer(self._max_spans)  # its start was evicted: print it alone
                buffer.add(span)
                self._remember(trace_id, printed=True)
                ready.append(buffer)
            elif buffer is not None or self._gone.get(trace_id) is not False:
                if buffer is None:  # a span of a trace printed, or whose start was evicted
                    buffer = self._buffer(trace_id, ready)
                if buffer.open.pop(ctx.span_id, None) is not None:
                    self._held -= 1
                if buffer.add(span):
                    self._held += 1
                buffer.root_ended = buffer.root_ended or local_root
                if span.attributes and span.attributes.get(STREAM_DEFERRED):
                    buffer.awaiting = True
                complete = not buffer.open and not buffer.awaiting
                if buffer.root_ended and (complete or buffer.full or self._grace == 0):
                    ready.append(self._take(trace_id))
                else:
                    if (local_root or buffer.continued) and buffer.timer is None:
                        waiting = buffer
                    self._evict(ready, keep=trace_id)
        if waiting is not None:
            self._schedule(trace_id, waiting)
        self._render_all(ready)

    def _buffer(self, trace_id: int, ready: list[_TraceBuffer]) -> _TraceBuffer:
        """The trace's buffer, created when missing (the lock is held, as in every helper)."""
        buffer = self._buffers.get(trace_id)
        if buffer is None:
            continued = self._gone.get(trace_id) is True
            buffer = self._buffers[trace_id] = _TraceBuffer(self._max_spans, continued=continued)
            self._evict(ready, keep=trace_id)
        return buffer

    def _evict(self, ready: list[_TraceBuffer], keep: int) -> None:
        """Beyond ``max_traces`` traces or ``max_buffered_spans`` spans, take out the oldest
        traces but ``keep``: one whose root has ended goes to ``ready`` to be printed, one still
        running is lost."""
        while (len(self._buffers) > self._max_traces or self._held > self._max_held) and len(
            self._buffers
        ) > 1:
            oldest_id = next(iter(self._buffers))
            if oldest_id == keep:
                self._buffers.move_to_end(keep)
                continue
            printed = self._buffers[oldest_id].root_ended
            oldest = self._take(oldest_id, printed=printed)
            oldest.cancel_timer()
            if printed:
                ready.append(oldest)

    def _take(self, trace_id: int, *, printed: bool = True) -> _TraceBuffer:
        """Remove the trace's buffer, to be printed (or, ``printed=False``, dropped)."""
        buffer = self._buffers.pop(trace_id)
        self._held -= buffer.size
        self._remember(trace_id, printed=printed)
        return buffer

    def _remember(self, trace_id: int, *, printed: bool) -> None:
        self._gone[trace_id] = printed
        self._gone.move_to_end(trace_id)
        if len(self._gone) > 4 * self._max_traces:
            self._gone.popitem(last=False)

    def _schedule(self, trace_id: int, buffer: _TraceBuffer) -> None:
        timer = threading.Timer(self._grace, self._expire, args=(trace_id, buffer))
        timer.daemon = True
        with self._lock:
            if self._buffers.get(trace_id) is not buffer or buffer.timer is not None:
                return
            buffer.timer = timer
        timer.start()

    @safe()
    def _expire(self, trace_id: int, buffer: _TraceBuffer) -> None:
        """The grace period is over: print the trace with its open spans marked."""
        with self._lock:
            if self._closed or self._buffers.get(trace_id) is not buffer:
                return
            self._take(trace_id)
        self._render(buffer)

    def _render_all(self, buffers: list[_TraceBuffer]) -> None:
        for buffer in buffers:
            self._render(buffer)

    def _render(self, buffer: _TraceBuffer) -> None:
        buffer.cancel_timer()
        stream = self._stream if self._stream is not None else sys.stderr
        color = self._color if self._color is not None else use_color(stream)
        views = [SpanView.from_sdk(s) for s in buffer.spans]
        for live in list(buffer.open.values()):
            view = SpanView.from_sdk(live)
            views.append(replace(view, name=f"{view.name} (open)", end_ns=view.start_ns))
        text = render_trace(views, color=color, dropped=buffer.dropped, continued=buffer.continued)
        with self._write_lock:
            # The tree starts on a line of its own when the app may be mid-line where it goes
            # (a streamed answer printed chunk by chunk on stdout or stderr).
            text = self._line.prefix(stream) + text
            stream.write(text)
            stream.flush()
            self._line.wrote(stream, text)

    def pending_traces(self) -> int:
        """Traces not printed yet: root still running, or waiting for spans that outlive it."""
        with self._lock:
            return len(self._buffers)

    def shutdown(self) -> None:
        """Print the traces whose root has ended (open spans marked), drop the others."""
        self.force_flush()
        self._closed = True
        with self._lock:
            for buffer in self._buffers.values():
                buffer.cancel_timer()
            self._buffers.clear()
            self._held = 0

    @safe(default=True)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Print now every trace whose root has ended, its open spans marked."""
        with self._lock:
            ready = [tid for tid, b in self._buffers.items() if b.root_ended]
            buffers = [self._take(tid) for tid in ready]
        for buffer in buffers:
            self._render(buffer)
        return True

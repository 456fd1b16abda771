"""Streams consumed after the call that made them returned.

A streaming query returns a ``StreamingResponse`` whose generator calls the LLM only when the user
iterates it, after the query span has ended: LlamaIndex then starts the LLM span with no parent.
We wrap ``response_gen`` so that its *first* step runs with the query's OpenTelemetry context
attached (the LLM span starts there and remembers its own context); later chunks run unwrapped
apart from the generator delegation, so there is no per-chunk context work. Read inside another
dispatcher span (a workflow step, a router's query), LlamaIndex reports that span as the parent of
what the step opens: :data:`READING` names it while the step runs, so the bridge starts those
spans where the stream came from, not under the reader.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

from llama_index.core.instrumentation.span import active_span_id
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

# The dispatcher span a wrapped stream's first step is read in (the reader's), while that step
# runs: a span the step opens reports it as its parent, but is the stream's work (``None``: no
# stream is starting here, or it is read outside any dispatcher span).
READING: ContextVar[str | None] = ContextVar("genai_trace_llamaindex_reading", default=None)


def _reading() -> Token[str | None]:
    return READING.set(active_span_id.get())


def _done_reading(token: Token[str | None]) -> None:
    try:
        READING.reset(token)
    except ValueError:  # pragma: no cover - set in another context (never by our wrappers)
        READING.set(None)


def _reparented(gen: Iterator[Any], ctx: Context) -> Generator[Any, None, None]:
    token = otel_context.attach(ctx)
    reading = _reading()
    try:
        first = next(gen)
    except StopIteration:
        return
    finally:
        _done_reading(reading)
        otel_context.detach(token)
    yield first
    yield from gen


async def _areparented(gen: AsyncIterator[Any], ctx: Context) -> AsyncGenerator[Any, None]:
    token = otel_context.attach(ctx)
    reading = _reading()
    try:
        first = await gen.__anext__()
    except StopAsyncIteration:
        return
    finally:
        _done_reading(reading)
        otel_context.detach(token)
    try:
        yield first
        async for item in gen:
            yield item
    finally:
        aclose = getattr(gen, "aclose", None)
        if aclose is not None:
            await aclose()


_WRAPPED_CODES = (_reparented.__code__, _areparented.__code__)


# Where a streaming response keeps its lazy generator: a query's ``StreamingResponse`` has a
# settable ``response_gen``; a chat engine's ``StreamingAgentChatResponse`` (0.14: ``response_gen``
# is a read-only property over a queue) keeps the LLM stream in ``chat_stream``/``achat_stream``.
_STREAM_FIELDS = ("response_gen", "chat_stream", "achat_stream")


def reparent_stream(result: Any, ctx: Context | None, streams: OpenStreams | None = None) -> None:
    """Make the lazy LLM call of a streaming response start under ``ctx`` (once per response).
    A generator that an open model stream returned (``streams``: its span started already, its
    request runs when first read, maybe in another thread or task) gets that stream's own
    activation instead: the request then runs with the model span current, and its provider
    suppression, wherever it is read.

    Never raises: a response whose generator cannot be replaced is left as it is (its LLM span
    then nests where the framework runs it), and the caller's span still ends."""
    for name in _STREAM_FIELDS:
        try:
            gen = getattr(result, name, None)
        except Exception:
            continue
        code = getattr(gen, "gi_code", None) or getattr(gen, "ag_code", None)
        if code is None:
            continue
        if code in _WRAPPED_CODES:
            return
        own = streams.activation_of(gen) if streams is not None else None
        if own is not None:
            ctx = own
        if ctx is None:
            return
        wrapped: Any = _reparented(gen, ctx) if isinstance(gen, Generator) else None
        if wrapped is None and isinstance(gen, AsyncGenerator):
            wrapped = _areparented(gen, ctx)
        if wrapped is None:
            continue
        try:
            setattr(result, name, wrapped)
        except (AttributeError, TypeError):  # a read-only property (or slots): try the next
            continue
        return


def end_when_collected(stream: Any, end: Callable[[], object]) -> None:
    """Call ``end`` when ``stream`` is garbage collected: a stream never iterated (so never
    closed, so no end event) must not keep its span open until the registry TTL."""
    if not isinstance(stream, (Generator, AsyncGenerator)):
        return
    try:
        finalizer = weakref.finalize(stream, end)
    except TypeError:  # pragma: no cover - not weak-referenceable
        return
    finalizer.atexit = False


class OpenStreams:
    """Streaming inference runs not yet ended (dispatcher span ids), and the generator frames of
    the streams they returned: a model call made while one of these streams is producing (its
    step is on this thread's stack) is part of that stream's model call, not a new one. Such a
    call names no parent: ``CustomLLM.astream_chat`` (``MockLLM`` and every custom model) returns
    a generator that calls the sync ``stream_chat`` when first read, ``StructuredLLM.stream_chat``
    one that calls the wrapped model's ``stream_structured_predict``, and the dispatcher's parent
    is then whatever span the reader runs in (a chat engine's history task, or none): without
    this, one request gave two chat spans in two traces, tokens counted twice."""

    __slots__ = ("_activations", "_by_ctx", "_frame_of", "_frames", "_ids")

    def __init__(self) -> None:
        self._ids: set[str] = set()
        # span id -> (its activation: the context current right after it started, the
        # dispatcher span it started in), and id(activation) -> span id, until the stream ends
        self._activations: dict[str, tuple[Context, str | None]] = {}
        self._by_ctx: dict[int, str] = {}
        # id(generator frame) -> (span id, the stream): checked by identity on a hit, so a
        # reused id never matches; each entry goes with its run (end, error or collection)
        self._frames: dict[int, tuple[str, weakref.ref[Any]]] = {}
        self._frame_of: dict[str, int] = {}

    def __contains__(self, span_id: object) -> bool:
        return span_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def returned(self, span_id: str, stream: Any) -> None:
        """The open stream ``span_id`` handed ``stream`` to the caller."""
        if not isinstance(stream, (Generator, AsyncGenerator)):
            return
        frame = _frame(stream)
        if frame is None:
            return
        try:
            ref = weakref.ref(stream)
        except TypeError:  # pragma: no cover - not weak-referenceable
            return
        self._frames[id(frame)] = (span_id, ref)
        self._frame_of[span_id] = id(frame)

    def add(self, span_id: str, parent_id: str | None = None, own: Context | None = None) -> None:
        """The stream ``span_id`` (started in dispatcher span ``parent_id``) has just started:
        remember the context current now if it is its activation (its span current: ``own``
        is its span's context). Its request runs when the stream is first read, which may be
        in another thread or task, or after the span it started in ended and undid it there."""
        self._ids.add(span_id)
        if own is None or len(self._activations) >= _MAX_ACTIVATIONS:
            return
        current = otel_context.get_current()
        if trace.get_current_span(current) is not trace.get_current_span(own):
            return  # not activated here (traced by another handler, a quiet task)
        self._activations[span_id] = (current, parent_id)
        self._by_ctx[id(current)] = span_id

    def activation_of(self, stream: Any) -> Context | None:
        """The activation of the open stream that returned ``stream`` (that very generator)."""
        if not self._activations:
            return None
        frame = _frame(stream)
        hit = self._frames.get(id(frame)) if frame is not None else None
        if hit is None or hit[1]() is not stream:
            return None
        entry = self._activations.get(hit[0])
        return entry[0] if entry is not None else None

    def current_activation(self, parent_id: str) -> Context | None:
        """The activation of an open stream started directly in dispatcher span ``parent_id``
        if it is the current context here (the response ``parent_id`` returns reads it)."""
        if not self._activations:
            return None
        current = otel_context.get_current()
        span_id = self._by_ctx.get(id(current))
        entry = self._activations.get(span_id) if span_id is not None else None
        if entry is None or entry[0] is not current or entry[1] != parent_id:
            return None
        return current

    def discard(self, span_id: str) -> None:
        self._ids.discard(span_id)
        key = self._frame_of.pop(span_id, None)
        if key is not None:
            self._frames.pop(key, None)
        if self._activations:
            entry = self._activations.pop(span_id, None)
            if entry is not None:
                self._by_ctx.pop(id(entry[0]), None)

    def clear(self) -> None:
        self._ids.clear()
        self._frames.clear()
        self._frame_of.clear()
        self._activations.clear()
        self._by_ctx.clear()

    def producer(self) -> str | None:
        """The span id of the open stream whose step runs here (its frame is on this thread's
        stack; bounded walk, only while such a stream is open), else ``None``."""
        frames = self._frames
        if not frames:
            return None
        f: FrameType | None = sys._getframe(1)
        for _ in range(_MAX_DEPTH):
            if f is None:
                return None
            hit = frames.get(id(f))
            if hit is not None:
                stream = hit[1]()
                if stream is not None and _frame(stream) is f:
                    return hit[0]
            f = f.f_back
        return None


def _frame(stream: Any) -> FrameType | None:
    return getattr(stream, "ag_frame", None) or getattr(stream, "gi_frame", None)


_MAX_ACTIVATIONS = 10_000  # bounded: a stream never read nor collected cannot grow it
_MAX_DEPTH = 64  # a model's inner call sits a few dozen frames below its stream's step


class DeferredParents:
    """The OTel contexts of spans that ended returning a stream read later (bounded, each
    forgotten when its response is collected). Work the framework starts for such a response
    after it returned names the ended span as its parent: a chat engine's history task (created
    inside ``astream_chat``, run after it returned) reads the stream, and the LLM call nests
    under that task's span. Started there without this, it began a trace of its own."""

    __slots__ = ("_contexts",)
    MAX = 10_000

    def __init__(self) -> None:
        self._contexts: dict[str, Context] = {}

    def __bool__(self) -> bool:
        return bool(self._contexts)

    def get(self, span_id: str) -> Context | None:
        return self._contexts.get(span_id)

    def add(self, span_id: str, ctx: Context | None, response: Any) -> None:
        if ctx is None:
            return
        contexts = self._contexts
        if len(contexts) >= self.MAX:
            contexts.pop(next(iter(contexts)))  # the oldest
        try:
            finalizer = weakref.finalize(response, contexts.pop, span_id, None)
        except TypeError:  # not weak-referenceable: kept until evicted
            pass
        else:
            finalizer.atexit = False
        contexts[span_id] = ctx

    def clear(self) -> None:
        self._contexts.clear()

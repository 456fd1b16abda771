"""Streams consumed after the call that made them returned.

A streaming query returns a ``StreamingResponse`` whose generator calls the LLM only when the user
iterates it, after the query span has ended: LlamaIndex then starts the LLM span with no parent.
We wrap ``response_gen`` so that its *first* step runs with the query's OpenTelemetry context
attached (the LLM span starts there and remembers its own context); later chunks run unwrapped
apart from the generator delegation, so there is no per-chunk context work.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context


def _reparented(gen: Iterator[Any], ctx: Context) -> Generator[Any, None, None]:
    token = otel_context.attach(ctx)
    try:
        first = next(gen)
    except StopIteration:
        return
    finally:
        otel_context.detach(token)
    yield first
    yield from gen


async def _areparented(gen: AsyncIterator[Any], ctx: Context) -> AsyncGenerator[Any, None]:
    token = otel_context.attach(ctx)
    try:
        first = await gen.__anext__()
    except StopAsyncIteration:
        return
    finally:
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


def reparent_stream(result: Any, ctx: Context | None) -> None:
    """Make the lazy LLM call of a streaming response start under ``ctx`` (once per response).

    Never raises: a response whose generator cannot be replaced is left as it is (its LLM span
    then nests where the framework runs it), and the caller's span still ends."""
    if ctx is None:
        return
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


def end_when_collected(stream: Any, end: Callable[[], None]) -> None:
    """Call ``end`` when ``stream`` is garbage collected: a stream never iterated (so never
    closed, so no end event) must not keep its span open until the registry TTL."""
    if not isinstance(stream, (Generator, AsyncGenerator)):
        return
    try:
        finalizer = weakref.finalize(stream, end)
    except TypeError:  # pragma: no cover - not weak-referenceable
        return
    finalizer.atexit = False

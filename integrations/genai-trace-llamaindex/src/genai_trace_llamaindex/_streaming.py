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


def reparent_stream(result: Any, ctx: Context | None) -> None:
    """Make the lazy LLM call of a streaming response start under ``ctx`` (once per response)."""
    if ctx is None:
        return
    gen = getattr(result, "response_gen", None)
    if gen is None:
        return
    code = getattr(gen, "gi_code", None) or getattr(gen, "ag_code", None)
    if code in _WRAPPED_CODES:
        return
    if isinstance(gen, Generator):
        result.response_gen = _reparented(gen, ctx)
    elif isinstance(gen, AsyncGenerator):
        result.response_gen = _areparented(gen, ctx)


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

"""A streamed chat is current while its stream is read, and only then.

LlamaIndex's OpenAI (and most) clients make the HTTP call when the returned generator is first
read, after ``stream_chat`` returned. Spans opened there (httpx, openai or other provider
instrumentations) must nest under our chat span, and provider instrumentations must see its
suppression; once the stream is read to the end, closed or collected, the caller's context is
exactly what it was before.
"""

from __future__ import annotations

import gc
from collections.abc import Generator, Sequence
from typing import Any

from li_support import Instrument, shape
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from opentelemetry import context as otel_context
from opentelemetry import trace

from genai_trace_core.testing import OTelHarness, requires_async_root_activation
from genai_trace_llamaindex.testing import DeterministicLLM

PROVIDER_TRACER: list[trace.Tracer] = []


class HttpTracedLLM(DeterministicLLM):
    """Opens a span around the (lazy) request, as an HTTP client instrumentation would."""

    def _stream(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> Generator[ChatResponse, None, None]:
        with PROVIDER_TRACER[0].start_as_current_span("POST /chat/completions"):
            chunks = list(super()._stream(messages, kwargs))
        yield from chunks


def _llm(otel: OTelHarness) -> HttpTracedLLM:
    PROVIDER_TRACER[:] = [otel.tracer_provider.get_tracer("http-client")]
    return HttpTracedLLM()


MESSAGES = [ChatMessage(role="user", content="hi")]
NESTED = [["chat gpt-4o-mini", [["POST /chat/completions", []]]]]


def test_request_made_while_the_stream_is_read_nests_under_the_chat_span(
    otel: OTelHarness, instrument: Instrument
) -> None:
    llm = _llm(otel)
    instrument()
    before = otel_context.get_current()

    text = "".join(r.delta or "" for r in llm.stream_chat(MESSAGES))

    assert text
    assert shape(otel.tree(attributes=False)) == NESTED
    assert otel_context.get_current() is before


def test_stream_closed_early_or_never_read_leaves_the_callers_context_as_it_was(
    otel: OTelHarness, instrument: Instrument
) -> None:
    llm = _llm(otel)
    instrumentor = instrument()
    bridge = instrumentor._handlers[0].bridge  # type: ignore[index]
    before = otel_context.get_current()

    stream = llm.stream_chat(MESSAGES)
    next(stream)
    stream.close()
    assert otel_context.get_current() is before
    never_read = llm.stream_chat(MESSAGES)
    del never_read
    gc.collect()

    assert otel_context.get_current() is before
    assert bridge.telemetry.open_count() == 0
    with otel.tracer_provider.get_tracer("user").start_as_current_span("after") as after:
        assert not after.parent  # a new root: nothing of ours is left current
    names = sorted(n for n, _ in shape(otel.tree(attributes=False)))
    assert names == ["after", "chat gpt-4o-mini", "chat gpt-4o-mini"]


@requires_async_root_activation
async def test_async_request_made_while_the_stream_is_read_nests_under_the_chat_span(
    otel: OTelHarness, instrument: Instrument
) -> None:
    llm = _llm(otel)
    instrument()
    before = otel_context.get_current()

    text = "".join([r.delta or "" async for r in await llm.astream_chat(MESSAGES)])

    assert text
    assert shape(otel.tree(attributes=False)) == NESTED
    assert otel_context.get_current() is before

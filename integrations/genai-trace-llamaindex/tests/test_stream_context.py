"""A streamed chat is current while its stream is read, and only then.

LlamaIndex's OpenAI (and most) clients make the HTTP call when the returned generator is first
read, after ``stream_chat`` returned. Spans opened there (httpx, openai or other provider
instrumentations) must nest under our chat span, and provider instrumentations must see its
suppression; once the stream is read to the end, closed or collected, the caller's context is
exactly what it was before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Generator, Sequence
from typing import Any

import httpx
import pytest
from inline_snapshot import snapshot
from li_lifecycle import Lifecycle
from li_openai_wire import WORDS, answer, openai_clients
from li_support import Instrument, shape
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.llms.openai import OpenAI
from opentelemetry import context as otel_context
from opentelemetry import trace

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
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


def _gated_openai() -> tuple[OpenAI, threading.Event]:
    """The real OpenAI client whose requests wait for the returned event: a stream's request is
    still in flight, its chat span open, until the test lets it through."""
    gate = threading.Event()

    def serve(request: httpx.Request) -> httpx.Response:
        assert gate.wait(10)
        return answer(request)

    return openai_clients(serve)[0], gate


# llama-index-core's chat memory opens an aiosqlite connection it never closes (its own warning)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_simple_chat_engines_stream_read_to_its_end_leaves_the_callers_context_as_it_was(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    """``SimpleChatEngine.stream_chat`` starts the model's stream in the caller's thread (its
    chat span current there) and reads it in its history thread, where the span ends: once the
    engine returns, the caller's context is as it was, and the app's next span is a root."""
    llm, gate = _gated_openai()
    instrument()
    engine = SimpleChatEngine.from_defaults(llm=llm)
    before = otel_context.get_current()

    response = engine.stream_chat("Capital of France?")
    assert otel_context.get_current() is before
    gate.set()
    assert "".join(response.response_gen) == "".join(WORDS)  # joins the history thread
    assert otel_context.get_current() is before
    with otel.tracer_provider.get_tracer("app").start_as_current_span("app work"):
        pass

    lifecycle.check()
    spans = otel.snapshot_dicts()
    # how many clock reads the two threads make before the first chunk varies: present only
    assert spans[1]["attributes"].pop(s.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK) > 0
    assert spans == snapshot(
        [
            {
                "name": "SimpleChatEngine.stream_chat",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "llama_index",
                    "genai_trace.run.name": "SimpleChatEngine.stream_chat",
                    "genai_trace.run.type": "chat_engine",
                    "genai_trace.stream.deferred": True,
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-abc123",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 3.6e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 4.35e-06,
                    "genai_trace.framework": "llama_index",
                    "genai_trace.usage.estimated.input_tokens": 5,
                    "genai_trace.usage.estimated.output_tokens": 6,
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "app work",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_simple_chat_engine_stream_started_while_another_is_unread_is_its_own_trace(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    """Two sessions each start a stream before either is read: the first one's request is still
    in flight (its chat span open, in its history thread) when the second session starts."""
    llm, gate = _gated_openai()
    instrument()
    first = SimpleChatEngine.from_defaults(llm=llm).stream_chat("A?")
    second = SimpleChatEngine.from_defaults(llm=llm).stream_chat("B?")
    gate.set()

    assert "".join(first.response_gen) == "".join(second.response_gen) == "".join(WORDS)
    lifecycle.check()
    turn = ["SimpleChatEngine.stream_chat", [["chat gpt-4o-mini", []]]]
    assert shape(otel.tree(attributes=False)) == [turn, turn]

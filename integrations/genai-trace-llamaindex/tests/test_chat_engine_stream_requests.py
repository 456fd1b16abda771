"""Which span is current when a chat engine's streamed answer makes its HTTP request.

``SimpleChatEngine.stream_chat``/``astream_chat`` start the model's stream inside the engine's
span (our chat span starts there) and hand it to a history thread or task that makes the request
when it first reads it, after the engine returned. The chat span must be current at that request,
with its provider suppression: else a provider instrumentation (util-genai ``genai-openai``,
OpenLLMetry's ``openai``) emits a second chat span (issue h10, item 1). The other engines start
their model call lazily, where the stream is read: the same promise, checked the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from li_openai_wire import WORDS, answer, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from opentelemetry import trace

from genai_trace_core.testing import OTelHarness, ProviderInstrumentation

# llama-index-core's chat memory opens an aiosqlite connection it never closes (its own warning)
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

ENGINES = {
    "simple": "SimpleChatEngine.stream_chat",
    "context": "ContextChatEngine.stream_chat",
    "condense_plus_context": "CondensePlusContextChatEngine.stream_chat",
}
_MODEL_OPERATIONS = ("chat", "text_completion")


class _Seen:
    """Serves the OpenAI wire and notes the span current at each chat request."""

    def __init__(self) -> None:
        self.at_chat: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            self.at_chat.append(trace.get_current_span().get_span_context().span_id)
        return answer(request)


def _engine(otel: OTelHarness, instrument: Instrument, mode: str) -> tuple[Any, _Seen]:
    seen = _Seen()
    llm, embed = openai_clients(seen)
    LISettings.llm = llm
    LISettings.embed_model = embed
    index = VectorStoreIndex.from_documents([Document(text="Paris is the capital of France.")])
    index.set_index_id("capitals")
    otel.clear()  # indexing ran before our instrumentation: the provider traced it alone
    instrument()
    seen.at_chat.clear()
    return index.as_chat_engine(chat_mode=mode, similarity_top_k=1), seen


def _check(
    otel: OTelHarness, provider: ProviderInstrumentation, seen: _Seen, mode: str, n: int
) -> None:
    # one trace per request, under the engine's span, and not one provider span
    assert [name for name, _ in shape(otel.tree(attributes=False))] == [ENGINES[mode]] * n
    assert [s.name for s in otel.spans_of_scope(provider.scope)] == []
    # each chat request was made with one of our model spans current (not the engine's)
    models = [s for s in otel.spans() if s.name.split()[0] in _MODEL_OPERATIONS]
    assert sorted(seen.at_chat) == sorted(s.context.span_id for s in models)
    assert len(models) >= n
    if mode == "simple":
        assert (
            shape(otel.tree(attributes=False)) == [[ENGINES[mode], [["chat gpt-4o-mini", []]]]] * n
        )


@pytest.mark.parametrize("mode", list(ENGINES))
def test_a_streamed_chat_requests_under_our_chat_span(
    otel: OTelHarness,
    instrument: Instrument,
    provider_instrumentation: ProviderInstrumentation,
    mode: str,
) -> None:
    """Five in a row: the history thread reads the stream before or after the engine's span
    ends, whichever wins (it was our chat span only when the thread won: mostly the first)."""
    engine, seen = _engine(otel, instrument, mode)
    for _ in range(5):
        assert "".join(engine.stream_chat("Capital of France?").response_gen) == "".join(WORDS)
    _check(otel, provider_instrumentation, seen, mode, 5)


@pytest.mark.parametrize("mode", list(ENGINES))
async def test_an_async_streamed_chat_requests_under_our_chat_span(
    otel: OTelHarness,
    instrument: Instrument,
    provider_instrumentation: ProviderInstrumentation,
    mode: str,
) -> None:
    engine, seen = _engine(otel, instrument, mode)
    for _ in range(2):
        response = await engine.astream_chat("Capital of France?")
        assert "".join([t async for t in response.async_response_gen()]) == "".join(WORDS)
        await asyncio.sleep(0)  # the history task ends the stream
    _check(otel, provider_instrumentation, seen, mode, 2)

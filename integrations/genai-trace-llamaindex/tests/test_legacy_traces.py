"""The legacy callback handler: one request, one trace (issue h10, item 2).

LlamaIndex wraps a request in ``start_trace``/``end_trace`` and reports its top-level events with
the parent ``"root"``: a chat engine's retrieval and synthesis came out as two traces. A trace
whose top-level event stands for the whole request (a query, a model's own call) is unchanged;
any other gets a span of its own, named like the dispatcher path's engine span.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
from li_support import DOCS, shape
from llama_index.core import Settings as LISettings
from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage

from genai_trace_core import Settings, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import OpenTelemetryCallbackHandler
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

# llama-index-core's chat memory opens an aiosqlite connection it never closes (its own warning)
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

_LI = tuple(int(x) for x in version("llama-index-core").split(".")[:2])
CHAT = ["chat gpt-4o-mini", []]
RETRIEVAL = ["retrieval", [["embeddings text-embedding-3-small", []]]]


@pytest.fixture
def handler(otel: OTelHarness) -> Iterator[OpenTelemetryCallbackHandler]:
    h = OpenTelemetryCallbackHandler(tracer_provider=otel.tracer_provider, settings=Settings())
    LISettings.callback_manager = CallbackManager([h])
    yield h
    assert h.telemetry.open_count() == 0


def _index(otel: OTelHarness) -> VectorStoreIndex:
    idx = VectorStoreIndex.from_documents(DOCS)
    otel.clear()
    return idx


def _traces(otel: OTelHarness) -> int:
    return len({s.context.trace_id for s in otel.spans()})


def test_a_context_chat_is_one_trace_under_the_engines_span(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    engine = _index(otel).as_chat_engine(chat_mode="context", similarity_top_k=1)
    assert str(engine.chat("Capital of France?"))

    assert _traces(otel) == 1
    # llama-index-core 0.12 calls the model directly, 0.13+ through a synthesizer
    answer = ["synthesize", [CHAT]]
    assert shape(otel.tree(attributes=False)) == [["ContextChatEngine.chat", [RETRIEVAL, answer]]]
    assert all(s.status.is_ok for s in otel.spans())


def test_a_chat_that_first_condenses_with_the_model_is_one_trace(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """The second turn condenses the question first: a top-level model call, then retrieval."""
    engine = _index(otel).as_chat_engine(chat_mode="condense_plus_context", similarity_top_k=1)
    engine.chat("Capital of France?")
    otel.clear()
    engine.chat("And of Germany?")

    assert _traces(otel) == 1
    [[root, children]] = shape(otel.tree(attributes=False))
    assert root == "CondensePlusContextChatEngine.chat"
    condense, *rest = [name for name, _ in children]
    assert condense in ("text_completion gpt-4o-mini", "chat gpt-4o-mini")  # as predict() calls
    assert rest == ["retrieval", "synthesize"]


def test_a_streamed_simple_chat_is_one_trace_its_model_span_ends_with_the_stream(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """The engine's span ends when ``stream_chat`` returns; the model call it started ends when
    its history thread has read the stream: not abandoned with the engine's span."""
    engine = _index(otel).as_chat_engine(chat_mode="simple")
    assert "".join(engine.stream_chat("Capital of France?").response_gen)

    assert shape(otel.tree(attributes=False)) == [["SimpleChatEngine.stream_chat", [CHAT]]]
    chat = next(s for s in otel.span_dicts() if s["name"] == "chat gpt-4o-mini")
    assert chat["status"] == "UNSET"
    assert chat["attributes"][semconv.GEN_AI_REQUEST_STREAM] is True


async def test_an_async_streamed_context_chat_is_one_trace(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """The model call starts when the answer is read, after the engine's span ended."""
    engine = _index(otel).as_chat_engine(chat_mode="context", similarity_top_k=1)
    response = await engine.astream_chat("Capital of France?")
    assert "".join([t async for t in response.async_response_gen()])
    await asyncio.sleep(0)

    assert _traces(otel) == 1
    [[root, children]] = shape(otel.tree(attributes=False))
    assert root == "ContextChatEngine.stream_chat"
    names = sorted(name for name, _ in children)
    # 0.13+ reports the lazily started model call at the top; 0.12 inside ``synthesize``
    top = ["chat gpt-4o-mini"] if _LI >= (0, 13) else []
    assert names == [*top, "retrieval", "synthesize"]
    assert "chat gpt-4o-mini" in {s["name"] for s in otel.span_dicts()}


def test_an_index_build_of_several_embedding_batches_is_one_trace(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    LISettings.embed_model = DeterministicEmbedding(embed_batch_size=1)
    VectorStoreIndex.from_documents(DOCS)

    emb = ["embeddings text-embedding-3-small", []]
    assert shape(otel.tree(attributes=False)) == [["index_construction", [emb, emb, emb]]]


def test_a_query_and_a_direct_model_call_get_no_extra_span(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    _index(otel).as_query_engine(similarity_top_k=1).query("Capital of France?")
    DeterministicLLM().chat([ChatMessage(role="user", content="hi")])

    tree: list[Any] = shape(otel.tree(attributes=False))
    assert tree == [["query", [RETRIEVAL, ["synthesize", [CHAT]]]], CHAT]

"""Async calls whose task is cancelled (``task.cancel()``, ``asyncio.wait_for``,
``asyncio.timeout``) or whose stream is dropped: every span that started ends, the registry is
empty, the caller's OTel context is as before (the next span is a root), nothing of the
question is exported, OpenTelemetry logs no warning. The real OpenAI clients over an
``httpx.MockTransport`` that answers after the caller gave up.

On the legacy callback path ``aget_text_embedding_batch`` reports its chunks' starts, then
awaits them with no ``try``: a cancelled or failed batch reports no end for them (until
2026-12-06 their spans stayed open until the registry's TTL). They end with the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from li_lifecycle import Lifecycle
from li_openai_wire import API_KEY, answer
from li_support import DOCS, Instrument, shape
from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from genai_trace_core import Settings
from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import OpenTelemetryCallbackHandler

QUESTION = "Which parcel left the warehouse at five?"
EMBEDDINGS = "embeddings text-embedding-3-small"


async def _slow(request: httpx.Request) -> httpx.Response:
    if b"bad" in request.content:
        return httpx.Response(500, json={"error": {"message": "boom"}})
    await asyncio.sleep(0.3 if QUESTION.encode() in request.content else 0)
    return answer(request)


def _clients(**embedding: Any) -> tuple[OpenAI, OpenAIEmbedding]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_slow))
    sync = httpx.Client(transport=httpx.MockTransport(answer))
    llm = OpenAI(
        model="gpt-4o-mini",
        api_key=API_KEY,
        http_client=sync,
        async_http_client=client,
        max_retries=0,
    )
    embed = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_key=API_KEY,
        http_client=sync,
        async_http_client=client,
        max_retries=0,
        **embedding,
    )
    return llm, embed


@pytest.fixture
def legacy(otel: OTelHarness) -> Iterator[OpenTelemetryCallbackHandler]:
    handler = OpenTelemetryCallbackHandler(
        otel.tracer_provider, otel.meter_provider, otel.logger_provider, settings=Settings()
    )
    yield handler
    handler.shutdown()


def _ended_cleanly(otel: OTelHarness, telemetry: Any, lifecycle: Lifecycle) -> None:
    assert telemetry.open_count() == 0
    assert QUESTION.encode() not in encode_spans(otel.spans()).SerializeToString()
    with trace.get_tracer("app", tracer_provider=otel.tracer_provider).start_as_current_span(
        "next"
    ) as span:
        assert span.parent is None  # type: ignore[attr-defined]
    lifecycle.check()


async def _cancel(call: Callable[[], Awaitable[Any]]) -> None:
    task = asyncio.create_task(call())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _wait_for(call: Callable[[], Awaitable[Any]]) -> None:
    async def request() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(call(), 0.1)

    await asyncio.create_task(request())


def _batch(embed: OpenAIEmbedding) -> Callable[[], Awaitable[Any]]:
    return lambda: embed.aget_text_embedding_batch([f"{QUESTION} {i}" for i in range(3)])


@pytest.mark.parametrize("stop", [_cancel, _wait_for])
async def test_legacy_cancelled_embedding_batch_ends_its_chunks(
    otel: OTelHarness,
    legacy: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    stop: Callable[..., Awaitable[None]],
) -> None:
    _, embed = _clients(embed_batch_size=1, callback_manager=CallbackManager([legacy]))
    await stop(_batch(embed))
    await asyncio.sleep(0)  # the task's done callbacks run on the loop's next turn

    # Cancelled, not failed: as LlamaIndex's dispatcher path reports the same batch. Python
    # 3.12+'s wait_for runs the batch in the caller's own task, which catches the timeout and
    # finishes later: the chunks then end with that task as abandoned.
    carried_on = stop is _wait_for and sys.version_info >= (3, 12)
    status, attributes = ("ERROR", {s.ERROR_TYPE: "abandoned"}) if carried_on else ("UNSET", {})
    tree = otel.tree(attributes=(s.ERROR_TYPE,))
    assert [(t["name"], t["status"], t["attributes"], t["children"]) for t in tree] == [
        (EMBEDDINGS, status, attributes, [])
    ] * 3
    _ended_cleanly(otel, legacy.telemetry, lifecycle)


async def test_legacy_failed_embedding_batch_ends_with_the_task_that_carried_on(
    otel: OTelHarness, legacy: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    _, embed = _clients(embed_batch_size=1, callback_manager=CallbackManager([legacy]))

    async def request() -> str:
        with contextlib.suppress(Exception):  # the second chunk's request fails
            await embed.aget_text_embedding_batch(["good", "bad"])
        assert legacy.telemetry.open_count() == 2  # no end reported: the task still runs
        return "carried on"

    assert await asyncio.create_task(request()) == "carried on"
    await asyncio.sleep(0)
    statuses = [
        (t["name"], t["status"], t["attributes"]) for t in otel.tree(attributes=(s.ERROR_TYPE,))
    ]
    assert statuses == [(EMBEDDINGS, "ERROR", {s.ERROR_TYPE: "abandoned"})] * 2
    _ended_cleanly(otel, legacy.telemetry, lifecycle)


async def test_legacy_embedding_batch_that_ends_is_unchanged_by_its_task_ending(
    otel: OTelHarness, legacy: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    _, embed = _clients(embed_batch_size=1, callback_manager=CallbackManager([legacy]))

    async def request() -> int:
        return len(await embed.aget_text_embedding_batch(["a", "b"]))

    assert await asyncio.create_task(request()) == 2
    await asyncio.sleep(0)
    tree = otel.tree(attributes=(s.ERROR_TYPE,))
    assert [(t["name"], t["status"], t["attributes"]) for t in tree] == [
        (EMBEDDINGS, "UNSET", {})
    ] * 2
    _ended_cleanly(otel, legacy.telemetry, lifecycle)


def _calls(llm: OpenAI, embed: OpenAIEmbedding) -> dict[str, Callable[[], Awaitable[Any]]]:
    index = VectorStoreIndex.from_documents(DOCS, embed_model=embed)
    index.set_index_id("capitals")
    message = [ChatMessage(role="user", content=QUESTION)]
    return {
        "achat": lambda: llm.achat(message),
        "acomplete": lambda: llm.acomplete(QUESTION),
        "aget_text_embedding": lambda: embed.aget_text_embedding(QUESTION),
        "aretrieve": lambda: index.as_retriever(similarity_top_k=1).aretrieve(QUESTION),
        "aquery": lambda: index.as_query_engine(llm=llm, similarity_top_k=1).aquery(QUESTION),
        "chat_engine.achat": lambda: index.as_chat_engine(
            chat_mode="context", llm=llm, similarity_top_k=1
        ).achat(QUESTION),
    }


RETRIEVAL = ["retrieval capitals", [[EMBEDDINGS, []]]]
CANCELLED_SHAPES = {
    "achat": ["chat gpt-4o-mini", []],
    "acomplete": ["text_completion gpt-4o-mini", []],
    "aget_text_embedding": [EMBEDDINGS, []],
    "aretrieve": RETRIEVAL,
    "aquery": ["RetrieverQueryEngine.query", [RETRIEVAL]],
    "chat_engine.achat": ["ContextChatEngine.chat", [RETRIEVAL]],
}


async def _timeout(call: Callable[[], Awaitable[Any]]) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.1):
            await call()


STOPS = [_cancel, _wait_for]
if sys.version_info >= (3, 11):
    STOPS.append(_timeout)


@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("name", sorted(CANCELLED_SHAPES))
async def test_cancelled_dispatcher_calls_end_every_span_without_error(
    otel: OTelHarness,
    instrument: Instrument,
    lifecycle: Lifecycle,
    name: str,
    stop: Callable[..., Awaitable[None]],
) -> None:
    call = _calls(*_clients())[name]
    telemetry = instrument()._handlers[0].bridge.telemetry  # type: ignore[index]
    await stop(call)
    await asyncio.sleep(0)

    tree = otel.tree(attributes=(s.ERROR_TYPE,))
    assert shape(tree) == [CANCELLED_SHAPES[name]]
    assert {sp.status.status_code.name for sp in otel.spans()} == {"UNSET"}
    assert all(s.ERROR_TYPE not in (sp.attributes or {}) for sp in otel.spans())
    _ended_cleanly(otel, telemetry, lifecycle)


async def test_abandoned_async_chat_streams_end_without_error(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    llm, _ = _clients()
    telemetry = instrument()._handlers[0].bridge.telemetry  # type: ignore[index]
    message = [ChatMessage(role="user", content=QUESTION)]
    dropped = await llm.astream_chat(message)
    async for _ in dropped:
        break
    del dropped
    closed = await llm.astream_chat(message)
    async for _ in closed:
        break
    await closed.aclose()

    async def read() -> None:
        async for _ in await llm.astream_chat(message):
            await asyncio.sleep(10)

    await _cancel(read)
    await asyncio.sleep(0.05)  # the dropped generator is closed by the loop

    assert shape(otel.tree(attributes=False)) == [["chat gpt-4o-mini", []]] * 3
    assert all(s.ERROR_TYPE not in (sp.attributes or {}) for sp in otel.spans())
    _ended_cleanly(otel, telemetry, lifecycle)


async def test_query_stream_read_in_a_cancelled_task_ends_every_span(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    # Python 3.10's cancelled task keeps its CancelledError, whose traceback holds the reader's
    # frame and so the stream: core held that task (the stream's chat span was made current in
    # it), so the stream was never collected and its chat span stayed open until the TTL.
    llm, embed = _clients()
    telemetry = instrument()._handlers[0].bridge.telemetry  # type: ignore[index]
    index = VectorStoreIndex.from_documents(DOCS, embed_model=embed)
    index.set_index_id("capitals")
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
    first_token = asyncio.Event()

    async def read() -> None:
        response = await engine.aquery(QUESTION)
        async for _ in response.async_response_gen():  # type: ignore[union-attr]
            first_token.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(read())
    await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    del task
    await asyncio.sleep(0.05)  # the loop closes the generators the reader dropped

    synthesis = ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]]
    assert shape(otel.tree(attributes=False)) == [
        [EMBEDDINGS, []],  # building the index
        ["RetrieverQueryEngine.query", [RETRIEVAL, synthesis]],
    ]
    assert all(s.ERROR_TYPE not in (sp.attributes or {}) for sp in otel.spans())
    _ended_cleanly(otel, telemetry, lifecycle)

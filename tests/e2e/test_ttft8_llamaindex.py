"""Time to first chunk, chunk gaps, duration, tokens and cost of every LlamaIndex model call, in
every way users stream (the model's own streams, streaming query engines, chat engines, a
``FunctionAgent`` read through ``stream_events()``, the real OpenAI client over server-sent
events), on spans and metrics alike; the checks are ``test_ttft8_langchain._measured``'s."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

import httpx
import pytest
from li_openai_wire import API_KEY, answer
from llama_index.core import Document, VectorStoreIndex
from llama_index.core import Settings as LISettings
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.llm import (
    LLMChatInProgressEvent,
    LLMCompletionInProgressEvent,
)
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI
from packaging.version import Version
from test_ttft8_langchain import _measured

from genai_trace_core import Settings
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import LlamaIndexInstrumentor
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

pytestmark = pytest.mark.skipif(
    Version(metadata.version("llama-index-core")) < Version("0.13"),
    reason=(
        "written against llama-index-core 0.13+; 0.12 reports the chunks of chat-engine and "
        "streaming-query streams differently (other gap counts): not verified there"
    ),
)

DOCS = [Document(text="Paris is the capital of France."), Document(text="Rome is in Italy.")]
MESSAGES = [ChatMessage(role="user", content="what is the capital")]


class ChunkCount(BaseEventHandler):
    """What LlamaIndex reports: in-progress events per model call (its dispatcher span)."""

    per_run: Counter[str]

    @classmethod
    def class_name(cls) -> str:
        return "ChunkCount"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, (LLMChatInProgressEvent, LLMCompletionInProgressEvent)):
            self.per_run[str(event.span_id)] += 1


@pytest.fixture
def traced(otel: OTelHarness) -> Iterator[tuple[OTelHarness, ChunkCount]]:
    LISettings.llm = DeterministicLLM(cached_tokens=2)
    LISettings.embed_model = DeterministicEmbedding()
    counter = ChunkCount(per_run=Counter())
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(counter)
    try:
        with otel.instrumented(LlamaIndexInstrumentor(), settings=Settings(), clock=otel.clock):
            yield otel, counter
    finally:
        dispatcher.event_handlers.remove(counter)
        LISettings.llm = None  # type: ignore[assignment]
        LISettings.embed_model = None  # type: ignore[assignment]


def _openai() -> OpenAI:
    transport = httpx.MockTransport(answer)
    return OpenAI(
        model="gpt-4o-mini",
        api_key=API_KEY,
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        additional_kwargs={"stream_options": {"include_usage": True}},
    )


# built before instrumenting (its embeddings are no part of the calls measured)
INDEX = VectorStoreIndex.from_documents(DOCS, embed_model=DeterministicEmbedding())


def _index() -> VectorStoreIndex:
    return INDEX


async def _astream_chat() -> list[str]:
    return [r.delta or "" async for r in await LISettings.llm.astream_chat(MESSAGES)]


async def _aquery() -> list[str]:
    response = await _index().as_query_engine(streaming=True).aquery("capital of France?")
    return [t async for t in response.async_response_gen()]


async def _engine_astream(mode: str) -> list[str]:
    engine = (
        SimpleChatEngine.from_defaults()
        if mode == "simple"
        else _index().as_chat_engine(chat_mode=mode)
    )
    response = await engine.astream_chat("capital of France?")
    return [t async for t in response.async_response_gen()]


def _engine_stream(mode: str) -> list[str]:
    engine = (
        SimpleChatEngine.from_defaults()
        if mode == "simple"
        else _index().as_chat_engine(chat_mode=mode)
    )
    return list(engine.stream_chat("capital of France?").response_gen)


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def _agent() -> list[str]:
    llm = DeterministicLLM(tool_calls=[("add", {"a": 1, "b": 2})])
    handler = FunctionAgent(tools=[FunctionTool.from_defaults(add)], llm=llm).run("1+2?")
    names = [type(e).__name__ async for e in handler.stream_events()]
    await handler
    return names


def _one(tokens: list[int], gaps: int, ttfc: float | None = 0.001) -> dict[str, Any]:
    return {
        "calls": 1,
        "stream": [True],
        "ttfc": [ttfc],
        "gaps": gaps,
        "tokens": tokens,
        "traces": 1,
    }


# DeterministicLLM streams word by word: "Answer: <words>" (a chunk per word); the real client
# one chunk per server-sent event with content (the role chunk included) and the usage one.
PROGRAMS: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
    "llm.stream_chat": (lambda: list(LISettings.llm.stream_chat(MESSAGES)), _one([7, 5, 2], 5)),
    "llm.astream_chat": (_astream_chat, _one([7, 5, 2], 5)),
    "llm.stream_complete": (
        lambda: list(LISettings.llm.stream_complete("capital?")),
        _one([4, 2, 2], 2),
    ),
    "llm.chat": (
        lambda: LISettings.llm.chat(MESSAGES),
        {"calls": 1, "stream": [False], "ttfc": [], "gaps": 0, "tokens": [7, 5, 2], "traces": 1},
    ),
    "query engine streaming": (
        lambda: list(
            _index().as_query_engine(streaming=True).query("capital of France?").response_gen
        ),
        _one([96, 7, 2], 7),
    ),
    "query engine streaming aquery": (_aquery, _one([96, 7, 2], 7)),
    "simple stream_chat": (lambda: _engine_stream("simple"), _one([6, 4, 2], 4, None)),
    "simple astream_chat": (lambda: _engine_astream("simple"), _one([6, 4, 2], 4, None)),
    "context stream_chat": (lambda: _engine_stream("context"), _one([30, 4, 2], 4, None)),
    "context astream_chat": (lambda: _engine_astream("context"), _one([30, 4, 2], 4, None)),
    "condense_plus_context stream_chat": (
        lambda: _engine_stream("condense_plus_context"),
        _one([95, 4, 2], 4, None),
    ),
    "condense_plus_context astream_chat": (
        lambda: _engine_astream("condense_plus_context"),
        _one([95, 4, 2], 4, None),
    ),
    "FunctionAgent stream_events": (
        _agent,
        {
            "calls": 2,
            "stream": [True, True],
            "ttfc": [0.001, 0.001],
            "gaps": 4,
            "tokens": [15, 7, 0],
            "traces": 1,
        },
    ),
    "OpenAI.stream_chat": (lambda: list(_openai().stream_chat(MESSAGES)), _one([42, 5, 0], 7)),
    "OpenAI.chat": (
        lambda: _openai().chat(MESSAGES),
        {"calls": 1, "stream": [False], "ttfc": [], "gaps": 0, "tokens": [42, 5, 10], "traces": 1},
    ),
}


# LlamaIndex's agent workflows read pydantic's deprecated ``__fields__`` (not our code).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_time_to_first_chunk_tokens_and_cost_on_spans_and_metrics(
    traced: tuple[OTelHarness, ChunkCount], name: str
) -> None:
    otel, chunks = traced
    program, expected = PROGRAMS[name]
    out = program()
    if asyncio.iscoroutine(out):
        out = asyncio.run(out)
    assert out
    gc.collect()  # a chat engine's stream ends when its history thread lets it go
    measured = _measured(otel, chunks)
    if expected["ttfc"] == [None]:  # a chat engine's stream: its history thread's reads interleave
        assert 0 < measured["ttfc"][0] < measured["calls"] * 0.01
        expected = {**expected, "ttfc": measured["ttfc"]}
    assert measured == expected

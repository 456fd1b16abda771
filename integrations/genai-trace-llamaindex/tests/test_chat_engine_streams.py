"""Chat engines' streamed answers (``stream_chat``): each request is its own trace, every span
ends, and the next request does not nest inside the last one (issue 13, item 2). In
llama-index-core 0.14 ``StreamingAgentChatResponse.response_gen`` is a read-only property: the
LLM stream is re-parented through ``chat_stream`` instead, and a response whose stream cannot be
replaced still ends its span."""

from __future__ import annotations

import asyncio
import gc
from importlib.metadata import version
from typing import Any

import pytest
from inline_snapshot import snapshot
from li_lifecycle import Lifecycle
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import ChatMessage, MockLLM

from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex.testing import DeterministicLLM


def _ask(engine: Any, text: str) -> str:
    response = engine.stream_chat(text)
    return "".join(response.response_gen)


def _traces(otel: OTelHarness) -> dict[int, list[str]]:
    traces: dict[int, list[str]] = {}
    for span in otel.spans():
        # the LLM span is "chat unknown" in 0.14 and "chat" in 0.12 (no model name): its operation
        traces.setdefault(span.context.trace_id, []).append(span.name.split()[0])
    return traces


_LI = tuple(int(x) for x in version("llama-index-core").split(".")[:2])

# llama-index-core's chat memory opens an aiosqlite connection it never closes: its own
# ResourceWarning, ignored in this module (collected in the test that made it, where possible).
pytestmark = [
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def test_four_streamed_chats_are_four_complete_traces(otel: OTelHarness, instrument: Any) -> None:
    instrument()
    engine = SimpleChatEngine.from_defaults(llm=MockLLM(max_tokens=8))
    answers = [_ask(engine, f"hello {i}") for i in range(4)]
    assert all(answers)
    traces = _traces(otel)
    assert len(traces) == 4
    for names in traces.values():
        assert sorted(names) == ["SimpleChatEngine.stream_chat", "chat"]
    roots = [s for s in otel.spans() if s.parent is None]
    assert sorted(s.name for s in roots) == ["SimpleChatEngine.stream_chat"] * 4
    del engine
    gc.collect()


async def test_a_custom_llms_async_stream_is_one_span_per_call(
    otel: OTelHarness, instrument: Any, lifecycle: Lifecycle
) -> None:
    """``CustomLLM.astream_chat``/``astream_complete`` return a generator that calls the sync
    ``stream_chat``/``stream_complete`` when first read, outside the outer call's dispatcher span:
    still one model call, so one span (it was two, in two traces)."""
    instrument()
    llm = MockLLM(max_tokens=3)
    for _ in range(2):
        stream = await llm.astream_chat([ChatMessage(role="user", content="hi there")])
        assert [r.delta async for r in stream]
        completion = await llm.astream_complete("hi there")
        assert [r.delta async for r in completion]
    lifecycle.check()
    # named after the operation only: 0.14 adds "unknown" (MockLLM has no model name), 0.12 not
    assert [s.name.split()[0] for s in otel.spans()] == ["chat", "text_completion"] * 2
    assert all(s.parent is None for s in otel.spans())


@pytest.mark.skipif(
    _LI < (0, 13), reason="llama-index-core 0.12 names the LLM span and its attributes otherwise"
)
async def test_an_async_streamed_chat_is_one_whole_trace(
    otel: OTelHarness, instrument: Any, lifecycle: Lifecycle
) -> None:
    instrument()
    engine = SimpleChatEngine.from_defaults(llm=MockLLM(max_tokens=3))
    response = await engine.astream_chat("hello there")
    assert "".join([t async for t in response.async_response_gen()])
    await asyncio.sleep(0)
    lifecycle.check()
    assert otel.snapshot_dicts() == snapshot(
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
                "name": "chat unknown",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "unknown",
                    "gen_ai.request.max_tokens": 3,
                    "gen_ai.request.model": "unknown",
                    "gen_ai.request.stream": True,
                    "gen_ai.response.time_to_first_chunk": 0.003,
                    "genai_trace.usage.estimated.input_tokens": 3,
                    "genai_trace.usage.estimated.output_tokens": 3,
                    "genai_trace.framework": "llama_index",
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                },
            },
        ]
    )


def test_a_model_call_while_a_stream_is_unfinished_is_its_own_trace(
    otel: OTelHarness, instrument: Any, lifecycle: Lifecycle
) -> None:
    """A stream's span is current until it is read to its end; a model call the app makes in
    the meantime (another stream, a chat) is a root of its own, not a child of that stream."""
    instrument()
    llm = DeterministicLLM()
    messages = [ChatMessage(role="user", content="hi")]
    first, second = llm.stream_chat(messages), llm.stream_chat(messages)
    assert list(first) and list(second)
    third = llm.stream_chat(messages)
    next(third)
    assert llm.chat(messages).message.content
    assert list(third)
    lifecycle.check()
    assert len(otel.spans()) == 4
    assert all(s.parent is None for s in otel.spans())

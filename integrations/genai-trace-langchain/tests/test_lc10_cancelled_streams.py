"""A streamed request whose client went away is not an error; a cancelled call still is.

A server relaying ``chain.astream(...)`` (Starlette's ``StreamingResponse`` under uvicorn) stops
the response of a client that disconnected by cancelling the task reading the stream: LangChain
then reports ``CancelledError`` on the runs still open. Like a stream the app closes early
(``aclose()``), every span ends without error, the model call with what it had streamed. A
cancelled ``ainvoke`` (an ``asyncio.wait_for`` timeout) stays ERROR ``cancelled``. The real
``ChatOpenAI`` over an ``httpx.MockTransport`` streaming server-sent events one at a time.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypedDict

import httpx
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from lifecycle_checks import Lifecycle
from openai_clients import API_KEY, CHAT_MODEL, RESPONSE_MODEL
from openai_wire import chat_completion, chat_stream, usage

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler

PIECES = ["Parcel", " 42", " left", " the", " warehouse", " at", " 5", " am", "."]
DELAY_S = 0.02  # between two server-sent events: the reader is cancelled mid-stream

CHAIN_TREE = [
    [
        "invoke_workflow qa",
        "INTERNAL",
        "UNSET",
        [
            ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
            ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ["StrOutputParser", "INTERNAL", "UNSET", []],
        ],
    ],
]
# What the model span of a stream stopped mid-way carries, as for an ``aclose()``: the time to the
# first chunk, and the input tokens estimated (the provider's usage chunk never came).
PARTIAL_MODEL = {
    semconv.GEN_AI_USAGE_INPUT_TOKENS: None,
    semconv.USAGE_SOURCE: "estimated",
    "estimated input tokens": True,
    "first chunk timed": True,
}


class _Slow(httpx.AsyncByteStream):
    def __init__(self, events: list[bytes]) -> None:
        self.events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self.events:
            await asyncio.sleep(DELAY_S)
            yield event


async def _serve(request: httpx.Request) -> httpx.Response:
    if not json.loads(request.content).get("stream"):  # ainvoke: answered after 0.3 s
        await asyncio.sleep(0.3)
        return chat_completion(
            response_id="chatcmpl-1", model=RESPONSE_MODEL, content="".join(PIECES),
            token_usage=usage(9, 8),
        )  # fmt: skip
    whole = chat_stream(
        response_id="chatcmpl-1", model=RESPONSE_MODEL, pieces=PIECES, token_usage=usage(9, 8)
    )
    events = [e + b"\n\n" for e in whole.content.split(b"\n\n") if e]
    headers = {"content-type": "text/event-stream"}
    return httpx.Response(200, headers=headers, stream=_Slow(events))


@pytest.fixture
async def model() -> AsyncIterator[Any]:
    from langchain_openai import ChatOpenAI

    async with httpx.AsyncClient(transport=httpx.MockTransport(_serve)) as client:
        yield ChatOpenAI(model=CHAT_MODEL, api_key=API_KEY, max_retries=0, http_async_client=client)


def _chain(model: Any) -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | model | StrOutputParser()).with_config(run_name="qa")


async def _settle(handler: OpenTelemetryCallbackHandler) -> None:
    for _ in range(50):  # inner async generators are closed by the loop's finalizer
        if handler.telemetry.open_count() == 0:
            return
        await asyncio.sleep(0.005)
        gc.collect()


async def _cut(read: Callable[[list[Any]], Awaitable[None]], pieces: int = 3) -> None:
    """Read in a task (a server's response), cancelled once ``pieces`` came (the client left)."""
    got: list[Any] = []
    task = asyncio.create_task(read(got))
    while len(got) < pieces:
        assert not task.done()
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _cancel_astream(chain: Any, config: RunnableConfig) -> None:
    async def read(got: list[Any]) -> None:
        async for piece in chain.astream({"q": "Which parcel left?"}, config=config):
            got.append(piece)

    await _cut(read)


async def _cancel_astream_events(chain: Any, config: RunnableConfig) -> None:
    async def read(got: list[Any]) -> None:
        events = chain.astream_events({"q": "Which parcel left?"}, config=config, version="v2")
        async for event in events:
            if event["event"] == "on_chat_model_stream":
                got.append(event)

    await _cut(read)


async def _close_astream_events(chain: Any, config: RunnableConfig) -> None:
    """``astream_events`` closed by the app: langchain-core cancels the task running the chain."""
    events = chain.astream_events({"q": "Which parcel left?"}, config=config, version="v2")
    seen = 0
    async for event in events:
        seen += event["event"] == "on_chat_model_stream"
        if seen == 3:
            break
    await events.aclose()


async def _aclose(chain: Any, config: RunnableConfig) -> None:
    """The reference: the app closes the stream (``GeneratorExit``), no error since 2026-12-06."""
    stream = chain.astream({"q": "Which parcel left?"}, config=config)
    for _ in range(3):
        await stream.__anext__()
    await stream.aclose()


def _model_data(otel: OTelHarness) -> dict[str, Any]:
    [span] = [s for s in otel.span_dicts() if s["name"] == "chat gpt-4o-mini"]
    attrs = span["attributes"]
    return {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS),
        semconv.USAGE_SOURCE: attrs.get(semconv.USAGE_SOURCE),
        "estimated input tokens": attrs.get(semconv.USAGE_ESTIMATED_INPUT_TOKENS, 0) > 0,
        "first chunk timed": attrs.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, 0) > 0,
    }


@pytest.mark.parametrize(
    "stop",
    [_cancel_astream, _cancel_astream_events, _close_astream_events, _aclose],
    ids=["astream-cancelled", "astream_events-cancelled", "astream_events-closed", "aclose"],
)
async def test_a_stream_whose_reader_is_cancelled_ends_every_span_without_error(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    model: Any,
    stop: Callable[[Any, RunnableConfig], Awaitable[None]],
) -> None:
    await stop(_chain(model), {"callbacks": [handler]})
    await _settle(handler)
    lifecycle.check()
    assert shape(otel.tree()) == CHAIN_TREE
    for span in otel.span_dicts():
        assert span["status"] == "UNSET", span["name"]
        assert semconv.ERROR_TYPE not in span["attributes"], span["name"]
    assert _model_data(otel) == PARTIAL_MODEL
    assert handler.telemetry.open_count() == 0
    assert len(handler._streams) == 0  # the streamed root is forgotten once it ended


async def test_a_cancelled_ainvoke_is_still_cancelled_while_a_stream_is_read(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, model: Any
) -> None:
    """A timeout is no client going away: the call and its root end ERROR ``cancelled``, while
    another request's stream, read meanwhile to its end, has no error."""
    chain = _chain(model)
    config: RunnableConfig = {"callbacks": [handler]}
    got: list[str] = []

    async def stream() -> None:
        async for piece in chain.astream({"q": "Which parcel left?"}, config=config):
            got.append(piece)

    async def request() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(chain.ainvoke({"q": "Which parcel left?"}, config), 0.05)

    streamed = asyncio.create_task(stream())
    while not got:
        await asyncio.sleep(0.005)
    await asyncio.create_task(request())
    await streamed
    await _settle(handler)
    assert "".join(got) == "".join(PIECES)
    cancelled = [
        "invoke_workflow qa",
        "INTERNAL",
        "ERROR",
        [
            ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
            ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
        ],
    ]
    assert shape(otel.tree()) == [*CHAIN_TREE, cancelled]
    attrs = [(s["name"], s["attributes"]) for s in otel.span_dicts()]
    assert sorted((n, a[semconv.ERROR_TYPE]) for n, a in attrs if semconv.ERROR_TYPE in a) == [
        ("chat gpt-4o-mini", "abandoned"),  # LangChain reports no end for it: its root ends it
        ("invoke_workflow qa", "cancelled"),
    ]
    assert handler.telemetry.open_count() == 0
    assert len(handler._streams) == 0
    lifecycle.check()


def _graph(model: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        x: str

    async def answer(state: State, config: RunnableConfig) -> dict[str, Any]:
        # the config passed on: Python 3.10 hands it to an async graph's nodes no other way
        return {"x": (await model.ainvoke(state["x"], config)).content}

    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(name="flow")


async def _cancel_when_calling(run: Awaitable[None], handler: OpenTelemetryCallbackHandler) -> None:
    """Run ``run`` in a task, cancelled once the model call started (root, node, model open)."""
    task = asyncio.ensure_future(run)
    while handler.telemetry.open_count() < 3:
        assert not task.done()
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_graph_stream_whose_reader_is_cancelled_ends_every_span_without_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, model: Any
) -> None:
    async def read() -> None:
        config: RunnableConfig = {"callbacks": [handler]}
        async for _ in _graph(model).astream({"x": "Which parcel left?"}, config):
            pass

    await _cancel_when_calling(read(), handler)
    await _settle(handler)
    lifecycle.check()
    assert shape(otel.tree()) == [
        [
            "invoke_workflow flow",
            "INTERNAL",
            "UNSET",
            [["answer", "INTERNAL", "UNSET", [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]]],
        ]
    ]
    assert all(semconv.ERROR_TYPE not in s["attributes"] for s in otel.span_dicts())
    assert len(handler._streams) == 0


async def test_a_cancelled_graph_ainvoke_is_still_cancelled(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, model: Any
) -> None:
    """A graph's ``ainvoke`` runs through its ``astream``: not a stream the user reads."""
    config: RunnableConfig = {"callbacks": [handler]}
    await _cancel_when_calling(_graph(model).ainvoke({"x": "Which parcel left?"}, config), handler)
    await _settle(handler)
    lifecycle.check()
    errors = {s["name"]: s["attributes"].get(semconv.ERROR_TYPE) for s in otel.span_dicts()}
    assert errors == {
        "invoke_workflow flow": "cancelled",
        "answer": "cancelled",
        "chat gpt-4o-mini": "abandoned",  # LangChain reports no end for it: its root ends it
    }
    assert len(handler._streams) == 0


async def test_a_node_cancelled_when_the_app_stops_reading_a_graph_stream_is_no_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    """``break`` after the fast node's update: LangGraph cancels the slow node still running."""
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict, total=False):
        fast: str
        slow: str

    async def fast(state: State) -> dict[str, Any]:
        return {"fast": "done"}

    async def slow(state: State) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"slow": "done"}

    builder = StateGraph(State)
    builder.add_node("fast", fast)
    builder.add_node("slow", slow)
    builder.add_edge(START, "fast")
    builder.add_edge(START, "slow")
    builder.add_edge("fast", END)
    builder.add_edge("slow", END)
    config: RunnableConfig = {"callbacks": [handler]}
    async for _ in builder.compile(name="flow").astream({}, config, stream_mode="updates"):
        break
    await _settle(handler)
    lifecycle.check()
    nodes = [["fast", "INTERNAL", "UNSET", []], ["slow", "INTERNAL", "UNSET", []]]
    assert shape(otel.tree(), unordered=("invoke_workflow",)) == [
        ["invoke_workflow flow", "INTERNAL", "UNSET", nodes]
    ]
    assert all(semconv.ERROR_TYPE not in s["attributes"] for s in otel.span_dicts())
    assert len(handler._streams) == 0

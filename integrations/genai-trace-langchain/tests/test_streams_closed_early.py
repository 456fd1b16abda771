"""A stream the app stops reading early is not an error, in any of the ways apps stop reading.

A chat UI's "stop generating" closes the stream (``break``, ``close()``, ``aclose()``,
``contextlib.aclosing``, or dropping the iterator). LangChain reports that as a normal end for a
sync chain (root first, its steps after), as ``GeneratorExit`` for an async chain, and LangGraph as
``GeneratorExit`` for a graph either way. Every span must end, none as an error (error-rate
panels and alerts count them), as LlamaIndex's closed streams already do.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from test_concurrency import CHAIN_TREE, _chain

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

GRAPH_TREE = [
    [
        "invoke_workflow flow",
        "INTERNAL",
        "UNSET",
        [["a", "INTERNAL", "UNSET", [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]]],
    ],
]
_ANSWER = "one two three four five six seven eight"


def _graph() -> Any:
    from langgraph.graph import END, START, StateGraph

    model = FakeChatOpenAI(responses=[_ANSWER] * 4)

    class State(TypedDict):
        x: str

    def a(state: State, config: RunnableConfig) -> dict[str, Any]:
        # the config passed on: Python 3.10 hands it to an async graph's nodes no other way
        return {"x": model.invoke(state["x"], config).content}

    def b(state: State) -> dict[str, Any]:
        return {"x": state["x"] + "!"}

    builder = StateGraph(State)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(name="flow")


def _no_errors(otel: OTelHarness) -> None:
    for span in otel.span_dicts():
        assert span["status"] == "UNSET", span["name"]
        assert semconv.ERROR_TYPE not in span["attributes"], span["name"]


def _close(stream: Iterator[Any]) -> None:
    next(stream)
    stream.close()  # type: ignore[attr-defined]


def _break(stream: Iterator[Any]) -> None:
    for _ in stream:
        break
    del stream
    gc.collect()


@pytest.mark.parametrize("stop", [_close, _break], ids=["close", "break"])
def test_a_sync_chain_stream_stopped_early_ends_every_span_without_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, stop: Callable[[Any], None]
) -> None:
    stop(_chain().stream({"q": "tell me"}, config={"callbacks": [handler]}))
    assert shape(otel.tree()) == CHAIN_TREE
    _no_errors(otel)
    assert handler.telemetry.open_count() == 0


async def _aclose(stream: Any) -> None:
    await stream.__anext__()
    await stream.aclose()


async def _abreak(stream: Any) -> None:
    async for _ in stream:
        break


async def _aclosing(stream: Any) -> None:
    async with contextlib.aclosing(stream) as chunks:
        async for _ in chunks:
            break


@pytest.mark.parametrize("stop", [_aclose, _abreak, _aclosing], ids=["aclose", "break", "aclosing"])
async def test_an_async_chain_stream_stopped_early_ends_every_span_without_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, stop: Callable[[Any], Any]
) -> None:
    await stop(_chain().astream({"q": "tell me"}, config={"callbacks": [handler]}))
    for _ in range(50):  # inner async generators are closed by the loop's finalizer
        if handler.telemetry.open_count() == 0:
            break
        await asyncio.sleep(0.002)
        gc.collect()
    assert shape(otel.tree()) == CHAIN_TREE
    _no_errors(otel)
    assert handler.telemetry.open_count() == 0


def test_a_graph_stream_stopped_early_ends_every_span_without_error(
    otel: OTelHarness, instrumented: Any
) -> None:
    for _ in _graph().stream({"x": "hi"}):
        break
    gc.collect()
    assert shape(otel.tree()) == GRAPH_TREE
    _no_errors(otel)


async def test_an_async_graph_stream_stopped_early_ends_every_span_without_error(
    otel: OTelHarness, instrumented: Any
) -> None:
    """Stopped between nodes. (A node still running when the app stops reading is cancelled by
    LangGraph; under a graph the app streams, its span then ends without error too:
    ``test_lc10_cancelled_streams.py``.)"""
    async for _ in _graph().astream({"x": "hi"}, stream_mode="updates"):
        break
    for _ in range(50):
        if len(otel.spans()) >= 3:
            break
        await asyncio.sleep(0.002)
        gc.collect()
    assert shape(otel.tree()) == GRAPH_TREE
    _no_errors(otel)


async def test_a_cancelled_chain_is_still_an_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """Stopping a stream is not cancelling a call: a cancelled run stays ``cancelled``."""
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = (prompt | FakeChatOpenAI(delay_s=5.0) | StrOutputParser()).with_config(run_name="qa")
    task = asyncio.ensure_future(chain.ainvoke({"q": "x"}, config={"callbacks": [handler]}))
    await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    root = next(s for s in otel.span_dicts() if s["name"] == "invoke_workflow qa")
    assert root["status"] == "ERROR"
    assert root["attributes"][semconv.ERROR_TYPE] == semconv.ERROR_TYPE_CANCELLED
    assert handler.telemetry.open_count() == 0

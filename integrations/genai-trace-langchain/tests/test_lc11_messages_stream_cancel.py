"""A chat model streamed inside a graph (or chain) the app stops reading ends with its root.

``graph.astream(..., stream_mode="messages")`` streams the node's chat model token by token. When
the app stops reading mid-answer (``break``, ``aclose()``, or the reading task cancelled as a
server does when its client goes away), LangGraph cancels the node and LangChain reports no end
for the model run (``agenerate`` awaits its ``gather`` and is cancelled there). The root's end must
end it, without error, with what it had streamed (time to first chunk, estimated input tokens),
and its metrics recorded once: not left open until the registry's TTL ends it ``abandoned``. The
real ``ChatOpenAI`` over an ``httpx.MockTransport`` (async), ``FakeChatOpenAI`` (sync).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypedDict

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig, RunnableLambda
from lifecycle_checks import Lifecycle
from openai_clients import API_KEY, CHAT_MODEL
from test_lc10_cancelled_streams import PARTIAL_MODEL, _cut, _model_data, _serve, _settle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

MODEL = ["chat gpt-4o-mini", "CLIENT", "UNSET", []]
GRAPH_TREE = [
    ["invoke_workflow flow", "INTERNAL", "UNSET", [["answer", "INTERNAL", "UNSET", [MODEL]]]]
]
QUESTION = "Which parcel left?"
# An abandoned call keeps its time to first chunk; no usage is estimated for a failed call.
ABANDONED_MODEL = {
    semconv.GEN_AI_USAGE_INPUT_TOKENS: None,
    semconv.USAGE_SOURCE: None,
    "estimated input tokens": False,
    "first chunk timed": True,
}


@pytest.fixture
async def model() -> AsyncIterator[Any]:
    from langchain_openai import ChatOpenAI

    async with httpx.AsyncClient(transport=httpx.MockTransport(_serve)) as client:
        yield ChatOpenAI(model=CHAT_MODEL, api_key=API_KEY, max_retries=0, http_async_client=client)


def _graph(node: Callable[..., Any]) -> Any:
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        x: str

    builder = StateGraph(State)
    builder.add_node("answer", node)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(name="flow")


def _invoking(model: Any) -> Any:
    async def answer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        # the config passed on: Python 3.10 hands it to an async graph's nodes no other way
        return {"x": (await model.ainvoke(state["x"], config)).content}

    return _graph(answer)


def _streaming(model: Any) -> Any:
    async def answer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        text = ""
        async for chunk in model.astream(state["x"], config):
            text += chunk.content
        return {"x": text}

    return _graph(answer)


def _messages(graph: Any, config: RunnableConfig, mode: Any = "messages") -> Any:
    return graph.astream({"x": QUESTION}, config, stream_mode=mode)


async def _break(graph: Any, config: RunnableConfig) -> None:
    seen = 0
    async for _ in _messages(graph, config):
        seen += 1
        if seen == 3:
            break


async def _break_modes(graph: Any, config: RunnableConfig) -> None:
    seen = 0
    async for mode, _ in _messages(graph, config, ["updates", "messages"]):
        seen += mode == "messages"
        if seen == 3:
            break


async def _aclose(graph: Any, config: RunnableConfig) -> None:
    stream = _messages(graph, config)
    for _ in range(3):
        await stream.__anext__()
    await stream.aclose()


async def _cancel(graph: Any, config: RunnableConfig) -> None:
    async def read(got: list[Any]) -> None:
        async for piece in _messages(graph, config):
            got.append(piece)

    await _cut(read)


def _check(otel: OTelHarness, lifecycle: Lifecycle, tree: list[Any]) -> None:
    lifecycle.check()
    assert shape(otel.tree()) == tree
    for span in otel.span_dicts():
        assert span["status"] == "UNSET", span["name"]
        assert semconv.ERROR_TYPE not in span["attributes"], span["name"]
    assert _model_data(otel) == PARTIAL_MODEL
    durations = otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    assert [(p["count"], p["attributes"].get(semconv.ERROR_TYPE)) for p in durations] == [(1, None)]


@pytest.mark.parametrize("build", [_invoking, _streaming], ids=["ainvoke", "astream"])
@pytest.mark.parametrize(
    "stop", [_break, _break_modes, _aclose, _cancel], ids=["break", "modes", "aclose", "cancelled"]
)
async def test_a_model_streamed_in_a_node_ends_with_the_graph_stream_the_app_stops_reading(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    model: Any,
    build: Callable[[Any], Any],
    stop: Callable[[Any, RunnableConfig], Awaitable[None]],
) -> None:
    await stop(build(model), {"callbacks": [handler]})
    await _settle(handler)
    _check(otel, lifecycle, GRAPH_TREE)
    assert handler.telemetry.open_count() == 0
    assert len(handler._streams) == 0


def test_a_model_streamed_in_a_node_ends_with_a_sync_graph_stream_broken_off(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    """LangGraph runs a sync graph's node to its end before the root sees the close (the model
    call ends on its own, then the root with ``GeneratorExit``): kept as a guard."""
    model = FakeChatOpenAI(responses=["one two three four five six seven eight"], delay_s=0.01)

    def answer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        return {"x": model.invoke(state["x"], config).content}

    config: RunnableConfig = {"callbacks": [handler]}
    stream = _graph(answer).stream({"x": QUESTION}, config, stream_mode="messages")
    for seen, _ in enumerate(stream, 1):
        if seen == 3:
            break
    del stream
    gc.collect()
    lifecycle.check()
    assert shape(otel.tree()) == GRAPH_TREE
    for span in otel.span_dicts():
        assert semconv.ERROR_TYPE not in span["attributes"], span["name"]
    assert handler.telemetry.open_count() == 0


async def _ask_invoking(model: Any, question: str, config: RunnableConfig) -> str:
    return str((await model.ainvoke(question, config)).content)


async def _ask_streaming(model: Any, question: str, config: RunnableConfig) -> str:
    return "".join([str(chunk.content) async for chunk in model.astream(question, config)])


@pytest.mark.parametrize("ask", [_ask_invoking, _ask_streaming], ids=["ainvoke", "astream"])
async def test_a_model_streamed_in_a_chain_step_ends_with_the_chain_stream_cancelled(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    model: Any,
    ask: Callable[[Any, str, RunnableConfig], Awaitable[str]],
) -> None:
    """``astream_events`` streams the model a step calls (as a chat UI's server relays it)."""

    async def step(question: str, config: RunnableConfig) -> str:
        return await ask(model, question, config)

    chain = RunnableLambda(step).with_config(run_name="qa")

    async def read(got: list[Any]) -> None:
        events = chain.astream_events(QUESTION, {"callbacks": [handler]}, version="v2")
        async for event in events:
            if event["event"] == "on_chat_model_stream":
                got.append(event)

    await _cut(read)
    await _settle(handler)
    _check(otel, lifecycle, [["invoke_workflow qa", "INTERNAL", "UNSET", [MODEL]]])
    assert handler.telemetry.open_count() == 0
    assert len(handler._streams) == 0


class _Tokens(BaseCallbackHandler):
    run_inline = True

    def __init__(self) -> None:
        self.count = 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.count += 1


async def test_a_streaming_model_under_a_cancelled_ainvoke_is_abandoned_with_its_root(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, model: Any
) -> None:
    """No stream the app reads: the root stays ERROR ``cancelled``, and the model call LangChain
    never ends is ``abandoned`` with it (as a non-streamed one is), not an hour later."""
    streaming = model.model_copy(update={"streaming": True})
    tokens = _Tokens()

    async def step(question: str, config: RunnableConfig) -> str:
        return await _ask_invoking(streaming, question, config)

    chain = RunnableLambda(step).with_config(run_name="qa")
    task = asyncio.ensure_future(chain.ainvoke(QUESTION, {"callbacks": [handler, tokens]}))
    while tokens.count < 3:
        assert not task.done()
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _settle(handler)
    lifecycle.check()
    model_span = ["chat gpt-4o-mini", "CLIENT", "ERROR", []]
    assert shape(otel.tree()) == [["invoke_workflow qa", "INTERNAL", "ERROR", [model_span]]]
    errors = [(s["name"], s["attributes"].get(semconv.ERROR_TYPE)) for s in otel.span_dicts()]
    assert sorted(errors) == [
        ("chat gpt-4o-mini", "abandoned"),
        ("invoke_workflow qa", "cancelled"),
    ]
    assert _model_data(otel) == ABANDONED_MODEL
    durations = otel.metrics()[semconv.METRIC_INFERENCE_DURATION]
    assert [(p["count"], p["attributes"].get(semconv.ERROR_TYPE)) for p in durations] == [
        (1, "abandoned")
    ]
    assert handler.telemetry.open_count() == 0

"""Time to first chunk, chunk gaps, duration, tokens and cost of every LangChain model call, in
every way users stream, on spans and on metrics alike: one ``time_to_first_chunk`` record per
streamed call and none for a call that does not stream, a ``time_per_output_chunk`` record per
chunk after the first, the duration metric equal to the span's duration, the token counters and
the cost metric equal to the span's usage and cost (counted once), the cost equal to
``genai_prices`` for that usage. The harness clock is deterministic, so the values are exact."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, TypedDict

import httpx
import pytest
from genai_prices import Usage, calc_price
from inline_snapshot import snapshot
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from packaging.version import Version

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

PROMPT = ChatPromptTemplate.from_messages([("user", "{q}")])
MODEL = "gpt-4o-mini-2024-07-18"
PIECES = ["Hel", "lo", " wor", "ld"]


class ChunkCount(BaseCallbackHandler):
    """What LangChain reports: ``on_llm_new_token`` calls per model run."""

    def __init__(self) -> None:
        self.per_run: Counter[Any] = Counter()

    def on_llm_new_token(self, token: str, *, run_id: Any, **kwargs: Any) -> None:
        self.per_run[run_id] += 1


class StreamingFake(FakeChatOpenAI):
    streaming: bool = False  # like ChatOpenAI's: ``invoke``/``batch`` stream when set


def _sse_events() -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": p} for p in PIECES]
    events = [
        {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    events.append(
        {**base, "choices": [], "usage": {**usage, "prompt_tokens_details": {"cached_tokens": 4}}}
    )
    return events


def _serve(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if not body.get("stream"):
        message = {"role": "assistant", "content": "".join(PIECES)}
        usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": usage,
            },
        )
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in _sse_events()) + "data: [DONE]\n\n"
    return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})


def _refuse(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"message": "overloaded", "type": "server_error"}})


def _openai(serve: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> ChatOpenAI:
    transport = httpx.MockTransport(serve)
    return ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",  # type: ignore[arg-type]
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


@pytest.fixture
def traced(otel: OTelHarness, caplog: pytest.LogCaptureFixture) -> Iterator[OTelHarness]:
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        with caplog.at_level(logging.WARNING, logger="opentelemetry"):
            yield otel
        assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
    finally:
        inst.uninstrument()


def _points(metrics: dict[str, list[dict[str, Any]]], name: str, key: str) -> float:
    return sum(p[key] for p in metrics.get(name, []))


def _measured(otel: OTelHarness, chunks: Any) -> dict[str, Any]:
    """The calls' spans and metrics, checked against each other; returns what they agree on."""
    inference = ("chat", "text_completion")
    spans = [
        s
        for s in otel.spans()
        if (s.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME) in inference
    ]
    assert all(s.end_time for s in otel.spans())
    attrs = [dict(s.attributes or {}) for s in spans]
    m = otel.metrics()
    ttfc = [
        a[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
        for a in attrs
        if semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in a
    ]
    assert _points(m, semconv.METRIC_INFERENCE_TTFC, "count") == len(ttfc)
    assert _points(m, semconv.METRIC_INFERENCE_TTFC, "sum") == pytest.approx(sum(ttfc))
    gaps = sum(n - 1 for n in chunks.per_run.values())
    assert _points(m, semconv.METRIC_INFERENCE_TPOC, "count") == gaps
    # Time to first chunk is attributed as the duration is, response model included (only the
    # call's end knows it; it had the start's attributes until 12-07); the gaps, recorded as
    # chunks arrive, carry the start's attributes.
    series = [p["attributes"] for p in m.get(semconv.METRIC_INFERENCE_DURATION, [])]
    for point in m.get(semconv.METRIC_INFERENCE_TTFC, []):
        assert point["attributes"] in series
        assert semconv.GEN_AI_RESPONSE_MODEL in point["attributes"]
    for point in m.get(semconv.METRIC_INFERENCE_TPOC, []):
        assert any(point["attributes"].items() <= a.items() for a in series)
    durations = [(s.end_time - s.start_time) / 1e9 for s in spans]  # type: ignore[operator]
    assert _points(m, semconv.METRIC_INFERENCE_DURATION, "count") == len(spans)
    assert _points(m, semconv.METRIC_INFERENCE_DURATION, "sum") == pytest.approx(sum(durations))
    tokens = {}
    for attr, counter, per_call in (
        (
            semconv.GEN_AI_USAGE_INPUT_TOKENS,
            semconv.METRIC_USAGE_INPUT_TOKENS,
            semconv.METRIC_OPERATION_INPUT_TOKENS,
        ),
        (
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
            semconv.METRIC_USAGE_OUTPUT_TOKENS,
            semconv.METRIC_OPERATION_OUTPUT_TOKENS,
        ),
    ):
        total = sum(a.get(attr, 0) for a in attrs)
        assert _points(m, counter, "value") == total
        assert _points(m, per_call, "sum") == total
        tokens[attr] = total
    cached = sum(a.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) for a in attrs)
    assert _points(m, semconv.METRIC_USAGE_CACHE_READ_TOKENS, "value") == cached
    for a in attrs:
        usage = Usage(
            input_tokens=a[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            output_tokens=a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
            cache_read_tokens=a.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) or None,
        )
        price = calc_price(usage, model_ref=a[semconv.GEN_AI_RESPONSE_MODEL], provider_id="openai")
        assert a[semconv.COST_USD] == pytest.approx(float(price.total_price))
    cost = sum(
        (s.attributes or {}).get(semconv.COST_USD, 0) for s in otel.spans()
    )  # embeddings too
    assert _points(m, semconv.METRIC_COST, "value") == pytest.approx(cost)
    return {
        "calls": len(spans),
        "stream": [a.get(semconv.GEN_AI_REQUEST_STREAM, False) for a in attrs],
        "ttfc": ttfc,
        "gaps": gaps,
        "tokens": [
            tokens[semconv.GEN_AI_USAGE_INPUT_TOKENS],
            tokens[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
            cached,
        ],
        "traces": len({s.context.trace_id for s in otel.spans()}),
    }


class _State(TypedDict):
    q: str
    a: str


def _graph(model: FakeChatOpenAI) -> Any:
    def answer(state: _State) -> dict[str, str]:
        return {"a": str(model.invoke(state["q"]).content)}

    g = StateGraph(_State)
    g.add_node("answer", answer)
    g.add_edge(START, "answer")
    g.add_edge("answer", END)
    return g.compile()


async def _collect(stream: Any) -> list[Any]:
    return [x async for x in stream]


def _run(program: Callable[[dict[str, Any]], Any], chunks: ChunkCount) -> Any:
    out = program({"callbacks": [chunks]})
    return asyncio.run(out) if asyncio.iscoroutine(out) else out


FAKE = FakeChatOpenAI(responses=["one two three four"], cached_tokens=2)
CHAIN = PROMPT | FAKE | StrOutputParser()
# one streamed call of FakeChatOpenAI: 4 words + the final usage chunk + LangChain's last chunk
ONE_FAKE_STREAM = {"calls": 1, "stream": [True], "ttfc": [0.001], "gaps": 4, "traces": 1}
PROGRAMS: dict[str, tuple[Callable[[dict[str, Any]], Any], dict[str, Any]]] = {
    "model.stream": (
        lambda c: list(FAKE.stream("hi there", config=c)),
        {**ONE_FAKE_STREAM, "tokens": [6, 4, 2]},
    ),
    "model.astream": (
        lambda c: _collect(FAKE.astream("hi there", config=c)),
        {**ONE_FAKE_STREAM, "tokens": [6, 4, 2]},
    ),
    "chain.stream": (
        lambda c: list(CHAIN.stream({"q": "hi"}, config=c)),
        {**ONE_FAKE_STREAM, "tokens": [5, 4, 2]},
    ),
    "chain.astream": (
        lambda c: _collect(CHAIN.astream({"q": "hi"}, config=c)),
        {**ONE_FAKE_STREAM, "tokens": [5, 4, 2]},
    ),
    "chain.astream_events": (
        lambda c: _collect(CHAIN.astream_events({"q": "hi"}, version="v2", config=c)),
        {**ONE_FAKE_STREAM, "tokens": [5, 4, 2]},
    ),
    "graph.stream messages": (
        lambda c: list(_graph(FAKE).stream({"q": "hi"}, stream_mode="messages", config=c)),
        {**ONE_FAKE_STREAM, "tokens": [5, 4, 2]},
    ),
    "chain.invoke": (
        lambda c: CHAIN.invoke({"q": "hi"}, config=c),
        {"calls": 1, "stream": [False], "ttfc": [], "gaps": 0, "tokens": [5, 4, 2], "traces": 1},
    ),
    "batch of a streaming=True model": (
        lambda c: StreamingFake(responses=["a b c"], streaming=True).batch(["x", "y"], config=c),
        {
            "calls": 2,
            "stream": [True, True],
            "ttfc": [0.001, 0.001],
            "gaps": 6,
            "tokens": [10, 6, 0],
            "traces": 2,
        },
    ),
    "stream of a disable_streaming model": (
        lambda c: list(
            FakeChatOpenAI(responses=["a b c"], disable_streaming=True).stream("x", config=c)
        ),
        {"calls": 1, "stream": [False], "ttfc": [], "gaps": 0, "tokens": [5, 3, 0], "traces": 1},
    ),
    "ChatOpenAI(streaming, stream_usage).invoke": (
        lambda c: _openai(_serve, streaming=True, stream_usage=True).invoke("hi", config=c),
        {
            "calls": 1,
            "stream": [True],
            "ttfc": [0.001],
            "gaps": 7,
            "tokens": [10, 4, 4],
            "traces": 1,
        },
    ),
    "ChatOpenAI().astream": (
        lambda c: _collect(_openai(_serve).astream("hi", config=c)),
        {
            "calls": 1,
            "stream": [True],
            "ttfc": [0.001],
            "gaps": 7,
            "tokens": [10, 4, 4],
            "traces": 1,
        },
    ),
    "ChatOpenAI().invoke": (
        lambda c: _openai(_serve).invoke("hi", config=c),
        {"calls": 1, "stream": [False], "ttfc": [], "gaps": 0, "tokens": [10, 2, 0], "traces": 1},
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_time_to_first_chunk_tokens_and_cost_on_spans_and_metrics(
    traced: OTelHarness, name: str
) -> None:
    program, expected = PROGRAMS[name]
    chunks = ChunkCount()
    _run(program, chunks)
    assert _measured(traced, chunks) == expected


@pytest.mark.skipif(
    Version(metadata.version("langchain-openai")) < Version("1.8"),
    reason="written against langchain-openai 1.8+ / langchain-core 1.8+; not verified on older",
)
def test_a_stream_that_fails_before_its_first_chunk_is_marked_streamed(traced: OTelHarness) -> None:
    # ``model.stream()`` of a model not built with ``streaming=True``: LangChain's invocation
    # params say ``stream: False``; only the first chunk marked the span (until 2026-12-06).
    model = _openai(_refuse)
    with pytest.raises(Exception, match="overloaded"):
        list(model.stream("hi"))
    assert traced.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "langchain_openai.chat_models.base.OpenAIAPIError",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "genai_trace.framework": "langchain",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
                "status_description": "langchain_openai.chat_models.base.OpenAIAPIError: "
                "HTTP 500, message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "HTTP 500, "
                            "message not captured: content capture is off",
                            "exception.stacktrace": "... langchain_openai.chat_models.base."
                            "OpenAIAPIError: "
                            "HTTP 500, message not captured: content capture is off",
                            "exception.type": "langchain_openai.chat_models.base.OpenAIAPIError",
                        },
                    }
                ],
            }
        ]
    )
    with pytest.raises(Exception, match="overloaded"):
        asyncio.run(_collect((PROMPT | model).astream({"q": "hi"})))
    with pytest.raises(Exception, match="overloaded"):
        model.invoke("hi")
    chats = [s for s in traced.spans() if s.name.startswith("chat ")]
    assert [
        (s.status.status_code.name, (s.attributes or {}).get(semconv.GEN_AI_REQUEST_STREAM))
        for s in chats
    ] == snapshot([("ERROR", True), ("ERROR", True), ("ERROR", None)])
    metrics = traced.metrics()
    assert semconv.METRIC_INFERENCE_TTFC not in metrics
    assert _points(metrics, semconv.METRIC_INFERENCE_DURATION, "count") == 3

"""A FastAPI app relaying streamed answers with ``StreamingResponse``, served by uvicorn in a thread
beside the OpenTelemetry FastAPI instrumentation: LangChain's ``chain.astream`` and
``chain.stream`` (the real ``ChatOpenAI``) and a LlamaIndex chat engine's ``astream_chat`` (the
real LlamaIndex ``OpenAI``), both over ``httpx.MockTransport`` answering with server-sent events a
chunk at a time. Each route is read whole once, and once cut by the client after two chunks (a
chat UI's "stop"). One trace per request, the GenAI spans under the HTTP server span, every span
that started ended, nothing left in the registries, no OpenTelemetry warning; and the request the
client cut is not an error (docs/guarantees.md, "Every span that starts, ends": a stream the app
stops reading early ends every span without error; under uvicorn, Starlette stops it by cancelling
the task that reads it, which LangChain reports as ``CancelledError``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("opentelemetry.instrumentation.fastapi")

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.llms.openai import OpenAI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_llamaindex import LlamaIndexInstrumentor

MODEL = "gpt-4o-mini-2024-07-18"
WORDS = ["Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?"]
DELAY_S = 0.04  # between two server-sent events: the client cuts the stream mid-way


def _event(payload: dict[str, Any]) -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    return f"data: {json.dumps({**base, **payload})}\n\n".encode()


def _events() -> list[bytes]:
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": w} for w in WORDS]
    out = [_event({"choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in deltas]
    out.append(_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    usage = {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22}
    out.append(_event({"choices": [], "usage": usage}))
    return [*out, b"data: [DONE]\n\n"]


class _SlowAsync(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in _events():
            await asyncio.sleep(DELAY_S)
            yield event


class _SlowSync(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        for event in _events():
            time.sleep(DELAY_S)
            yield event


def _transport(is_async: bool) -> httpx.MockTransport:
    def serve(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        stream = _SlowAsync() if is_async else _SlowSync()
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    return httpx.MockTransport(serve)


def _app(otel: OTelHarness) -> FastAPI:
    model = ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",  # type: ignore[arg-type]
        max_retries=0,
        stream_usage=True,
        http_client=httpx.Client(transport=_transport(False)),
        http_async_client=httpx.AsyncClient(transport=_transport(True)),
    )
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model | StrOutputParser()
    llm = OpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",
        max_retries=0,
        http_client=httpx.Client(transport=_transport(False)),
        async_http_client=httpx.AsyncClient(transport=_transport(True)),
        additional_kwargs={"stream_options": {"include_usage": True}},
    )
    app = FastAPI()

    @app.get("/lc")
    async def lc(q: str) -> StreamingResponse:
        async def pieces() -> AsyncIterator[str]:
            async for piece in chain.astream({"q": q}):
                yield piece

        return StreamingResponse(pieces(), media_type="text/plain")

    @app.get("/lc-sync")
    def lc_sync(q: str) -> StreamingResponse:
        def pieces() -> Iterator[str]:
            yield from chain.stream({"q": q})

        return StreamingResponse(pieces(), media_type="text/plain")

    @app.get("/li")
    async def li(q: str) -> StreamingResponse:
        response = await SimpleChatEngine.from_defaults(llm=llm).astream_chat(q)
        return StreamingResponse(response.async_response_gen(), media_type="text/plain")

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=otel.tracer_provider, exclude_spans=["receive", "send"]
    )
    return app


class _Started(SpanProcessor):
    """Every span the SDK started, to check that each one ended."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        with self.lock:
            self.ids.add(span.get_span_context().span_id)

    def on_end(self, span: ReadableSpan) -> None:
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _ask(base: str, path: str, cut: bool) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        if not cut:
            return (await client.get(path, params={"q": "hi"})).text
        got = []
        async with client.stream("GET", path, params={"q": "hi"}) as response:
            async for text in response.aiter_text():
                got.append(text)
                if len(got) == 2:
                    break  # the client goes away: the response is closed mid-stream
        return "".join(got)


@pytest.fixture
def served(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[str, OTelHarness, _Started, list[Any]]]:
    started = _Started()
    otel.tracer_provider.add_span_processor(started)
    lc, li = LangChainInstrumentor(), LlamaIndexInstrumentor()
    lc.instrument(tracer_provider=otel.tracer_provider)
    li.instrument(tracer_provider=otel.tracer_provider)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(_app(otel), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    try:
        with caplog.at_level(logging.WARNING, logger="opentelemetry"):
            thread.start()
            deadline = time.monotonic() + 10
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}", otel, started, [lc.handler]
            server.should_exit = True
            thread.join(10)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
    finally:
        server.should_exit = True
        lc.uninstrument()
        li.uninstrument()


def _settled(otel: OTelHarness, started: _Started, servers: int) -> list[ReadableSpan]:
    """The finished spans once every request's server span and every started span ended."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        spans = otel.spans()
        ended = {s.context.span_id for s in spans if s.context is not None}
        done = sum(1 for s in spans if s.kind.name == "SERVER")
        if done >= servers and started.ids <= ended:
            return spans
        time.sleep(0.05)
        gc.collect()  # a sync stream dropped by the server ends when it is collected
    raise AssertionError("not every span that started ended")


CHILDREN = {
    "/lc": ("invoke_workflow", ["ChatPromptTemplate", "chat gpt-4o-mini", "StrOutputParser"]),
    "/lc-sync": ("invoke_workflow", ["ChatPromptTemplate", "chat gpt-4o-mini", "StrOutputParser"]),
    "/li": ("SimpleChatEngine.stream_chat", ["chat gpt-4o-mini"]),
}


def _children(members: list[ReadableSpan], of: ReadableSpan) -> list[ReadableSpan]:
    assert of.context is not None
    kids = [s for s in members if s.parent and s.parent.span_id == of.context.span_id]
    return sorted(kids, key=lambda s: s.start_time or 0)


def _trees(spans: list[ReadableSpan]) -> list[dict[str, list[Any]]]:
    """One ``{server span: [GenAI child, [its children]]}`` per trace, in no particular order."""
    by_trace: dict[int, list[ReadableSpan]] = {}
    for s in spans:
        assert s.context is not None
        by_trace.setdefault(s.context.trace_id, []).append(s)
    out = []
    for members in by_trace.values():
        (server,) = [s for s in members if s.kind.name == "SERVER"]  # one request, one trace
        (top,) = _children(members, server)
        steps = _children(members, top)
        assert len(members) == 2 + len(steps)  # nothing outside the request's tree
        out.append({server.name: [top.name, sorted(c.name for c in steps)]})
    return out


@pytest.mark.parametrize("path", ["/lc", "/lc-sync", "/li"])
def test_whole_and_cut_streams_are_one_trace_each_under_the_server_span(
    served: tuple[str, OTelHarness, _Started, list[Any]], path: str
) -> None:
    base, otel, started, handlers = served
    assert asyncio.run(_ask(base, path, cut=False)) == "".join(WORDS)
    assert asyncio.run(_ask(base, path, cut=True))
    spans = _settled(otel, started, servers=2)
    workflow, steps = CHILDREN[path]
    assert _trees(spans) == [{f"GET {path}": [workflow, sorted(steps)]}] * 2
    assert all(h.telemetry.open_count() == 0 for h in handlers)


@pytest.mark.parametrize("path", ["/lc", "/lc-sync", "/li"])
def test_a_stream_the_client_cut_ends_without_error(
    served: tuple[str, OTelHarness, _Started, list[Any]], path: str
) -> None:
    """A chat UI's "stop": the client closes the response after two chunks. Under uvicorn (ASGI
    spec 2.3+) Starlette stops the response by cancelling the task that reads the stream: a
    LangChain ``astream`` then reports ``CancelledError`` on the runs still open, which under a
    root the user streams is the client going away, not an error (a cancelled ``ainvoke`` stays
    ``cancelled``: the LangChain README). A sync LangChain stream and a LlamaIndex stream are
    closed, not cancelled. Every span ends without error either way."""
    base, otel, started, _ = served
    asyncio.run(_ask(base, path, cut=True))
    spans = _settled(otel, started, servers=1)
    assert len(spans) == 2 + len(CHILDREN[path][1])
    genai = [s for s in spans if s.kind.name != "SERVER"]
    assert {s.name: s.status.status_code.name for s in genai} == {
        name: "UNSET" for name in [CHILDREN[path][0], *CHILDREN[path][1]]
    }
    assert [s.name for s in genai if semconv.ERROR_TYPE in (s.attributes or {})] == []

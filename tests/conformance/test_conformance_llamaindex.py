"""Real LlamaIndex ``OpenAI`` and ``OpenAIEmbedding`` clients (and a ``FunctionAgent`` and a
``VectorStoreIndex`` over them) on OpenAI's wire format, content capture off and on: every span,
metric and log record must conform.

LlamaIndex's ``OpenAIEmbedding`` drops the response model (recommended): a known gap on its own,
asserted as such; with a util-genai provider instrumentation
(``opentelemetry-instrumentation-genai-openai``) beside ours, which hands it back, none."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from conformance_check import (
    check_logs,
    check_metrics,
    check_span,
    check_token_points,
    metric_points,
)
from openai_wire import OpenAIWire, chat_completion, chat_stream, embeddings, usage

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness, provider_instrumented

pytest.importorskip("llama_index.llms.openai")
pytest.importorskip("llama_index.embeddings.openai")
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

from genai_trace_llamaindex import LlamaIndexInstrumentor

LLAMA_INDEX_CORE = tuple(int(p) for p in version("llama-index-core").split(".")[:2])
KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
MODES = ["NO_CONTENT", "SPAN_AND_EVENT"]
Scenario = Callable[[OpenAI, OpenAIEmbedding], Any]


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})


def _reply(**kw: Any) -> httpx.Response:
    return chat_completion(model="gpt-4o-mini-2024-07-18", **kw)


def _clients(wire: OpenAIWire) -> tuple[OpenAI, OpenAIEmbedding]:
    llm = OpenAI(
        model="gpt-4o-mini",
        api_key=KEY,
        http_client=wire.client(),
        async_http_client=wire.async_client(),
        max_retries=0,
    )
    embed = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_key=KEY,
        http_client=wire.client(),
        async_http_client=wire.async_client(),
        max_retries=0,
    )
    return llm, embed


def _violations(otel: OTelHarness, mode: str) -> list[str]:
    spans = otel.spans()
    assert spans, "the scenario produced no spans"
    capture = mode != "NO_CONTENT"
    metrics = metric_points(otel.metric_reader)
    out = [v for s in spans for v in check_span(s, spans, capture)]
    out += check_metrics(metrics)
    out += check_token_points(spans, metrics)
    out += check_logs(otel.logs(), spans, capture)
    return out


@pytest.fixture
def run(otel: OTelHarness) -> Iterator[Callable[..., list[str]]]:
    def go(mode: str, scenario: Scenario, *replies: Any, beside: str | None = None) -> list[str]:
        """``beside``: a provider instrumentation instrumented on the same providers too."""
        wire = OpenAIWire(*replies)
        settings = Settings(capture_mode=CaptureMode(mode))
        with contextlib.ExitStack() as stack:
            if beside is not None:
                stack.enter_context(provider_instrumented(otel, beside))
            stack.enter_context(otel.instrumented(LlamaIndexInstrumentor(), settings=settings))
            scenario(*_clients(wire))
        return _violations(otel, mode)

    yield go


@pytest.mark.parametrize("mode", MODES)
def test_chat_with_cached_and_reasoning_tokens(run: Any, mode: str) -> None:
    def scenario(llm: OpenAI, _: OpenAIEmbedding) -> None:
        assert llm.chat([ChatMessage(role="user", content="Capital of France?")]).message.content

    reply = _reply(
        response_id="chatcmpl-1",
        content="Paris.",
        token_usage=usage(1200, 40, cached=1024, reasoning=8),
    )
    assert run(mode, scenario, reply) == []


@pytest.mark.parametrize("mode", MODES)
def test_streamed_chat_with_usage(otel: OTelHarness, run: Any, mode: str) -> None:
    def scenario(llm: OpenAI, _: OpenAIEmbedding) -> None:
        llm.additional_kwargs = {"stream_options": {"include_usage": True}}
        chunks = llm.stream_chat([ChatMessage(role="user", content="Hi")])
        assert "".join(c.delta or "" for c in chunks) == "Hello"

    reply = chat_stream(
        response_id="chatcmpl-s",
        model="gpt-4o-mini-2024-07-18",
        pieces=["Hel", "lo"],
        token_usage=usage(9, 2, reasoning=1),
    )
    assert run(mode, scenario, reply) == []
    [span] = otel.spans()
    a = span.attributes or {}
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.response.finish_reasons"] == ("stop",)  # from the chunk before the usage one
    assert a["gen_ai.response.id"] == "chatcmpl-s"


@pytest.mark.skipif(
    LLAMA_INDEX_CORE < (0, 13),
    reason="llama-index-core 0.12's FunctionAgent returns an empty result over this wire format",
)
# llama-index-core's workflow agents read pydantic's deprecated __fields__ (not our code).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")
@pytest.mark.parametrize("mode", MODES)
def test_function_agent_with_a_tool_call(otel: OTelHarness, run: Any, mode: str) -> None:
    def scenario(llm: OpenAI, _: OpenAIEmbedding) -> None:
        agent = FunctionAgent(
            name="weather_agent",
            description="Tells the weather.",
            tools=[FunctionTool.from_defaults(get_weather)],
            llm=llm,
            streaming=False,
        )

        async def ask() -> Any:
            return await agent.run("Weather in Paris?")  # a workflow runs in a running loop

        assert "Sunny" in str(asyncio.run(ask()))

    call = {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}
    replies = [
        _reply(response_id="c-1", content=None, token_usage=usage(50, 10), tool_calls=[call]),
        _reply(response_id="c-2", content="Sunny in Paris.", token_usage=usage(70, 5)),
    ]
    assert run(mode, scenario, *replies) == []
    names = [s.name for s in otel.spans()]
    assert "execute_tool get_weather" in names and "invoke_agent weather_agent" in names
    agent = next(s for s in otel.spans() if s.name == "invoke_agent weather_agent")
    a = agent.attributes or {}
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (120, 15)


@pytest.mark.parametrize("mode", MODES)
def test_a_500_is_an_error_span_with_an_exception_event(
    otel: OTelHarness, run: Any, mode: str
) -> None:
    def scenario(llm: OpenAI, _: OpenAIEmbedding) -> None:
        with pytest.raises(Exception, match="boom"):
            llm.chat([ChatMessage(role="user", content="Hi")])

    assert run(mode, scenario, _server_error) == []
    [record] = [r for r in otel.logs() if r.event_name == "gen_ai.client.operation.exception"]
    assert record.attributes is not None and record.attributes["error.type"]


def _embeddings_and_retrieval(_: OpenAI, embed: OpenAIEmbedding) -> None:
    docs = [
        Document(text="Paris is in France.", id_="d-1"),
        Document(text="Berlin.", id_="d-2"),
    ]
    index = VectorStoreIndex.from_documents(docs, embed_model=embed)
    index.set_index_id("capitals")
    assert len(index.as_retriever(similarity_top_k=1).retrieve("France?")) == 1


@pytest.mark.parametrize("mode", MODES)
def test_embeddings_and_retrieval_over_a_named_index(
    otel: OTelHarness, run: Any, mode: str
) -> None:
    # KNOWN GAP without a util-genai provider instrumentation: OpenAIEmbedding returns the
    # vectors only, so the response model never reaches us (two calls, two spans).
    gap = "span 'embeddings text-embedding-3-small': recommended gen_ai.response.model missing"
    assert run(mode, _embeddings_and_retrieval, embeddings(dimensions=8)) == [gap, gap]
    names = {s.name for s in otel.spans()}
    assert {"embeddings text-embedding-3-small", "retrieval capitals"} <= names


@pytest.mark.parametrize("mode", MODES)
def test_embeddings_beside_genai_openai_have_no_gap(otel: OTelHarness, run: Any, mode: str) -> None:
    reply = embeddings(dimensions=8)
    assert run(mode, _embeddings_and_retrieval, reply, beside="genai-openai") == []
    models = {
        (s.attributes or {}).get("gen_ai.response.model")
        for s in otel.spans()
        if s.name.startswith("embeddings")
    }
    assert models == {"text-embedding-3-small"}

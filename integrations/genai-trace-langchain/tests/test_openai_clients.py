"""The real clients: langchain-openai's ``ChatOpenAI`` and ``OpenAIEmbeddings`` (and the ``openai``
SDK under them) over ``httpx.MockTransport`` answering in OpenAI's wire format."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from openai_wire import (
    OpenAIWire,
    chat_completion,
    chat_stream,
    embeddings,
    rate_limited,
    usage,
)

from genai_trace_core import Usage, compute_cost, count_tokens, semconv
from genai_trace_core.testing import OTelHarness, requires_async_root_activation
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings

langchain_openai = pytest.importorskip("langchain_openai")
ChatOpenAI = langchain_openai.ChatOpenAI
OpenAIEmbeddings = langchain_openai.OpenAIEmbeddings

API_KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
CHAT_MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
EMBED_MODEL = "text-embedding-3-small"


@pytest.fixture
async def clients() -> AsyncIterator[Any]:
    """``clients(wire)`` -> (sync, async) httpx clients on the wire; all closed afterwards."""
    opened: list[tuple[httpx.Client, httpx.AsyncClient]] = []

    def make(wire: OpenAIWire) -> tuple[httpx.Client, httpx.AsyncClient]:
        pair = (wire.client(), wire.async_client())
        opened.append(pair)
        return pair

    yield make
    for sync, async_ in opened:
        sync.close()
        await async_.aclose()


def _chat(wire: OpenAIWire, clients: Any, **kwargs: Any) -> Any:
    sync, async_ = clients(wire)
    kwargs.setdefault("max_retries", 0)
    return ChatOpenAI(
        model=CHAT_MODEL, api_key=API_KEY, http_client=sync, http_async_client=async_, **kwargs
    )


def _embedder(wire: OpenAIWire, clients: Any) -> Any:
    sync, async_ = clients(wire)
    return OpenAIEmbeddings(
        model=EMBED_MODEL, api_key=API_KEY, http_client=sync, http_async_client=async_
    )


def _expected_cost(model: str, u: Usage) -> Any:
    cost = compute_cost(model, semconv.PROVIDER_OPENAI, u)
    assert cost is not None and cost.total_usd > 0
    return cost


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


# --- chat completions ---------------------------------------------------------------------------


def test_chat_completion_span_has_response_usage_with_cache_and_reasoning_and_exact_cost(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-wire-1",
            model=RESPONSE_MODEL,
            content="Paris.",
            token_usage=usage(1200, 40, cached=1024, reasoning=16),
        )
    )
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{question}")])
    model = _chat(wire, clients, temperature=0.2, max_tokens=64, seed=7)
    chain = (prompt | model | StrOutputParser()).with_config(run_name="qa")

    assert chain.invoke({"question": "Capital of France?"}, {"callbacks": [handler]}) == "Paris."

    [sent] = wire.bodies()
    assert (sent["model"], sent["temperature"], sent["max_completion_tokens"]) == (
        CHAT_MODEL,
        0.2,
        64,
    )
    tree = otel.tree()
    assert shape(tree) == [
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
    a = tree[0]["children"][1]["attributes"]
    expected = _expected_cost(
        RESPONSE_MODEL,
        Usage(
            input_tokens=1200,
            output_tokens=40,
            cache_read_input_tokens=1024,
            reasoning_output_tokens=16,
        ),
    )
    assert {k: a.get(k) for k in (*_CHAT_KEYS, *_USAGE_KEYS)} == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: CHAT_MODEL,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 64,
        semconv.GEN_AI_REQUEST_SEED: 7,
        semconv.GEN_AI_RESPONSE_MODEL: RESPONSE_MODEL,
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-wire-1",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1200,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 40,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 1024,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 16,
        semconv.USAGE_SOURCE: semconv.USAGE_SOURCE_PROVIDER,
    }
    assert a[semconv.COST_USD] == pytest.approx(expected.total_usd)
    assert a[semconv.COST_CACHE_READ_USD] == pytest.approx(expected.cache_read_usd)
    assert semconv.GEN_AI_REQUEST_STREAM not in a
    [cost_point] = otel.metrics()[semconv.METRIC_COST]
    assert cost_point["value"] == pytest.approx(expected.total_usd)
    assert handler.telemetry.open_count() == 0


_CHAT_KEYS = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_REQUEST_TEMPERATURE,
    semconv.GEN_AI_REQUEST_MAX_TOKENS,
    semconv.GEN_AI_REQUEST_SEED,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.GEN_AI_RESPONSE_ID,
    semconv.GEN_AI_RESPONSE_FINISH_REASONS,
)
_USAGE_KEYS = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    semconv.USAGE_SOURCE,
)


async def test_async_stream_with_include_usage_takes_usage_from_the_final_chunk_and_times_ttfc(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    pieces = ["The ", "capital ", "is ", "Paris."]
    wire = OpenAIWire(
        chat_stream(
            response_id="chatcmpl-wire-stream",
            model=RESPONSE_MODEL,
            pieces=pieces,
            token_usage=usage(300, 9, cached=256, reasoning=2),
        )
    )
    model = _chat(wire, clients, stream_usage=True)

    text = ""
    async for chunk in model.astream("Capital of France?", config={"callbacks": [handler]}):
        text += str(chunk.content)

    assert text == "".join(pieces)
    [sent] = wire.bodies()
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    [span] = otel.tree()
    assert shape([span]) == [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]
    a = span["attributes"]
    assert {k: a.get(k) for k in _USAGE_KEYS} == {
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 300,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 9,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 256,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 2,
        semconv.USAGE_SOURCE: semconv.USAGE_SOURCE_PROVIDER,
    }
    assert a[semconv.GEN_AI_REQUEST_STREAM] is True
    # langchain-openai does not pass the streamed response id on (the message id is LangChain's
    # run id): the span has none rather than a wrong one.
    assert a.get(semconv.GEN_AI_RESPONSE_ID) in (None, "chatcmpl-wire-stream")
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == RESPONSE_MODEL
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    ttfc = a[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert 0 < ttfc < _duration_s(otel, span["name"])
    expected = _expected_cost(
        RESPONSE_MODEL,
        Usage(
            input_tokens=300,
            output_tokens=9,
            cache_read_input_tokens=256,
            reasoning_output_tokens=2,
        ),
    )
    assert a[semconv.COST_USD] == pytest.approx(expected.total_usd)
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_INFERENCE_TTFC][0]["count"] == 1
    assert metrics[semconv.METRIC_INFERENCE_TTFC][0]["sum"] == pytest.approx(ttfc)
    assert handler.telemetry.open_count() == 0


def _duration_s(otel: OTelHarness, name: str) -> float:
    [d] = [d for d in otel.span_dicts() if d["name"] == name]
    return float(d["end"] - d["start"]) / 1e9


def test_tool_calls_over_the_wire_nest_chat_tool_chat_under_the_agent(
    otel: OTelHarness, make_handler: Any, clients: Any
) -> None:
    call = {"id": "call_Wx81", "name": "get_weather", "args": {"city": "Paris"}}
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-wire-tool",
            model=RESPONSE_MODEL,
            content=None,
            token_usage=usage(80, 18),
            tool_calls=[call],
        ),
        chat_completion(
            response_id="chatcmpl-wire-final",
            model=RESPONSE_MODEL,
            content="It is sunny in Paris.",
            token_usage=usage(110, 7, cached=64),
        ),
    )
    bound = _chat(wire, clients).bind_tools([get_weather])

    def agent(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        reply = bound.invoke(messages)
        messages.append(reply)
        messages.extend(get_weather.invoke(c) for c in reply.tool_calls)
        return str(bound.invoke(messages).content)

    handler = make_handler(capture_mode="SPAN_ONLY")
    runnable = RunnableLambda(agent).with_config(run_name="weather_agent")
    assert runnable.invoke("Weather in Paris?", {"callbacks": [handler]}) == (
        "It is sunny in Paris."
    )

    first, second = wire.bodies()
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]
    assert second["messages"][-1] == {
        "role": "tool",
        "content": "Sunny in Paris",
        "tool_call_id": "call_Wx81",
    }
    tree = otel.tree()
    assert shape(tree) == [
        [
            "invoke_agent weather_agent",
            "INTERNAL",
            "UNSET",
            [
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["execute_tool get_weather", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ],
        ],
    ]
    chat1, tool_span, chat2 = (c["attributes"] for c in tree[0]["children"])
    assert chat1[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["tool_calls"]
    assert chat1[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-wire-tool"
    assert [d["name"] for d in chat1[semconv.GEN_AI_TOOL_DEFINITIONS]] == ["get_weather"]
    [out_message] = chat1[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert [p for p in out_message["parts"] if p["type"] == "tool_call"] == [
        {
            "type": "tool_call",
            "id": "call_Wx81",
            "name": "get_weather",
            "arguments": {"city": "Paris"},
        }
    ]
    assert tool_span[semconv.GEN_AI_TOOL_CALL_ID] == "call_Wx81"
    assert tool_span[semconv.GEN_AI_TOOL_DESCRIPTION] == "Current weather for a city."
    assert chat2[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert chat2[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 64
    for attrs, u in (
        (chat1, Usage(input_tokens=80, output_tokens=18, cache_read_input_tokens=0)),
        (chat2, Usage(input_tokens=110, output_tokens=7, cache_read_input_tokens=64)),
    ):
        assert attrs[semconv.COST_USD] == pytest.approx(_expected_cost(RESPONSE_MODEL, u).total_usd)
    points = otel.metrics()
    assert points[semconv.METRIC_AGENT_TOOL_CALLS][0]["sum"] == 1
    assert points[semconv.METRIC_AGENT_INFERENCE_CALLS][0]["sum"] == 2


def test_rate_limit_429_then_success_is_one_chat_span_without_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    wire = OpenAIWire(
        rate_limited(),
        chat_completion(
            response_id="chatcmpl-after-429",
            model=RESPONSE_MODEL,
            content="ok",
            token_usage=usage(12, 1),
        ),
    )
    model = _chat(wire, clients, max_retries=2)

    assert model.invoke("hi", config={"callbacks": [handler]}).content == "ok"

    assert len(wire.requests) == 2  # the SDK retried inside the one model call
    assert wire.requests[1].headers["x-stainless-retry-count"] == "1"
    tree = otel.tree()
    assert shape(tree) == [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]
    a = tree[0]["attributes"]
    assert semconv.ERROR_TYPE not in a
    assert a[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-after-429"
    assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert (
        semconv.ERROR_TYPE not in otel.metrics()[semconv.METRIC_INFERENCE_DURATION][0]["attributes"]
    )


def test_rate_limit_without_retries_left_fails_the_chat_span_with_the_sdk_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    import openai

    wire = OpenAIWire(rate_limited())
    with pytest.raises(openai.RateLimitError) as raised:
        _chat(wire, clients).invoke("hi", config={"callbacks": [handler]})

    tree = otel.tree()
    assert shape(tree) == [["chat gpt-4o-mini", "CLIENT", "ERROR", []]]
    error = type(raised.value)  # langchain-openai re-raises a subclass of the SDK's error
    assert tree[0]["attributes"][semconv.ERROR_TYPE] == f"{error.__module__}.{error.__qualname__}"
    assert handler.telemetry.open_count() == 0


# --- embeddings ---------------------------------------------------------------------------------


def _sent_tokens(wire: OpenAIWire) -> int:
    """Token ids langchain-openai sent (it tokenizes with tiktoken before calling the API)."""
    return sum(len(i) for body in wire.bodies() for i in body["input"])


def test_openai_embeddings_span_dimension_input_count_usage_and_cost(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    wire = OpenAIWire(embeddings(dimensions=12))
    texts = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
    traced = trace_embeddings(_embedder(wire, clients), handler=handler)

    vectors = traced.embed_documents(texts)

    assert [len(v) for v in vectors] == [12, 12]
    [body] = wire.bodies()
    assert body["model"] == EMBED_MODEL
    [span] = otel.tree()
    assert shape([span]) == [["embeddings text-embedding-3-small", "CLIENT", "UNSET", []]]
    a = span["attributes"]
    sent = _sent_tokens(wire)
    # LangChain drops the provider's usage, so core counts with the model's own tokenizer: the
    # count equals what was sent, and the cost is the price of exactly that.
    assert sent == count_tokens(texts, EMBED_MODEL)[0]
    assert {
        k: a.get(k)
        for k in (
            semconv.GEN_AI_OPERATION_NAME,
            semconv.GEN_AI_PROVIDER_NAME,
            semconv.GEN_AI_REQUEST_MODEL,
            semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
            semconv.EMBEDDINGS_INPUT_COUNT,
            semconv.USAGE_ESTIMATED_INPUT_TOKENS,
            semconv.USAGE_SOURCE,
        )
    } == {
        semconv.GEN_AI_OPERATION_NAME: "embeddings",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: EMBED_MODEL,
        semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 12,
        semconv.EMBEDDINGS_INPUT_COUNT: 2,
        semconv.USAGE_ESTIMATED_INPUT_TOKENS: sent,  # ours: estimates are opt-in as gen_ai
        semconv.USAGE_SOURCE: semconv.USAGE_SOURCE_ESTIMATED,
    }
    expected = _expected_cost(EMBED_MODEL, Usage(input_tokens=sent))
    assert a[semconv.COST_USD] == pytest.approx(expected.total_usd)


@requires_async_root_activation
async def test_async_retrieval_over_openai_embeddings_nests_the_query_embedding(
    otel: OTelHarness, instrumented: Any, clients: Any
) -> None:
    wire = OpenAIWire(embeddings(dimensions=8))
    embedder = _embedder(wire, clients)
    store = InMemoryVectorStore(embedder)
    await store.aadd_texts(["Paris is in France.", "Berlin is in Germany.", "Oslo is in Norway."])
    otel.clear()  # keep only the query's trace
    retriever = store.as_retriever(search_kwargs={"k": 2})

    docs = await retriever.ainvoke("Where is Paris?")

    assert len(docs) == 2
    tree = otel.tree()
    assert shape(tree) == [
        [
            "retrieval InMemoryVectorStore",
            "CLIENT",
            "UNSET",
            [["embeddings text-embedding-3-small", "CLIENT", "UNSET", []]],
        ],
    ]
    assert tree[0]["attributes"][semconv.GEN_AI_RETRIEVAL_TOP_K] == 2
    assert tree[0]["attributes"][semconv.DOCUMENT_COUNT] == 2
    emb = tree[0]["children"][0]["attributes"]
    query_tokens = len(wire.bodies()[-1]["input"][0])
    assert emb[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 8
    assert emb[semconv.EMBEDDINGS_INPUT_COUNT] == 1
    assert emb[semconv.GEN_AI_USAGE_INPUT_TOKENS] == query_tokens
    assert emb[semconv.COST_USD] == pytest.approx(
        _expected_cost(EMBED_MODEL, Usage(input_tokens=query_tokens)).total_usd
    )


# --- secrets ------------------------------------------------------------------------------------


def _exported_text(otel: OTelHarness) -> str:
    """Everything exported, as text: span names, attributes, status, events (with attributes),
    resources, log records (body and attributes) and every metric data point's attributes."""
    parts: list[str] = []
    for s in otel.spans():
        parts.append(s.name)
        parts.append(repr(dict(s.attributes or {})))
        parts.append(repr(s.status.description))
        parts.append(repr(dict(s.resource.attributes)))
        for e in s.events:
            parts.append(e.name + repr(dict(e.attributes or {})))
    for record in otel.logs():
        parts.append(repr(record.body) + repr(dict(record.attributes or {})))
    parts.append(json.dumps(otel.metrics(), default=repr))
    return "\n".join(parts)


async def test_api_key_never_appears_in_spans_events_logs_or_metrics(
    otel: OTelHarness, make_handler: Any, clients: Any
) -> None:
    wire = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-k1",
            model=RESPONSE_MODEL,
            content=None,
            token_usage=usage(50, 12),
            tool_calls=[{"id": "call_k", "name": "get_weather", "args": {"city": "Oslo"}}],
        ),
        chat_stream(
            response_id="chatcmpl-k2",
            model=RESPONSE_MODEL,
            pieces=["Cold ", "in ", "Oslo."],
            token_usage=usage(70, 4),
        ),
        rate_limited(),
        embeddings(dimensions=4),
    )
    handler = make_handler(capture_mode="SPAN_AND_EVENT")
    config: Any = {"callbacks": [handler], "metadata": {"user_id": "u-1"}}
    model = _chat(wire, clients, stream_usage=True, model_kwargs={"user": "u-1"})

    reply = model.bind_tools([get_weather]).invoke("Weather in Oslo?", config=config)
    get_weather.invoke(reply.tool_calls[0], config=config)
    async for _ in model.astream("Summarise.", config=config):
        pass
    with contextlib.suppress(Exception):
        model.invoke("again", config=config)
    await trace_embeddings(_embedder(wire, clients), handler=handler).aembed_query("Oslo")

    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in wire.requests)
    names = [s["name"] for s in otel.span_dicts()]
    assert names == [
        "chat gpt-4o-mini",
        "execute_tool get_weather",
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "embeddings text-embedding-3-small",
    ]
    assert otel.logs(), "SPAN_AND_EVENT mode emits log events"
    exported = _exported_text(otel)
    assert "Oslo" in exported  # content capture is on: the check below is not vacuous
    for secret in (API_KEY, API_KEY[8:]):
        assert secret not in exported

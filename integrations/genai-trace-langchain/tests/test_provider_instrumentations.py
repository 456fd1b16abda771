"""One span and one token count per model call when a provider instrumentation runs too.

Provider instrumentations emit their own span and token metrics for every OpenAI SDK call. Inside
our chat or embeddings run they must emit neither (suppressed for exactly that call), so a request
shows one span and one token count per model call; outside our runs they keep working. Checked
against the two families we suppress: ``opentelemetry-instrumentation-genai-openai`` (built on
``opentelemetry-util-genai``) and OpenLLMetry's ``opentelemetry-instrumentation-openai``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from openai_wire import OpenAIWire, chat_completion, chat_stream, embeddings, usage

from genai_trace_core import semconv
from genai_trace_core.testing import (
    OTelHarness,
    ProviderInstrumentation,
)
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings

langchain_openai = pytest.importorskip("langchain_openai")
openai = pytest.importorskip("openai")

API_KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"


def _wire() -> OpenAIWire:
    def reply(_: httpx.Request) -> httpx.Response:
        return chat_completion(
            response_id="chatcmpl-1",
            model="gpt-4o-mini",
            content="Paris.",
            token_usage=usage(30, 4),
        )

    return OpenAIWire(reply)


def _chain(wire: OpenAIWire) -> Any:
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=API_KEY,
        max_retries=0,
        http_client=wire.client(),
        http_async_client=wire.async_client(),
    )
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    return (prompt | model | StrOutputParser()).with_config(run_name="qa")


QA_TREE = [
    "invoke_workflow qa",
    "INTERNAL",
    "UNSET",
    [
        ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
        ["StrOutputParser", "INTERNAL", "UNSET", []],
    ],
]


def _input_tokens_by_scope(otel: OTelHarness) -> dict[str, float]:
    """Sum of ``gen_ai.client.token.usage`` input-token histograms, per instrumentation scope
    (our handlers here use the same v1.41 metric names as util-genai, as a dashboard sees them)."""
    out: dict[str, float] = {}
    data = otel.metric_reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name != semconv.METRIC_V141_TOKEN_USAGE:
                    continue
                for p in m.data.data_points:
                    if (p.attributes or {}).get(semconv.GEN_AI_TOKEN_TYPE) == "input":
                        out[sm.scope.name] = out.get(sm.scope.name, 0) + p.sum  # type: ignore[union-attr]
    return out


def _provider_spans(
    otel: OTelHarness, provider_instrumentation: ProviderInstrumentation
) -> list[str]:
    return [s.name for s in otel.spans_of_scope(provider_instrumentation.scope)]


def test_chat_inside_our_run_is_one_span_and_one_token_count_not_two(
    otel: OTelHarness, make_handler: Any, provider_instrumentation: ProviderInstrumentation
) -> None:
    handler = make_handler(metrics_naming="v1.41")
    wire = _wire()

    assert (
        _chain(wire).invoke({"question": "Capital of France?"}, {"callbacks": [handler]})
        == "Paris."
    )

    assert len(wire.requests) == 1
    assert shape(otel.tree()) == [QA_TREE]
    assert _provider_spans(otel, provider_instrumentation) == []
    assert list(_input_tokens_by_scope(otel).values()) == [30]


def test_streamed_chat_inside_our_run_is_one_span_and_one_token_count(
    otel: OTelHarness, make_handler: Any, provider_instrumentation: ProviderInstrumentation
) -> None:
    handler = make_handler(metrics_naming="v1.41")
    wire = OpenAIWire(
        chat_stream(
            response_id="chatcmpl-2",
            model="gpt-4o-mini",
            pieces=["Par", "is."],
            token_usage=usage(30, 4),
        )
    )
    chain = _chain(wire)

    pieces = list(chain.stream({"question": "Capital?"}, {"callbacks": [handler]}))

    assert "".join(pieces) == "Paris."
    assert shape(otel.tree()) == [QA_TREE]
    assert list(_input_tokens_by_scope(otel).values()) == [30]


def test_without_suppression_the_provider_span_nests_under_our_chat_span(
    otel: OTelHarness, make_handler: Any, provider_instrumentation: ProviderInstrumentation
) -> None:
    handler = make_handler(suppress_provider_spans=False, metrics_naming="v1.41")

    _chain(_wire()).invoke({"question": "Capital of France?"}, {"callbacks": [handler]})

    inner = [provider_instrumentation.chat_span, "CLIENT", "UNSET", []]
    chat = ["chat gpt-4o-mini", "CLIENT", "UNSET", [inner]]
    assert shape(otel.tree()) == [[*QA_TREE[:3], [QA_TREE[3][0], chat, QA_TREE[3][2]]]]
    assert _provider_spans(otel, provider_instrumentation) == [provider_instrumentation.chat_span]
    assert sorted(_input_tokens_by_scope(otel).values()) == [30, 30]  # counted twice


def test_provider_calls_outside_our_runs_are_still_traced_by_the_provider_instrumentation(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    provider_instrumentation: ProviderInstrumentation,
) -> None:
    wire = _wire()
    _chain(wire).invoke({"question": "first"}, {"callbacks": [handler]})
    client = openai.OpenAI(api_key=API_KEY, http_client=wire.client(), max_retries=0)

    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    assert _provider_spans(otel, provider_instrumentation) == [
        provider_instrumentation.chat_span
    ]  # the direct call only
    [direct] = otel.spans_of_scope(provider_instrumentation.scope)
    assert direct.parent is None


async def test_async_chat_inside_our_run_is_one_span(
    otel: OTelHarness, make_handler: Any, provider_instrumentation: ProviderInstrumentation
) -> None:
    handler = make_handler(metrics_naming="v1.41")
    wire = _wire()

    answer = await _chain(wire).ainvoke({"question": "Capital?"}, {"callbacks": [handler]})

    assert answer == "Paris."
    assert shape(otel.tree()) == [QA_TREE]
    assert list(_input_tokens_by_scope(otel).values()) == [30]


def test_traced_embeddings_are_one_span_with_the_providers_usage_when_published(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    provider_instrumentation: ProviderInstrumentation,
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:  # the provider bills 1000 tokens
        body = embeddings(dimensions=8)(request).json()
        body["usage"] = {"prompt_tokens": 1000, "total_tokens": 1000}
        return httpx.Response(200, json=body)

    wire = OpenAIWire(reply)
    embedder = langchain_openai.OpenAIEmbeddings(
        model="text-embedding-3-small",
        api_key=API_KEY,
        http_client=wire.client(),
        http_async_client=wire.async_client(),
    )

    vectors = trace_embeddings(embedder, handler=handler).embed_documents(["a b c", "d e"])

    assert [len(v) for v in vectors] == [8, 8]
    [span] = otel.tree()
    assert shape([span]) == [["embeddings text-embedding-3-small", "CLIENT", "UNSET", []]]
    # LangChain drops the provider's usage; a util-genai instrumentation hands it to our run.
    usage = (
        span["attributes"].get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
        or span["attributes"][semconv.USAGE_ESTIMATED_INPUT_TOKENS],
        span["attributes"][semconv.USAGE_SOURCE],
    )
    if provider_instrumentation.publishes_usage:
        assert usage == (1000, semconv.USAGE_SOURCE_PROVIDER)
    else:
        assert usage[1] == semconv.USAGE_SOURCE_ESTIMATED and usage[0] < 10

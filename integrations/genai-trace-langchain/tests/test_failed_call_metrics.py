"""A model call the provider fails (HTTP 500 on the real ``ChatOpenAI`` / ``OpenAIEmbeddings``):
the conventions still want its tokens recorded. No usage came back, so 0 input tokens, with
``error.type``, on the usage counter (modality ``unknown``) and on the per-operation token
histogram; nothing on the output-token histogram (no count to report)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openai_wire import OpenAIWire

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings

langchain_openai = pytest.importorskip("langchain_openai")
openai = pytest.importorskip("openai")

KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})


def _type_name(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def _points(otel: OTelHarness, name: str) -> list[tuple[Any, ...]]:
    return [
        (p["attributes"].get(semconv.ERROR_TYPE), p.get("count"), p.get("sum", p.get("value")))
        for p in otel.metrics().get(name, [])
    ]


def test_a_failed_chat_records_zero_input_tokens_with_its_error_type(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    chat = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=KEY,
        max_retries=0,
        http_client=OpenAIWire(_server_error).client(),
    )

    with pytest.raises(openai.InternalServerError) as raised:
        chat.invoke("Capital of France?", {"callbacks": [handler]})

    error_type = _type_name(raised.value)
    assert _points(otel, semconv.METRIC_OPERATION_INPUT_TOKENS) == [(error_type, 1, 0)]
    assert _points(otel, semconv.METRIC_USAGE_INPUT_TOKENS) == [(error_type, None, 0)]
    [counter] = otel.metrics()[semconv.METRIC_USAGE_INPUT_TOKENS]
    assert counter["attributes"][semconv.GEN_AI_TOKEN_MODALITY] == "unknown"
    assert _points(otel, semconv.METRIC_OPERATION_OUTPUT_TOKENS) == []
    [histogram] = otel.metrics()[semconv.METRIC_OPERATION_INPUT_TOKENS]
    assert histogram["attributes"][semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_failed_embeddings_record_zero_input_tokens_with_their_error_type(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    embedder = langchain_openai.OpenAIEmbeddings(
        model="text-embedding-3-small",
        api_key=KEY,
        max_retries=0,
        http_client=OpenAIWire(_server_error).client(),
    )

    with pytest.raises(openai.InternalServerError) as raised:
        trace_embeddings(embedder, handler=handler).embed_documents(["a b c"])

    assert _points(otel, semconv.METRIC_EMBEDDINGS_INPUT_TOKENS) == [
        (_type_name(raised.value), 1, 0)
    ]

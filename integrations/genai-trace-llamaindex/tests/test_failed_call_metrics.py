"""A model call the provider fails (HTTP 500 on the real LlamaIndex ``OpenAI`` /
``OpenAIEmbedding``): the conventions still want its tokens recorded. No usage came back, so 0
input tokens, with ``error.type``, on the usage counter (modality ``unknown``) and on the
per-operation token histogram; nothing on the output-token histogram (no count to report)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from li_openai_wire import API_KEY
from li_support import Instrument
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})


def _failing_client() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(_server_error))


def _type_name(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def _points(otel: OTelHarness, name: str) -> list[tuple[Any, ...]]:
    return [
        (p["attributes"].get(semconv.ERROR_TYPE), p.get("count"), p.get("sum", p.get("value")))
        for p in otel.metrics().get(name, [])
    ]


def test_a_failed_chat_records_zero_input_tokens_with_its_error_type(
    otel: OTelHarness, instrument: Instrument
) -> None:
    llm = OpenAI(model="gpt-4o-mini", api_key=API_KEY, http_client=_failing_client(), max_retries=0)
    instrument()

    with pytest.raises(openai.InternalServerError) as raised:
        llm.chat([ChatMessage(role="user", content="Capital of France?")])

    error_type = _type_name(raised.value)
    assert _points(otel, semconv.METRIC_OPERATION_INPUT_TOKENS) == [(error_type, 1, 0)]
    assert _points(otel, semconv.METRIC_USAGE_INPUT_TOKENS) == [(error_type, None, 0)]
    [counter] = otel.metrics()[semconv.METRIC_USAGE_INPUT_TOKENS]
    assert counter["attributes"][semconv.GEN_AI_TOKEN_MODALITY] == "unknown"
    assert _points(otel, semconv.METRIC_OPERATION_OUTPUT_TOKENS) == []


def test_failed_embeddings_record_zero_input_tokens_with_their_error_type(
    otel: OTelHarness, instrument: Instrument
) -> None:
    embed = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_key=API_KEY,
        http_client=_failing_client(),
        max_retries=0,
    )
    instrument()

    with pytest.raises(openai.InternalServerError) as raised:
        embed.get_text_embedding("Paris is the capital of France.")

    assert _points(otel, semconv.METRIC_EMBEDDINGS_INPUT_TOKENS) == [
        (_type_name(raised.value), 1, 0)
    ]

"""Contract: a model call the provider fails (HTTP 500 over OpenAI's wire format, on the real
LangChain ``ChatOpenAI``/``OpenAIEmbeddings`` and LlamaIndex ``OpenAI``/``OpenAIEmbedding``) still
has its tokens recorded, as the newest conventions ask. No usage came back, so: 0 input tokens,
with ``error.type``, on the per-operation token histogram (and, for a chat, on the usage counter
with modality ``unknown``); nothing on the output-token histogram, which has no count to take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openai_wire import OpenAIWire

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
pytest.importorskip("llama_index.llms.openai")
pytest.importorskip("llama_index.embeddings.openai")
import langchain_openai
import openai
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings
from genai_trace_llamaindex import LlamaIndexInstrumentor

KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
CHAT, EMBEDDINGS = "gpt-4o-mini", "text-embedding-3-small"


def _failing_client() -> httpx.Client:
    return OpenAIWire(
        httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})
    ).client()


def _langchain_chat(otel: OTelHarness) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    chat = langchain_openai.ChatOpenAI(
        model=CHAT, api_key=KEY, max_retries=0, http_client=_failing_client()
    )
    chat.invoke("Capital of France?", {"callbacks": [handler]})


def _langchain_embeddings(otel: OTelHarness) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    embedder = langchain_openai.OpenAIEmbeddings(
        model=EMBEDDINGS, api_key=KEY, max_retries=0, http_client=_failing_client()
    )
    trace_embeddings(embedder, handler=handler).embed_documents(["Paris is in France."])


def _llamaindex_chat(otel: OTelHarness) -> None:
    llm = OpenAI(model=CHAT, api_key=KEY, max_retries=0, http_client=_failing_client())
    with otel.instrumented(LlamaIndexInstrumentor()):
        llm.chat([ChatMessage(role="user", content="Capital of France?")])


def _llamaindex_embeddings(otel: OTelHarness) -> None:
    embed = OpenAIEmbedding(
        model=EMBEDDINGS, api_key=KEY, max_retries=0, http_client=_failing_client()
    )
    with otel.instrumented(LlamaIndexInstrumentor()):
        embed.get_text_embedding("Paris is in France.")


# call -> (the failing call, the per-operation input-token histogram it records on)
CALLS: dict[str, tuple[Callable[[OTelHarness], None], str]] = {
    "langchain-chat": (_langchain_chat, semconv.METRIC_OPERATION_INPUT_TOKENS),
    "langchain-embeddings": (_langchain_embeddings, semconv.METRIC_EMBEDDINGS_INPUT_TOKENS),
    "llamaindex-chat": (_llamaindex_chat, semconv.METRIC_OPERATION_INPUT_TOKENS),
    "llamaindex-embeddings": (_llamaindex_embeddings, semconv.METRIC_EMBEDDINGS_INPUT_TOKENS),
}


def _points(otel: OTelHarness, name: str) -> list[tuple[Any, ...]]:
    """(error.type, count, sum or value) of each data point of metric ``name``."""
    return [
        (p["attributes"].get(semconv.ERROR_TYPE), p.get("count"), p.get("sum", p.get("value")))
        for p in otel.metrics().get(name, [])
    ]


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_failed_model_call_records_zero_input_tokens_with_its_error_type(
    otel: OTelHarness, call: str
) -> None:
    fail, histogram = CALLS[call]

    with pytest.raises(openai.InternalServerError) as raised:
        fail(otel)

    error_type = f"{type(raised.value).__module__}.{type(raised.value).__qualname__}"
    [span] = otel.span_dicts()
    assert span["attributes"][semconv.ERROR_TYPE] == error_type
    assert _points(otel, histogram) == [(error_type, 1, 0)]
    [point] = otel.metrics()[histogram]
    assert point["attributes"][semconv.GEN_AI_REQUEST_MODEL] in (CHAT, EMBEDDINGS)
    if histogram == semconv.METRIC_OPERATION_INPUT_TOKENS:
        assert _points(otel, semconv.METRIC_USAGE_INPUT_TOKENS) == [(error_type, None, 0)]
        [counter] = otel.metrics()[semconv.METRIC_USAGE_INPUT_TOKENS]
        assert counter["attributes"][semconv.GEN_AI_TOKEN_MODALITY] == "unknown"
        assert _points(otel, semconv.METRIC_OPERATION_OUTPUT_TOKENS) == []

"""What LangChain drops of an OpenAI response, a util-genai provider instrumentation beside ours
hands back: ``ChatOpenAI`` streaming replaces the response id with its run id, and
``OpenAIEmbeddings`` drops the response model. With ``opentelemetry-instrumentation-genai-openai``
(suppressed inside our runs, it publishes what it saw into them) our spans carry both; with
OpenLLMetry's (it publishes nothing) they stay absent, never made up. (That what the framework
reported wins over what was published is shown in core's ``test_suppress``.)"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openai_wire import OpenAIWire, chat_stream, usage

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, ProviderInstrumentation
from genai_trace_langchain import OpenTelemetryCallbackHandler, trace_embeddings

langchain_openai = pytest.importorskip("langchain_openai")

KEY = "sk-test-Zq9xW2vK7mP4nR8sT1uY6bA3cD5eF0gH"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"


def _chat(wire: OpenAIWire) -> Any:
    return langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", api_key=KEY, max_retries=0, http_client=wire.client()
    )


def _only_span(otel: OTelHarness) -> dict[str, Any]:
    [span] = otel.span_dicts()
    return dict(span["attributes"])


def test_streamed_chat_gets_the_response_id_langchain_drops(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    provider_instrumentation: ProviderInstrumentation,
) -> None:
    wire = OpenAIWire(
        chat_stream(
            response_id="chatcmpl-streamed-7",
            model=RESPONSE_MODEL,
            pieces=["Par", "is."],
            token_usage=usage(30, 4),
        )
    )

    chunks = list(_chat(wire).stream("Capital of France?", {"callbacks": [handler]}))

    assert "".join(str(c.content) for c in chunks) == "Paris."
    a = _only_span(otel)
    assert a[semconv.GEN_AI_RESPONSE_MODEL] == RESPONSE_MODEL  # LangChain reports this one
    assert a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    if provider_instrumentation.publishes_usage:
        assert a[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-streamed-7"
    else:
        assert semconv.GEN_AI_RESPONSE_ID not in a


def _embeddings_reply(request: httpx.Request) -> httpx.Response:
    n = len(json.loads(request.content)["input"])
    return httpx.Response(
        200,
        json={
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": [0.5] * 4} for i in range(n)],
            "model": "text-embedding-3-small-v2",  # the served model: only the wire knows it
            "usage": {"prompt_tokens": 7, "total_tokens": 7},
        },
    )


def test_embeddings_get_the_response_model_langchain_drops(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    provider_instrumentation: ProviderInstrumentation,
) -> None:
    wire = OpenAIWire(_embeddings_reply)
    embedder = langchain_openai.OpenAIEmbeddings(
        model="text-embedding-3-small", api_key=KEY, max_retries=0, http_client=wire.client()
    )

    vectors = trace_embeddings(embedder, handler=handler).embed_documents(["a b", "c d e"])

    assert [len(v) for v in vectors] == [4, 4]
    a = _only_span(otel)
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "text-embedding-3-small"
    if provider_instrumentation.publishes_usage:
        assert a[semconv.GEN_AI_RESPONSE_MODEL] == "text-embedding-3-small-v2"
    else:
        assert semconv.GEN_AI_RESPONSE_MODEL not in a

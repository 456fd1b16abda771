"""Rate limits over the real client (``ChatOpenAI`` over ``httpx.MockTransport``): a 429 the SDK
retries is one successful chat span; a 429 with no retries left fails the span with the SDK's
error."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import Is, snapshot
from openai_clients import (
    RESPONSE_MODEL,
    chat_model,
)
from openai_wire import (
    OpenAIWire,
    chat_completion,
    rate_limited,
    usage,
)

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

pytest.importorskip("langchain_openai")


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
    model = chat_model(wire, clients, max_retries=2)

    assert model.invoke("hi", config={"callbacks": [handler]}).content == "ok"

    assert len(wire.requests) == 2  # the SDK retried inside the one model call
    assert wire.requests[1].headers["x-stainless-retry-count"] == "1"
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-after-429",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.audio.input_tokens": 0,
                    "gen_ai.usage.audio.output_tokens": 0,
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 1,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.8e-06,
                    "genai_trace.cost.output_usd": 6e-07,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 2.4e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            }
        ]
    )
    assert (
        semconv.ERROR_TYPE not in otel.metrics()[semconv.METRIC_INFERENCE_DURATION][0]["attributes"]
    )


def test_rate_limit_without_retries_left_fails_the_chat_span_with_the_sdk_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, clients: Any
) -> None:
    import openai

    wire = OpenAIWire(rate_limited())
    with pytest.raises(openai.RateLimitError) as raised:
        chat_model(wire, clients).invoke("hi", config={"callbacks": [handler]})

    # langchain-openai re-raises a subclass of the SDK's error (from 1.1; 1.0 raises the SDK's own)
    error = type(raised.value)
    error_type = f"{error.__module__}.{error.__qualname__}"
    message = str(raised.value)
    # the SDK's message quotes the provider's text (openai 2.x the whole body, 3.x its message)
    assert message.startswith("Error code: 429 - ") and "Rate limit reached" in message
    # capture off: the status code and the error code, never the provider's message text
    exported = "HTTP 429, code rate_limit_exceeded, message not captured: content capture is off"
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": Is(error_type),
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "genai_trace.framework": "langchain",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
                "status_description": Is(f"{error_type}: {exported}"),
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": Is(exported),
                            "exception.stacktrace": Is(f"... {error_type}: {exported}"),
                            "exception.type": Is(error_type),
                        },
                    }
                ],
            }
        ]
    )
    assert handler.telemetry.open_count() == 0

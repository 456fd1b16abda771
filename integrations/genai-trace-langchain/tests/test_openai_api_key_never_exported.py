"""The API key a real client sends (langchain-openai over ``httpx.MockTransport``) never reaches
any exported signal, content capture on, over chat, tool calls, streaming, errors and embeddings."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from openai_clients import (
    API_KEY,
    RESPONSE_MODEL,
    chat_model,
    embedder,
    get_weather,
)
from openai_wire import (
    OpenAIWire,
    chat_completion,
    chat_stream,
    embeddings,
    rate_limited,
    usage,
)

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import trace_embeddings

pytest.importorskip("langchain_openai")


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
    model = chat_model(wire, clients, stream_usage=True, model_kwargs={"user": "u-1"})

    reply = model.bind_tools([get_weather]).invoke("Weather in Oslo?", config=config)
    get_weather.invoke(reply.tool_calls[0], config=config)
    async for _ in model.astream("Summarise.", config=config):
        pass
    with contextlib.suppress(Exception):
        model.invoke("again", config=config)
    await trace_embeddings(embedder(wire, clients), handler=handler).aembed_query("Oslo")

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

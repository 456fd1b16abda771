"""OpenAI's wire format for the real LlamaIndex OpenAI clients over ``httpx.MockTransport``
(a uniquely named module shared by the tests that drive those clients: no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

API_KEY = "sk-test-secret-key-0123456789abcdef"
WORDS = ["Paris", " is", " the", " capital", "."]


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(WORDS)},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 42,
            "completion_tokens": 5,
            "total_tokens": 47,
            "prompt_tokens_details": {"cached_tokens": 10},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
    payload: dict[str, Any] = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        payload["usage"] = usage
    return f"data: {json.dumps(payload)}\n\n"


def _stream(body: dict[str, Any]) -> str:
    events = [_chunk({"role": "assistant", "content": ""})]
    events += [_chunk({"content": w}) for w in WORDS]
    events.append(_chunk({}, finish="stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(
            _chunk({}, usage={"prompt_tokens": 42, "completion_tokens": 5, "total_tokens": 47})
        )
    events.append("data: [DONE]\n\n")
    return "".join(events)


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.1 * (i + 1)] * 16}
            for i in range(len(inputs))
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)},
    }


def answer(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = json.loads(request.content)
    if request.url.path.endswith("/embeddings"):
        return httpx.Response(200, json=_embeddings(body))
    if body.get("stream"):
        return httpx.Response(
            200, text=_stream(body), headers={"content-type": "text/event-stream"}
        )
    return httpx.Response(200, json=_completion(body))


def openai_clients(
    serve: Callable[[httpx.Request], httpx.Response] = answer,
) -> tuple[OpenAI, OpenAIEmbedding]:
    """An OpenAI LLM and embedding model whose every request ``serve`` serves."""
    transport = httpx.MockTransport(serve)
    llm = OpenAI(
        model="gpt-4o-mini",
        api_key=API_KEY,
        temperature=0.2,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        max_retries=0,
    )
    embed = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_key=API_KEY,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        max_retries=0,
    )
    return llm, embed

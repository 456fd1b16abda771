"""A scripted OpenAI HTTP server for ``httpx.MockTransport``, answering in OpenAI's wire format.

Used by the ``test_openai_*.py`` tests (via ``openai_clients``) to drive langchain-openai's real
``ChatOpenAI`` and ``OpenAIEmbeddings`` (and the real ``openai`` SDK under them) with no network.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from typing import Any

import httpx

CREATED = 1_700_000_000
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """OpenAI's ``usage`` object (chat completions), with the token detail objects."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    *,
    response_id: str,
    model: str,
    content: str | None,
    token_usage: dict[str, Any],
    tool_calls: list[dict[str, Any]] | None = None,
) -> httpx.Response:
    """A non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["args"])},
            }
            for c in tool_calls
        ]
    body = {
        "id": response_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_wire",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": token_usage,
    }
    return httpx.Response(200, json=body)


def chat_stream(
    *, response_id: str, model: str, pieces: list[str], token_usage: dict[str, Any]
) -> httpx.Response:
    """A streamed completion as server-sent events, with ``stream_options.include_usage``: every
    chunk has ``"usage": null`` except the last one, which has no choices and the usage."""

    def chunk(choices: list[dict[str, Any]], chunk_usage: Any = None) -> str:
        body = {
            "id": response_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_wire",
            "choices": choices,
            "usage": chunk_usage,
        }
        return f"data: {json.dumps(body)}\n\n"

    def delta(d: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}]

    events = [chunk(delta({"role": "assistant", "content": "", "refusal": None}))]
    events += [chunk(delta({"content": p})) for p in pieces]
    events.append(chunk(delta({}, "stop")))
    events.append(chunk([], token_usage))
    events.append("data: [DONE]\n\n")
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content="".join(events).encode()
    )


def rate_limited() -> httpx.Response:
    """HTTP 429 as OpenAI sends it; ``retry-after-ms`` keeps the SDK's back-off to 1 ms."""
    return httpx.Response(
        429,
        headers={"retry-after-ms": "1", "x-request-id": "req_429"},
        json={
            "error": {
                "message": "Rate limit reached for gpt-4o-mini on requests per min (RPM).",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
    )


def _vector(index: int, dimensions: int) -> list[float]:
    return [((index + 1) * (j + 1)) % 7 / 7.0 for j in range(dimensions)]


def embeddings(dimensions: int) -> Callable[[httpx.Request], httpx.Response]:
    """An ``/embeddings`` answer built from the request: one vector per input, base64-encoded
    float32 when the SDK asks for ``encoding_format=base64`` (its default), usage counted from the
    token ids langchain-openai sends (it tokenizes with tiktoken before the call)."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        tokens = sum(len(i) if isinstance(i, list) else len(str(i).split()) for i in inputs)
        data = []
        for i in range(len(inputs)):
            vec = _vector(i, dimensions)
            value: Any = vec
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{dimensions}f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": value})
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    return reply


class OpenAIWire:
    """Answers each request with the next scripted reply and records every request. A reply
    builder (a callable) left as the last reply answers every further request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            return httpx.Response(500, json={"error": {"message": "no scripted reply"}})
        # A reply builder left last answers every further request (embeddings batches).
        last_builder = len(self.replies) == 1 and callable(self.replies[0])
        reply = self.replies[0] if last_builder else self.replies.pop(0)
        return reply(request) if callable(reply) else reply

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

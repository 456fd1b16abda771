"""Real LlamaIndex ``OpenAI(api_key=...)`` and ``OpenAIEmbedding(api_key=...)`` traced in every
capture mode: the key is never exported.

The key (and a bearer token in ``default_headers``, and a key-shaped value in
``additional_kwargs``) is searched for in the OTLP protobuf bytes of every span and log record and
in every metric attribute, after a chat, a streamed chat, a completion and a RAG query whose index
was built with the OpenAI embeddings. The OpenAI HTTP API is an ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from reliability_frameworks import llamaindex_instrumented
from reliability_support import otlp_bytes

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness

pytest.importorskip("llama_index.llms.openai")
pytest.importorskip("llama_index.embeddings.openai")
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI

API_KEY = "sk-proj-REL6llamaKEY0123456789abcdefghijklmnopqrstuv"
HEADER_TOKEN = "Bearer rel6-li-header-token-0123456789abcdef"
KWARG_KEY = "sk-REL6additionalKWARG0123456789abcdefghij"
SECRETS = (API_KEY, HEADER_TOKEN.split()[1], KWARG_KEY, "REL6llamaKEY", "REL6additionalKWARG")


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    payload = {
        "id": "chatcmpl-rel6",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n"


def _reply(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if request.url.path.endswith("/embeddings"):
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.1 * (i + 1)] * 8}
            for i in range(len(inputs))
        ]
        usage = {"prompt_tokens": 3, "total_tokens": 3}
        return httpx.Response(
            200,
            json={"object": "list", "data": data, "model": body["model"], "usage": usage},
        )
    if body.get("stream"):
        text = _chunk({"role": "assistant", "content": "Paris."}) + _chunk({}, "stop")
        return httpx.Response(
            200, text=text + "data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
        )
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-rel6",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Paris."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
        },
    )


def _metric_attributes(otel: OTelHarness) -> str:
    return json.dumps(
        [p["attributes"] for points in otel.metrics().values() for p in points], default=str
    )


@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"])
def test_llamaindex_openai_api_key_never_exported_in_any_capture_mode(
    otel: OTelHarness, mode: str
) -> None:
    transport = httpx.MockTransport(_reply)
    with httpx.Client(transport=transport) as client:
        llm = OpenAI(
            model="gpt-4o-mini",
            api_key=API_KEY,
            default_headers={"Authorization": HEADER_TOKEN, "X-Api-Key": API_KEY},
            additional_kwargs={"user": KWARG_KEY},
            http_client=client,
            max_retries=0,
        )
        embed = OpenAIEmbedding(
            model="text-embedding-3-small",
            api_key=API_KEY,
            default_headers={"Authorization": HEADER_TOKEN},
            http_client=client,
            max_retries=0,
        )
        with llamaindex_instrumented(otel, Settings(capture_mode=CaptureMode(mode))):
            chat = llm.chat([ChatMessage(role="user", content="What is the capital of France?")])
            streamed = "".join(
                r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content="Hi?")])
            )
            completion = llm.complete("The capital of France is")
            index = VectorStoreIndex.from_documents(
                [Document(text="Paris is the capital of France.")], embed_model=embed
            )
            index.set_index_id("capitals")
            answer = index.as_query_engine(llm=llm, similarity_top_k=1).query("Capital?")

    assert (chat.message.content, streamed, completion.text, str(answer)) == ("Paris.",) * 4
    spans = otel.spans()
    assert sorted({s.name for s in spans}) == [  # every path ran and was traced
        "CompactAndRefine.synthesize",
        "RetrieverQueryEngine.query",
        "chat gpt-4o-mini",
        "embeddings text-embedding-3-small",
        "retrieval capitals",
        "text_completion gpt-4o-mini",
    ]
    exported = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    metric_attrs = _metric_attributes(otel)
    assert metric_attrs != "[]"  # metrics were recorded: the scan below saw them
    for secret in SECRETS:
        assert secret.encode() not in exported, secret
        assert secret not in metric_attrs, secret
    if mode != "NO_CONTENT":  # content is there (spans or log records); only the secrets are not
        assert b"capital of France" in exported

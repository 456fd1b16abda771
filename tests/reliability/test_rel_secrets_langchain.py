"""A real ``ChatOpenAI(api_key=...)`` traced in every capture mode: the key is never exported.

The key (and a bearer token in ``default_headers``, and a key-shaped value in ``model_kwargs``)
is searched for in the OTLP protobuf bytes of every span and log record and in every metric
attribute. The OpenAI HTTP API is an ``httpx.MockTransport``: no network.
"""

from __future__ import annotations

import json

import httpx
import pytest
from reliability_support import otlp_bytes

from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
from langchain_openai import ChatOpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler

API_KEY = "sk-proj-REL6secretKEY0123456789abcdefghijklmnopqrstuv"
HEADER_TOKEN = "Bearer rel6-header-token-0123456789abcdef"
KWARG_KEY = "sk-REL6modelkwargsKEY0123456789abcdefghij"
SECRETS = (API_KEY, HEADER_TOKEN.split()[1], KWARG_KEY, "REL6secretKEY", "REL6modelkwargsKEY")


def _reply(request: httpx.Request) -> httpx.Response:
    body = {
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
    }
    return httpx.Response(200, json=body)


def _metric_attributes(otel: OTelHarness) -> str:
    return json.dumps(
        [p["attributes"] for points in otel.metrics().values() for p in points], default=str
    )


@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"])
def test_openai_api_key_never_exported_in_any_capture_mode(otel: OTelHarness, mode: str) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode=mode))
    with httpx.Client(transport=httpx.MockTransport(_reply)) as client:
        model = ChatOpenAI(
            model="gpt-4o-mini",
            api_key=API_KEY,  # type: ignore[arg-type]
            default_headers={"Authorization": HEADER_TOKEN, "X-Api-Key": API_KEY},
            model_kwargs={"user": KWARG_KEY},
            http_client=client,
        )
        reply = model.invoke("What is the capital of France?", config={"callbacks": [handler]})
    assert reply.content == "Paris."
    spans = otel.spans()
    assert [s.name for s in spans] == ["chat gpt-4o-mini"]
    exported = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    metric_attrs = _metric_attributes(otel)
    assert metric_attrs != "[]"  # metrics were recorded: the scan below saw them
    for secret in SECRETS:
        assert secret.encode() not in exported, secret
        assert secret not in metric_attrs, secret
    if mode in ("SPAN_ONLY", "SPAN_AND_EVENT"):  # content is there; only the secrets are not
        assert b"capital of France" in exported

"""A structured call whose answer fails validation (``as_structured_llm(cls).chat``/``achat``):
the one HTTP request succeeded, so its ERROR span and metrics still carry the provider's usage,
response model, id and cost (guarantees: "a failed model call is still counted"). The real
``llama_index.llms.openai.OpenAI`` over ``httpx.MockTransport``: no network."""

from __future__ import annotations

import asyncio
import json
from importlib import metadata
from typing import Any

import httpx
import pytest
from inline_snapshot import snapshot
from li_lifecycle import Lifecycle
from li_openai_wire import openai_clients
from li_support import Instrument
from llama_index.core import PromptTemplate
from llama_index.core.llms import ChatMessage
from packaging.version import Version
from pydantic import BaseModel, ValidationError

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning")

ANSWER = '{"name": "Bob", "age": "not a number"}'  # valid JSON, not a valid Person
MESSAGES = [ChatMessage(role="user", content="Who is Bob?")]


class Person(BaseModel):
    name: str
    age: int


def _answer(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
    finish = "stop"
    if body.get("tools"):  # older llama-index-llms-openai asks for a function call
        call = {"name": body["tools"][0]["function"]["name"], "arguments": ANSWER}
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
        }
        finish = "tool_calls"
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-invalid",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        },
    )


@pytest.mark.skipif(
    Version(metadata.version("llama-index-core")) < Version("0.13"),
    reason="llama-index-core 0.12 runs an invalid structured answer through its function-calling "
    "program's tool-output handling: the call ends in AttributeError inside StructuredLLM, not "
    "a ValidationError (test pins 0.13+)",
)
@pytest.mark.parametrize("method", ["chat", "achat", "structured_predict", "astructured_predict"])
def test_a_structured_call_whose_answer_fails_validation_keeps_the_calls_usage_and_cost(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    instrument()
    llm = openai_clients(_answer)[0]
    prompt = PromptTemplate("Who is {who}?")

    # a structured predict's failure was on no span (before 2026-12-06: its chat span was OK)
    with pytest.raises(ValidationError):
        if method == "chat":
            llm.as_structured_llm(Person).chat(MESSAGES)
        elif method == "achat":
            asyncio.run(llm.as_structured_llm(Person).achat(MESSAGES))
        elif method == "structured_predict":
            llm.structured_predict(Person, prompt, who="Bob")
        else:
            asyncio.run(llm.astructured_predict(Person, prompt, who="Bob"))

    lifecycle.check()
    (span,) = otel.snapshot_dicts()
    finish = span["attributes"].pop(s.GEN_AI_RESPONSE_FINISH_REASONS, None)
    assert finish in (["stop"], ["tool_calls"])  # the model's answer, by client version
    assert span == snapshot(
        {
            "name": "chat gpt-4o-mini",
            "kind": "CLIENT",
            "parent": None,
            "status": "ERROR",
            "attributes": {
                "error.type": "pydantic_core._pydantic_core.ValidationError",
                "gen_ai.operation.name": "chat",
                "gen_ai.output.type": "json",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.request.temperature": 0.2,
                "gen_ai.response.id": "chatcmpl-invalid",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 10,
                "genai_trace.cost.cache_read_usd": 0.0,
                "genai_trace.cost.input_usd": 1.5e-05,
                "genai_trace.cost.output_usd": 6e-06,
                "genai_trace.cost.source": "genai-prices",
                "genai_trace.cost.usd": 2.1e-05,
                "genai_trace.framework": "llama_index",
                "genai_trace.usage.source": "provider",
                "server.address": "api.openai.com",
                "server.port": 443,
            },
            "status_description": "pydantic_core._pydantic_core.ValidationError: "
            "message not captured: content capture is off",
            "events": [
                {
                    "name": "exception",
                    "attributes": {
                        "exception.message": "message not captured: content capture is off",
                        "exception.stacktrace": "... pydantic_core._pydantic_core."
                        "ValidationError: message not captured: content capture is off",
                        "exception.type": "pydantic_core._pydantic_core.ValidationError",
                    },
                }
            ],
        }
    )
    metrics = otel.metrics()
    counted = (s.METRIC_USAGE_INPUT_TOKENS, s.METRIC_USAGE_OUTPUT_TOKENS, s.METRIC_COST)
    assert {name: metrics.get(name) for name in counted} == snapshot(
        {
            "gen_ai.client.inference.usage.input_tokens": [
                {
                    "attributes": {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "server.address": "api.openai.com",
                        "server.port": 443,
                        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                        "error.type": "pydantic_core._pydantic_core.ValidationError",
                        "gen_ai.token.modality": "text",
                    },
                    "value": 100,
                }
            ],
            "gen_ai.client.inference.usage.output_tokens": [
                {
                    "attributes": {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "server.address": "api.openai.com",
                        "server.port": 443,
                        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                        "error.type": "pydantic_core._pydantic_core.ValidationError",
                        "gen_ai.token.modality": "text",
                    },
                    "value": 10,
                }
            ],
            "genai_trace.client.cost": [
                {
                    "attributes": {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "server.address": "api.openai.com",
                        "server.port": 443,
                        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                        "error.type": "pydantic_core._pydantic_core.ValidationError",
                    },
                    "value": 2.1e-05,
                }
            ],
        }
    )


def _valid(request: httpx.Request) -> httpx.Response:
    response = _answer(request)
    return httpx.Response(200, json=json.loads(response.content.replace(b"not a number", b"40")))


@pytest.mark.skipif(
    Version(metadata.version("llama-index-core")) < Version("0.13"),
    reason="llama-index-core 0.12 runs structured_predict's function-calling program with its own "
    "tool span (see test_structured_handoffs_templates.py)",
)
@pytest.mark.parametrize("method", ["structured_predict", "astructured_predict"])
def test_a_structured_predict_is_one_json_chat_span_with_the_answer_it_validated(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    instrument(capture_mode="SPAN_ONLY")
    llm, prompt = openai_clients(_valid)[0], PromptTemplate("Who is {who}?")
    if method == "structured_predict":
        person = llm.structured_predict(Person, prompt, who="Bob")
    else:
        person = asyncio.run(llm.astructured_predict(Person, prompt, who="Bob"))

    assert person == Person(name="Bob", age=40)
    lifecycle.check()
    (span,) = otel.span_dicts()
    attrs = span["attributes"]
    assert (span["name"], span["status"], attrs[s.GEN_AI_OUTPUT_TYPE]) == (
        "chat gpt-4o-mini",
        "UNSET",
        "json",
    )
    assert attrs[s.GEN_AI_INPUT_MESSAGES][0]["parts"][0]["content"] == "Who is Bob?"
    (answer,) = attrs[s.GEN_AI_OUTPUT_MESSAGES]
    assert "40" in json.dumps(answer["parts"])  # the answer (text or function call), as sent

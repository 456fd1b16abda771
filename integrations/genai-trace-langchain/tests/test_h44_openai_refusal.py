"""A model's refusal is its answer: with content captured, the chat span's output message carries
the refusal's text. Over the real client: langchain-openai's ``ChatOpenAI`` over
``httpx.MockTransport`` answering as OpenAI does when it refuses, on chat completions (the refusal
in ``AIMessage.additional_kwargs["refusal"]``, the content empty) and on the Responses API (a
``refusal`` content block). The conventions name no refusal part: it is a ``text`` part."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import httpx
import pytest
from inline_snapshot import snapshot
from langchain_core.prompts import ChatPromptTemplate
from lifecycle_checks import Lifecycle
from openai_clients import RESPONSE_MODEL, chat_model
from openai_wire import CREATED, OpenAIWire, usage
from packaging.version import Version
from pydantic import BaseModel

from genai_trace_core import CaptureMode
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")

REFUSAL = "I'm sorry, I can't help with that."


def _refused_completion() -> httpx.Response:
    """A ``chat.completion`` whose message is a refusal (``content`` null)."""
    message = {"role": "assistant", "content": None, "refusal": REFUSAL}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-refused",
            "object": "chat.completion",
            "created": CREATED,
            "model": RESPONSE_MODEL,
            "choices": [choice],
            "usage": usage(12, 9),
        },
    )


def _refused_response() -> httpx.Response:
    """A Responses API ``response`` whose message holds one ``refusal`` content block."""
    item = {
        "type": "message",
        "id": "msg_refused",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "refusal", "refusal": REFUSAL}],
    }
    return httpx.Response(
        200,
        json={
            "id": "resp_refused",
            "object": "response",
            "created_at": CREATED,
            "status": "completed",
            "model": RESPONSE_MODEL,
            "output": [item],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": 12,
                "output_tokens": 9,
                "total_tokens": 21,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        },
    )


class Answer(BaseModel):
    steps: list[str]


def test_chat_completions_refusal_is_the_output_message_text(
    otel: OTelHarness, make_handler: Any, clients: Any, lifecycle: Lifecycle
) -> None:
    handler = make_handler(capture_mode=CaptureMode.SPAN_ONLY)
    wire = OpenAIWire(_refused_completion())
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    chain = (prompt | chat_model(wire, clients)).with_config(run_name="ask")

    reply = chain.invoke({"question": "How do I pick a lock?"}, {"callbacks": [handler]})

    assert (reply.content, reply.additional_kwargs) == ("", {"refusal": REFUSAL})
    lifecycle.check()
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow ask",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "ask",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "ask",
                },
            },
            {
                "name": "ChatPromptTemplate",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "ChatPromptTemplate",
                    "genai_trace.run.type": "prompt",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "How do I pick a lock?"}],
                        }
                    ],
                    "gen_ai.operation.name": "chat",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [
                                {"type": "text", "content": "I'm sorry, I can't help with that."}
                            ],
                            "finish_reason": "stop",
                        }
                    ],
                    "gen_ai.prompt.variable.question": "How do I pick a lock?",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-refused",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.audio.input_tokens": 0,
                    "gen_ai.usage.audio.output_tokens": 0,
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.8e-06,
                    "genai_trace.cost.output_usd": 5.4e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 7.2e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
        ]
    )


def test_responses_api_refusal_block_is_the_output_message_text(
    otel: OTelHarness, make_handler: Any, clients: Any, lifecycle: Lifecycle
) -> None:
    handler = make_handler(capture_mode=CaptureMode.SPAN_ONLY)
    wire = OpenAIWire(_refused_response())
    model = chat_model(wire, clients, use_responses_api=True)

    reply = model.invoke("How do I pick a lock?", {"callbacks": [handler]})

    assert reply.content == [{"type": "refusal", "refusal": REFUSAL, "id": "msg_refused"}]
    lifecycle.check()
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "How do I pick a lock?"}],
                        }
                    ],
                    "gen_ai.operation.name": "chat",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [
                                {"type": "text", "content": "I'm sorry, I can't help with that."}
                            ],
                            "finish_reason": "stop",
                        }
                    ],
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "resp_refused",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.8e-06,
                    "genai_trace.cost.output_usd": 5.4e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 7.2e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            }
        ]
    )


@pytest.mark.skipif(
    Version(metadata.version("langchain-openai")) < Version("1.8"),
    reason="written against langchain-openai 1.8+ (its step names); not verified on older",
)
def test_structured_output_refusal_still_raises_and_the_chat_span_keeps_the_refusal(
    otel: OTelHarness, make_handler: Any, clients: Any, lifecycle: Lifecycle
) -> None:
    from langchain_openai.chat_models.base import OpenAIRefusalError

    handler = make_handler(capture_mode=CaptureMode.SPAN_ONLY)
    wire = OpenAIWire(_refused_completion())
    structured = chat_model(wire, clients).with_structured_output(Answer, method="json_schema")

    with pytest.raises(OpenAIRefusalError):
        structured.invoke("How do I pick a lock?", {"callbacks": [handler]})

    lifecycle.check()
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow",
                "kind": "INTERNAL",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "langchain_openai.chat_models.base.OpenAIRefusalError",
                    "gen_ai.operation.name": "invoke_workflow",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                },
                "status_description": (
                    "langchain_openai.chat_models.base.OpenAIRefusalError: "
                    "I'm sorry, I can't help with that."
                ),
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "I'm sorry, I can't help with that.",
                            "exception.stacktrace": (
                                "... langchain_openai.chat_models.base.OpenAIRefusalError: "
                                "I'm sorry, I can't help with that."
                            ),
                            "exception.type": (
                                "langchain_openai.chat_models.base.OpenAIRefusalError"
                            ),
                        },
                    }
                ],
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.input.messages": [
                        {
                            "role": "user",
                            "parts": [{"type": "text", "content": "How do I pick a lock?"}],
                        }
                    ],
                    "gen_ai.operation.name": "chat",
                    "gen_ai.output.messages": [
                        {
                            "role": "assistant",
                            "parts": [
                                {"type": "text", "content": "I'm sorry, I can't help with that."}
                            ],
                            "finish_reason": "stop",
                        }
                    ],
                    "gen_ai.output.type": "json",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-refused",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.audio.input_tokens": 0,
                    "gen_ai.usage.audio.output_tokens": 0,
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 1.8e-06,
                    "genai_trace.cost.output_usd": 5.4e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 7.2e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "_check_refusal",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "ERROR",
                "attributes": {
                    "error.type": "langchain_openai.chat_models.base.OpenAIRefusalError",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "_check_refusal",
                    "genai_trace.run.type": "chain",
                },
                "status_description": (
                    "langchain_openai.chat_models.base.OpenAIRefusalError: "
                    "I'm sorry, I can't help with that."
                ),
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "I'm sorry, I can't help with that.",
                            "exception.stacktrace": (
                                "... langchain_openai.chat_models.base.OpenAIRefusalError: "
                                "I'm sorry, I can't help with that."
                            ),
                            "exception.type": (
                                "langchain_openai.chat_models.base.OpenAIRefusalError"
                            ),
                        },
                    }
                ],
            },
        ]
    )

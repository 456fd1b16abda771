"""Every provider's usage payload (OpenAI chat and responses, Anthropic, Gemini, Bedrock, LangChain
and LlamaIndex wrappers, dicts and SDK objects) normalises to the same ``Usage``."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from openai.types import CompletionUsage
from openai.types.completion_usage import CompletionTokensDetails, PromptTokensDetails
from openai.types.responses import ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from genai_trace_core.records import Usage
from genai_trace_core.usage import normalize_usage


class GeminiModality(enum.Enum):  # stands in for google.genai.types.MediaModality
    TEXT = "TEXT"
    AUDIO = "AUDIO"


OPENAI_CHAT = {
    "prompt_tokens": 1200,
    "completion_tokens": 300,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 128, "audio_tokens": 0},
}


OPENAI_CHAT_USAGE = Usage(
    input_tokens=1200,
    output_tokens=300,
    cache_read_input_tokens=1024,
    reasoning_output_tokens=128,
    modalities={"audio": {"input_tokens": 0, "output_tokens": 0}},
)


CASES: list[tuple[str, Any, Usage]] = [
    ("openai-chat-dict", OPENAI_CHAT, OPENAI_CHAT_USAGE),
    (
        "openai-chat-sdk-object",
        CompletionUsage(
            prompt_tokens=1200,
            completion_tokens=300,
            total_tokens=1500,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=1024, audio_tokens=0),
            completion_tokens_details=CompletionTokensDetails(reasoning_tokens=128, audio_tokens=0),
        ),
        OPENAI_CHAT_USAGE,
    ),
    (
        "openai-chat-whole-response",
        {"id": "chatcmpl-1", "model": "gpt-4o", "choices": [], "usage": OPENAI_CHAT},
        OPENAI_CHAT_USAGE,
    ),
    (
        "openai-chat-audio",
        {
            "prompt_tokens": 50,
            "completion_tokens": 40,
            "prompt_tokens_details": {"audio_tokens": 30},
            "completion_tokens_details": {"audio_tokens": 35},
        },
        Usage(
            input_tokens=50,
            output_tokens=40,
            modalities={"audio": {"input_tokens": 30, "output_tokens": 35}},
        ),
    ),
    (
        "openai-responses-sdk-object",
        ResponseUsage(
            input_tokens=2000,
            output_tokens=700,
            total_tokens=2700,
            input_tokens_details=InputTokensDetails(cached_tokens=1500, cache_write_tokens=0),
            output_tokens_details=OutputTokensDetails(reasoning_tokens=512),
        ),
        Usage(
            input_tokens=2000,
            output_tokens=700,
            cache_read_input_tokens=1500,
            cache_write_input_tokens=0,
            reasoning_output_tokens=512,
        ),
    ),
    (
        # Anthropic input_tokens excludes cache reads and writes: they are added in.
        "anthropic-dict-adds-cache-into-input",
        {
            "input_tokens": 21,
            "output_tokens": 393,
            "cache_creation_input_tokens": 188086,
            "cache_read_input_tokens": 1000,
        },
        Usage(
            input_tokens=21 + 188086 + 1000,
            output_tokens=393,
            cache_read_input_tokens=1000,
            cache_write_input_tokens=188086,
        ),
    ),
    (
        "anthropic-sdk-message-object",
        SimpleNamespace(
            id="msg_1",
            model="claude-sonnet-4",
            usage=SimpleNamespace(
                input_tokens=10,
                output_tokens=5,
                cache_creation_input_tokens=None,
                cache_read_input_tokens=90,
                server_tool_use=None,
            ),
        ),
        Usage(input_tokens=100, output_tokens=5, cache_read_input_tokens=90),
    ),
    (
        "anthropic-stream-message-delta-output-only",
        {"output_tokens": 57},
        Usage(output_tokens=57),
    ),
    (
        # LangChain already includes cache in input_tokens: nothing is added.
        "langchain-usage-metadata-no-double-add",
        {
            "input_tokens": 1200,
            "output_tokens": 300,
            "total_tokens": 1500,
            "input_token_details": {"cache_read": 1000, "cache_creation": 150, "audio": 10},
            "output_token_details": {"reasoning": 100, "audio": 20},
        },
        Usage(
            input_tokens=1200,
            output_tokens=300,
            cache_read_input_tokens=1000,
            cache_write_input_tokens=150,
            reasoning_output_tokens=100,
            modalities={"audio": {"input_tokens": 10, "output_tokens": 20}},
        ),
    ),
    (
        # langchain-anthropic with Anthropic's per-TTL breakdown: cache_creation 0, the writes
        # under the ephemeral keys (1.7.10's _create_usage_metadata); they are cache writes.
        "langchain-anthropic-cache-writes-by-ttl",
        {
            "input_tokens": 1100,
            "output_tokens": 20,
            "total_tokens": 1120,
            "input_token_details": {
                "cache_read": 0,
                "cache_creation": 0,
                "ephemeral_5m_input_tokens": 200,
                "ephemeral_1h_input_tokens": 800,
            },
        },
        Usage(
            input_tokens=1100,
            output_tokens=20,
            cache_read_input_tokens=0,
            cache_write_input_tokens=1000,
        ),
    ),
    (
        "langchain-no-cache-writes",
        {"input_tokens": 10, "output_tokens": 2, "input_token_details": {"cache_creation": 0}},
        Usage(input_tokens=10, output_tokens=2, cache_write_input_tokens=0),
    ),
    (
        "langchain-aimessage-object",
        AIMessage(
            content="hi",
            usage_metadata={
                "input_tokens": 12,
                "output_tokens": 3,
                "total_tokens": 15,
                "input_token_details": {"cache_read": 2},
            },
        ),
        Usage(input_tokens=12, output_tokens=3, cache_read_input_tokens=2),
    ),
    (
        "langchain-llm-output-token-usage",
        LLMResult(
            generations=[[ChatGeneration(message=AIMessage(content="x"))]],
            llm_output={
                "token_usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
            },
        ),
        Usage(input_tokens=9, output_tokens=4),
    ),
    (
        "gemini-usage-metadata-object-with-thoughts-and-modalities",
        SimpleNamespace(
            usage_metadata=SimpleNamespace(
                prompt_token_count=900,
                candidates_token_count=200,
                cached_content_token_count=600,
                thoughts_token_count=150,
                tool_use_prompt_token_count=None,
                total_token_count=1250,
                prompt_tokens_details=[
                    SimpleNamespace(modality=GeminiModality.TEXT, token_count=800),
                    SimpleNamespace(modality=GeminiModality.AUDIO, token_count=100),
                ],
                candidates_tokens_details=[
                    SimpleNamespace(modality=GeminiModality.TEXT, token_count=200)
                ],
                cache_tokens_details=None,
            )
        ),
        Usage(
            input_tokens=900,
            output_tokens=350,  # candidates + thoughts: thoughts are billed as output
            cache_read_input_tokens=600,
            reasoning_output_tokens=150,
            modalities={
                "text": {"input_tokens": 800, "output_tokens": 200},
                "audio": {"input_tokens": 100},
            },
        ),
    ),
    (
        "gemini-rest-camel-case-with-tool-use-prompt",
        {
            "usageMetadata": {
                "promptTokenCount": 40,
                "candidatesTokenCount": 10,
                "toolUsePromptTokenCount": 5,
                "totalTokenCount": 55,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 40}],
            }
        },
        Usage(input_tokens=45, output_tokens=10, modalities={"text": {"input_tokens": 40}}),
    ),
    (
        # Converse: inputTokens excludes cache; total = input + output + read + write.
        "bedrock-converse-adds-cache",
        {
            "output": {},
            "usage": {
                "inputTokens": 100,
                "outputTokens": 20,
                "totalTokens": 420,
                "cacheReadInputTokens": 250,
                "cacheWriteInputTokens": 50,
            },
        },
        Usage(
            input_tokens=400,
            output_tokens=20,
            cache_read_input_tokens=250,
            cache_write_input_tokens=50,
        ),
    ),
    (
        # Same shape, but the total shows input already counted the cache: not added again.
        "bedrock-converse-total-shows-cache-already-in-input",
        {"inputTokens": 400, "outputTokens": 20, "totalTokens": 420, "cacheReadInputTokens": 250},
        Usage(input_tokens=400, output_tokens=20, cache_read_input_tokens=250),
    ),
    (
        "bedrock-invocation-metrics",
        {
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 30,
                "outputTokenCount": 7,
                "invocationLatency": 400,
                "firstByteLatency": 100,
            }
        },
        Usage(input_tokens=30, output_tokens=7),
    ),
    (
        "bedrock-invoke-headers",
        {
            "headers": {
                "x-amzn-bedrock-input-token-count": "31",
                "x-amzn-bedrock-output-token-count": "8",
                "x-amzn-bedrock-cache-read-input-token-count": "4",
            }
        },
        Usage(input_tokens=35, output_tokens=8, cache_read_input_tokens=4),
    ),
    (
        "bedrock-meta-llama-body",
        {"generation": "hi", "prompt_token_count": 17, "generation_token_count": 6},
        Usage(input_tokens=17, output_tokens=6),
    ),
    (
        "cohere-v1-meta-prefers-billed-units",
        {
            "text": "hi",
            "meta": {
                "billed_units": {"input_tokens": 8, "output_tokens": 3},
                "tokens": {"input_tokens": 70, "output_tokens": 3},
            },
        },
        Usage(input_tokens=8, output_tokens=3),
    ),
    (
        "cohere-v2-usage-object",
        SimpleNamespace(
            usage=SimpleNamespace(
                billed_units=SimpleNamespace(input_tokens=5, output_tokens=2),
                tokens=SimpleNamespace(input_tokens=60, output_tokens=2),
            )
        ),
        Usage(input_tokens=5, output_tokens=2),
    ),
    (
        "mistral-openai-like",
        SimpleNamespace(
            usage=SimpleNamespace(prompt_tokens=11, completion_tokens=22, total_tokens=33)
        ),
        Usage(input_tokens=11, output_tokens=22),
    ),
    (
        "deepseek-cache-hit",
        {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "prompt_cache_hit_tokens": 64,
            "prompt_cache_miss_tokens": 36,
        },
        Usage(input_tokens=100, output_tokens=5, cache_read_input_tokens=64),
    ),
    (
        "ollama-response",
        {"model": "llama3", "done": True, "prompt_eval_count": 26, "eval_count": 290},
        Usage(input_tokens=26, output_tokens=290),
    ),
    (
        "groq-stream-x-groq",
        {"x_groq": {"id": "req", "usage": {"prompt_tokens": 4, "completion_tokens": 9}}},
        Usage(input_tokens=4, output_tokens=9),
    ),
    (
        "llamaindex-chat-response-raw",
        ChatResponse(
            message=ChatMessage(role="assistant", content="ok"),
            raw={"id": "x", "usage": {"prompt_tokens": 15, "completion_tokens": 15}},
        ),
        Usage(input_tokens=15, output_tokens=15),
    ),
    (
        "llamaindex-additional-kwargs",
        ChatResponse(
            message=ChatMessage(role="assistant", content="ok"),
            additional_kwargs={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        ),
        Usage(input_tokens=3, output_tokens=4),
    ),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_provider_payload_is_normalised(payload: Any, expected: Usage) -> None:
    assert normalize_usage(payload) == expected


def test_ready_usage_is_returned_as_is() -> None:
    usage = Usage(input_tokens=1, output_tokens=2)
    assert normalize_usage(usage) is usage

"""Contract: with ``GENAI_TRACE_MAX_SPAN_CONTENT=1200`` a RAG-style chain (a prompt with a long
retrieved ``context`` variable | the real ``ChatOpenAI`` over ``httpx.MockTransport`` | a parser)
still exports the answer on its chat span. The prompt variables (built at span start, after the
input messages) take at most half of the span's content, and the start side leaves a quarter for
the end: until this was fixed the context, once as an input message and once as a variable, took
the whole budget and ``gen_ai.output.messages`` was left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from genai_trace_core import get_settings, semconv, set_settings
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler

ANSWER = "Refunds are paid within 14 days."
LINE = "Policy {}: refunds are processed within fourteen days of the request. "
VAR = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX
MARKER = "…[truncated "
CONTENT = (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES)


@pytest.fixture
def budget_1200(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The program's environment: content on spans, 1200 characters of it per span."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    monkeypatch.setenv("GENAI_TRACE_MAX_SPAN_CONTENT", "1200")
    set_settings(None)
    yield
    set_settings(None)


def _reply(request: httpx.Request) -> httpx.Response:
    body = {
        "id": "chatcmpl-budget",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 300, "completion_tokens": 9, "total_tokens": 309},
    }
    return httpx.Response(200, json=body)


def _chat_span(otel: OTelHarness, lines: int) -> dict[str, Any]:
    settings = get_settings()
    assert settings.max_span_content == 1200
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(settings))
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context."), ("user", "{context}\n\nQuestion: {question}")]
    )
    context = "".join(LINE.format(i) for i in range(lines))
    with httpx.Client(transport=httpx.MockTransport(_reply)) as client:
        model = ChatOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test-budget",  # type: ignore[arg-type]
            http_client=client,
            max_retries=0,
        )
        chain = prompt | model | StrOutputParser()
        out = chain.invoke(
            {"context": context, "question": "How long do refunds take?"},
            config={"callbacks": [handler]},
        )
    assert out == ANSWER
    spans = otel.span_dicts(parse_json=False)
    names = [s["name"] for s in sorted(spans, key=lambda s: s["start"])]
    assert names == [
        "invoke_workflow",
        "ChatPromptTemplate",
        "chat gpt-4o-mini",
        "StrOutputParser",
    ]
    [root] = [s for s in spans if s["parent_id"] is None]
    [chat] = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    assert chat["parent_id"] == root["span_id"] and chat["status"] == "UNSET"
    attrs: dict[str, Any] = chat["attributes"]
    content = [v for k, v in attrs.items() if k in CONTENT or k.startswith(VAR)]
    assert sum(len(v) for v in content) <= 1200
    assert json.loads(attrs[semconv.GEN_AI_OUTPUT_MESSAGES]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": ANSWER}],
            "finish_reason": "stop",
        }
    ]
    assert attrs[semconv.CONTENT_TRUNCATED] is True
    return attrs


def test_a_retrieved_context_variable_is_cut_and_the_answer_kept(
    otel: OTelHarness, budget_1200: None
) -> None:
    attrs = _chat_span(otel, lines=7)  # ~540 characters of context
    context = attrs[VAR + "context"]
    assert context.startswith(LINE.format(0)) and MARKER in context  # cut, marked
    assert json.loads(attrs[semconv.GEN_AI_INPUT_MESSAGES])[0]["role"] == "system"


def test_a_context_longer_than_the_span_budget_still_leaves_the_answer(
    otel: OTelHarness, budget_1200: None
) -> None:
    attrs = _chat_span(otel, lines=60)  # ~4,300 characters of context
    assert MARKER in attrs[semconv.GEN_AI_INPUT_MESSAGES]
    assert not any(k.startswith(VAR) for k in attrs)  # no room left: dropped, and counted
    assert attrs[semconv.CONTENT_DROPPED] >= 2

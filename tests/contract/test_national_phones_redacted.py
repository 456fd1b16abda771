"""Contract: with ``GENAI_TRACE_REDACT=true`` a chain (a prompt | the real ``ChatOpenAI`` over
``httpx.MockTransport`` | a parser) that is given, and answers with, a customer's contacts exports
none of them in the OTLP bytes: national phone numbers written without a trunk ``0`` (India
``98765 43210``, Brazil ``(11) 91234-5678``, Spain ``612 34 56 78``, China ``138 0013 8000``), a
card with dot separators, a lowercase IBAN and an email with a quoted local part (all exported as
written until 2026-12-07; the IBAN half masked as a phone number), and a Chinese number right after
Han text. Order numbers, dates, a row of figures, figures of the same shapes (amounts, ranges,
counts, seasons) and JSON keys that start with ``@`` are kept (masked by the first version of
2026-12-07), with libphonenumber (the ``[redact]`` extra) or without it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from opentelemetry.trace import StatusCode
from reliability_support import otlp_bytes

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler

PHONES = ["98765 43210", "(11) 91234-5678", "612 34 56 78", "138 0013 8000"]
CARD = "4111.1111." + "1111.1111"
IBAN = "de89 3704 0044 " + "0532 0130 00"
EMAIL = '"john doe"' + "@example.com"
HAN = "手机号" + "13800138000"
KEPT = [
    "order 12345678", "on 2024-03-15", "sales 65000 72000 81000", "Jan 65000 72000",
    "salary 65000-72000", "budget 850 000 000 €", "15000000000 tokens", "Season 12 2023-2024",
    '{"displayName": "Jane", "@odata.type": "#microsoft.graph.user"}',
]  # fmt: skip
CONTACTS = " | ".join([*PHONES, CARD, IBAN, EMAIL, HAN, *KEPT])
MASKED = " | ".join(
    ["[REDACTED:phone]"] * 4
    + ["[REDACTED:card]", "[REDACTED:iban]", "[REDACTED:email]", "手机号[REDACTED:phone]", *KEPT]
)


def _reply(request: httpx.Request) -> httpx.Response:
    body = {
        "id": "chatcmpl-contacts",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"Saved: {CONTACTS}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 60, "completion_tokens": 40, "total_tokens": 100},
    }
    return httpx.Response(200, json=body)


def _content(span: Any, key: str) -> str:
    return str(json.loads(span.attributes[key])[-1]["parts"][0]["content"])


def test_national_phones_dotted_cards_lowercase_ibans_and_quoted_emails_are_not_exported(
    otel: OTelHarness,
) -> None:
    telemetry = otel.telemetry(capture_mode="SPAN_AND_EVENT", redact_builtin=True)
    handler = OpenTelemetryCallbackHandler(telemetry=telemetry)
    prompt = ChatPromptTemplate.from_messages([("user", "Save these contacts: {contacts}")])
    with httpx.Client(transport=httpx.MockTransport(_reply)) as client:
        model = ChatOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test-contacts",  # type: ignore[arg-type]
            http_client=client,
            max_retries=0,
        )
        out = (prompt | model | StrOutputParser()).invoke(
            {"contacts": CONTACTS}, config={"callbacks": [handler]}
        )
    assert out == f"Saved: {CONTACTS}"  # the program's own values are untouched
    spans = otel.spans()
    (chat,) = [s for s in spans if s.name == "chat gpt-4o-mini"]
    assert chat.status.status_code != StatusCode.ERROR
    assert _content(chat, semconv.GEN_AI_INPUT_MESSAGES) == f"Save these contacts: {MASKED}"
    assert _content(chat, semconv.GEN_AI_OUTPUT_MESSAGES) == f"Saved: {MASKED}"
    data = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    for value in [*PHONES, CARD, IBAN, "john doe", "1111.1111", "0532 0130", "13800138000"]:
        assert value.encode() not in data, value
    for value in KEPT[:-1]:  # the JSON one is exported JSON-escaped, compared above
        assert value.encode() in data, value

"""Exceptions on real LangChain paths are exported bounded, scrubbed and, with content capture off,
content-free (issue 13, item 8).

A JSON parser fails on a 5 MB answer; a tool raises with its arguments (and a URL with a password
and a ``?key=``) in the message; a real ``ChatOpenAI`` over ``httpx.MockTransport`` gets an HTTP
400 whose body echoes the prompt. The OTLP protobuf bytes of every span and log record are searched
for the planted answer, arguments, credentials and personal data; every span that started ended
and the OpenTelemetry SDK logged no error.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from reliability_support import captured_logs, otlp_bytes, with_ledger

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

GOOGLE_KEY = "AIzaSyA1234567890abcdefghijklmnopqrstu"
URL_PASSWORD = "hunter2-url-password"
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
ANSWER_MARK = "ANSWERSECRET"
ARG_MARK = "TOOLARGSECRET"
# 5 MB of "answer" that is not JSON, with personal data and a key at its start.
BIG_ANSWER = f"{ANSWER_MARK} {EMAIL} {CARD} {GOOGLE_KEY} " + "lorem ipsum " * 440_000


class StrictJsonParser(JsonOutputParser):
    """``JsonOutputParser`` without the partial-JSON repair, which is quadratic in the answer's
    length before langchain-core 1.1 (a 240 KB answer took 287 s there, untraced). It fails the
    way LangChain's does: ``OutputParserException("Invalid json output: <answer>")``."""

    def parse_result(self, result: list[Any], *, partial: bool = False) -> Any:
        text = result[0].text
        try:
            return json.loads(text)
        except ValueError as e:
            raise OutputParserException(f"Invalid json output: {text}", llm_output=text) from e


def _exported(otel: OTelHarness) -> bytes:
    return otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())


def _exception_events(otel: OTelHarness) -> list[dict[str, Any]]:
    return [
        dict(event.attributes or {})
        for span in otel.spans()
        for event in span.events
        if event.name == "exception"
    ]


def _exception_logs(otel: OTelHarness) -> list[dict[str, Any]]:
    return [
        dict(data.log_record.attributes or {})
        for data in otel.log_exporter.get_finished_logs()
        if data.log_record.event_name == semconv.EVENT_OPERATION_EXCEPTION
    ]


@pytest.mark.parametrize(
    ("mode", "redact"),
    [("NO_CONTENT", False), ("SPAN_ONLY", False), ("SPAN_AND_EVENT", True)],
)
def test_parser_failing_on_a_5mb_answer_exports_kilobytes_and_no_answer(
    otel: OTelHarness, mode: str, redact: bool
) -> None:
    ledger = with_ledger(otel)
    handler = OpenTelemetryCallbackHandler(
        telemetry=otel.telemetry(capture_mode=mode, redact_builtin=redact)
    )
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = prompt | FakeChatOpenAI(responses=[BIG_ANSWER]) | StrictJsonParser()
    with captured_logs("opentelemetry", logging.ERROR) as otel_errors:
        with pytest.raises(OutputParserException) as raised:
            chain.invoke({"q": "give me json"}, config={"callbacks": [handler]})
        exported = _exported(otel)
    assert ANSWER_MARK in str(raised.value)  # the app gets LangChain's exception untouched
    assert otel_errors == []
    assert ledger.open_spans() == [] and ledger.ended_more_than_once() == []
    assert len(ledger.started) == len(otel.spans()) >= 3
    # The answer is 5 MB: each exception keeps at most ~10 KB, span content 64 KB.
    assert len(exported) < 200_000, len(exported)
    events = _exception_events(otel)
    statuses = [s.status.description or "" for s in otel.spans() if not s.status.is_ok]
    exception_text = str(events) + str(statuses) + str(_exception_logs(otel))
    # Credentials in exception text: never, in any mode (in captured content they are masked
    # by GENAI_TRACE_REDACT, as before).
    assert "AIzaSyA1234567890" not in exception_text
    assert (EMAIL in exception_text) is (mode != "NO_CONTENT" and not redact)
    assert bool(_exception_logs(otel)) is (mode == "SPAN_AND_EVENT")
    if mode == "NO_CONTENT" or redact:
        assert GOOGLE_KEY.encode() not in exported
    assert events and all(
        e[semconv.EXCEPTION_TYPE].endswith("OutputParserException") for e in events
    )
    if mode == "NO_CONTENT":
        assert ANSWER_MARK.encode() not in exported and b"lorem ipsum" not in exported
        assert all("message not captured" in e[semconv.EXCEPTION_MESSAGE] for e in events)
    else:
        assert b"Invalid json output" in exported  # the scrubbed, cut message is there
    if mode == "NO_CONTENT" or redact:
        assert EMAIL.encode() not in exported and CARD.encode() not in exported
    assert statuses and all(len(d) <= 256 for d in statuses)


@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_AND_EVENT"])
def test_tool_raising_with_its_arguments_exports_no_arguments_and_no_credentials(
    otel: OTelHarness, mode: str
) -> None:
    ledger = with_ledger(otel)
    handler = OpenTelemetryCallbackHandler(
        telemetry=otel.telemetry(capture_mode=mode, redact_builtin=True)
    )

    @tool
    def lookup(text: str) -> str:
        """Look the text up."""
        url = f"https://svc:{URL_PASSWORD}@search.example.com/v1?key={GOOGLE_KEY}&q=1"
        raise ValueError(f"lookup of {text!r} for {EMAIL} failed at {url} \ud800")

    call = {"name": "lookup", "args": {"text": ARG_MARK}, "id": "call_1", "type": "tool_call"}
    model = FakeChatOpenAI(responses=[AIMessage("", tool_calls=[call])]).bind_tools([lookup])

    def agent(q: str) -> str:
        first = model.invoke([HumanMessage(q)])
        return str(lookup.invoke(first.tool_calls[0]))

    with captured_logs("opentelemetry", logging.ERROR) as otel_errors:
        with pytest.raises(ValueError, match=ARG_MARK):
            RunnableLambda(agent).invoke("find it", config={"callbacks": [handler]})
        exported = _exported(otel)
    assert otel_errors == []  # the lone surrogate did not make the encoder drop anything
    assert ledger.open_spans() == []
    for secret in (URL_PASSWORD, GOOGLE_KEY, EMAIL):
        assert secret.encode() not in exported, secret
    tool_span = next(s for s in otel.spans() if s.name == "execute_tool lookup")
    assert tool_span.attributes is not None
    assert tool_span.attributes[semconv.ERROR_TYPE] == "ValueError"
    (event,) = [e for e in tool_span.events if e.name == "exception"]
    assert event.attributes is not None
    message = str(event.attributes[semconv.EXCEPTION_MESSAGE])
    stack = str(event.attributes[semconv.EXCEPTION_STACKTRACE])
    assert "in lookup" in stack  # the frames are there
    if mode == "NO_CONTENT":
        assert ARG_MARK.encode() not in exported
        assert message == "message not captured: content capture is off"
        assert stack.endswith("ValueError: message not captured: content capture is off\n")
    else:
        assert ARG_MARK in message and "[REDACTED:email]" in message and "\ufffd" in message
        assert "key=[REDACTED]" in message and message in stack


def _bad_request(request: httpx.Request) -> httpx.Response:
    prompt = request.read().decode()
    return httpx.Response(
        400,
        json={
            "error": {
                "message": f"Invalid request: {prompt}",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "invalid_value",
            }
        },
    )


def test_real_chatopenai_http_error_exports_status_and_code_but_no_prompt(
    otel: OTelHarness,
) -> None:
    import openai

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    with httpx.Client(transport=httpx.MockTransport(_bad_request)) as client:
        model = ChatOpenAI(
            model="gpt-4o-mini", api_key="sk-test", http_client=client, max_retries=0
        )  # type: ignore[arg-type]
        with (
            captured_logs("opentelemetry", logging.ERROR) as otel_errors,
            pytest.raises(openai.BadRequestError, match="PROMPTSECRET"),
        ):
            model.invoke(f"PROMPTSECRET {EMAIL}", config={"callbacks": [handler]})
    exported = _exported(otel)
    assert otel_errors == []
    assert b"PROMPTSECRET" not in exported and EMAIL.encode() not in exported
    (span,) = otel.spans()
    assert span.attributes is not None
    # langchain-openai >= 1.1 raises its own subclass of openai.BadRequestError
    assert span.status.description == (
        f"{span.attributes[semconv.ERROR_TYPE]}: HTTP 400, code invalid_value, "
        "message not captured: content capture is off"
    )

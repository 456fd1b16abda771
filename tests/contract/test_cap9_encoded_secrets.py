"""Contract: a tool that searches the web with the user's question (httpx, over
``httpx.MockTransport``) and fails gets an HTTP error whose message quotes the URL, the question
percent-encoded in its query string. With content capture on, the OTLP bytes of every span and
log record hold none of the credentials pasted into the question, in either integration, and with
redaction on none of its personal data either (a bearer token, a URL password, a private key and
a nested ``&api_key=`` were exported percent-encoded until this was fixed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from reliability_support import otlp_bytes

from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")
from langchain_core.tools import tool
from llama_index.core.tools import FunctionTool

from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_llamaindex import LlamaIndexInstrumentor

BEARER = "tok" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PASSWORD = "Pg" + "S3cretPassw0rd"
KEY_BODY = "MIIEow" + "IBAAKCAQEA7bq9Xv2yLr8QzK1mNp3sT5uW8xYz"
QUERY_KEY = "qk" + "Zk29fj38dk4ls9"
EMAIL = "jane.doe" + "@example.org"
PHONE = "+44 20 7946 " + "0958"
QUESTION = (
    f"why does Authorization: Bearer {BEARER} fail on postgres://admin:{PASSWORD}@db:5432/app "
    f"with -----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY----- and "
    f"https://api.example.com/v1?q=x&api_key={QUERY_KEY}? mail {EMAIL} or call {PHONE}"
)
CREDENTIALS = [BEARER, PASSWORD, KEY_BODY, QUERY_KEY]
MODES = ["SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]


def _unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, request=request)


def search(query: str) -> str:
    """Search the web."""
    with httpx.Client(transport=httpx.MockTransport(_unavailable)) as client:
        response = client.get("https://search.example.com/api", params={"q": query})
        response.raise_for_status()
        return response.text


def _exported(otel: OTelHarness) -> bytes:
    return otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())


def _assert_absent(values: list[str], data: bytes) -> None:
    for value in values:
        for form in {value, quote_plus(value), quote(value, safe="")}:
            assert form.encode() not in data, value


def _langchain(otel: OTelHarness, mode: str, redact: bool) -> None:
    telemetry = otel.telemetry(capture_mode=mode, redact_builtin=redact)
    handler = OpenTelemetryCallbackHandler(telemetry=telemetry)
    with pytest.raises(httpx.HTTPStatusError):
        tool(search).invoke({"query": QUESTION}, config={"callbacks": [handler]})


def _llamaindex(otel: OTelHarness, mode: str, redact: bool) -> None:
    settings: Any = otel.telemetry(capture_mode=mode, redact_builtin=redact).settings
    with (
        otel.instrumented(LlamaIndexInstrumentor(), settings=settings),
        pytest.raises(httpx.HTTPStatusError),
    ):
        FunctionTool.from_defaults(search).call(query=QUESTION)


@pytest.mark.parametrize("redact", [False, True], ids=["redaction-off", "redaction-on"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("run", [_langchain, _llamaindex], ids=["langchain", "llamaindex"])
def test_a_failed_web_search_exports_no_credential_from_the_question(
    otel: OTelHarness, run: Any, mode: str, redact: bool
) -> None:
    run(otel, mode, redact)
    data = _exported(otel)
    assert b"search.example.com" in data  # the message was captured: it is what was searched
    _assert_absent(CREDENTIALS + ([EMAIL, PHONE] if redact else []), data)
    assert b"[REDACTED:bearer_token]" in data and b"[REDACTED:password]" in data

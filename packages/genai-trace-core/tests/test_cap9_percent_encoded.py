"""Credentials (always) and personal data (with redaction on) are masked where the exported text
holds them percent-encoded: a URL built from the user's question, quoted by an HTTP client's
error, passed as a tool argument or used as a document id.

``Bearer``, ``//user:password@``, ``-----BEGIN PRIVATE KEY-----``, a nested ``&api_key=`` and
an email are written ``Bearer+``, ``%2F%2Fuser%3Apw%40``, ``-----BEGIN+...``, ``%26api_key%3D``
and ``%40`` there; until this was fixed each of them was exported as is.
"""

from __future__ import annotations

import time
from urllib.parse import quote, quote_plus

import httpx
import pytest

from genai_trace_core import Settings
from genai_trace_core._settings import CaptureMode
from genai_trace_core.content import (
    ContentBudget,
    describe_exception,
    scrub_secret_text,
    serialize_documents,
    serialize_value,
)
from genai_trace_core.records import Document

BEARER = "tok" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PASSWORD = "Pg" + "S3cretPassw0rd"
KEY_BODY = "MIIEow" + "IBAAKCAQEA7bq9Xv2yLr8QzK1mNp3sT5uW8xYz"
QUERY_KEY = "qk" + "Zk29fj38dk4ls9"
EMAIL = "jane.doe" + "@example.org"
PHONE = "+44 20 7946 " + "0958"
CREDENTIALS = [BEARER, PASSWORD, KEY_BODY, QUERY_KEY]
PII = [EMAIL, PHONE, "7946 0958"]
QUESTION = (
    f"Authorization: Bearer {BEARER} and postgres://admin:{PASSWORD}@db.internal:5432/app "
    f"key -----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY----- "
    f"see https://api.example.com/v1/search?q=x&api_key={QUERY_KEY} mail {EMAIL} call {PHONE}"
)
ON = Settings(capture_mode=CaptureMode.SPAN_ONLY)
REDACTING = Settings(capture_mode=CaptureMode.SPAN_ONLY, redact_builtin=True)


def _forms(value: str) -> list[str]:
    return [value, quote_plus(value), quote(value, safe=""), quote(value)]


def _assert_none_of(values: list[str], text: str) -> None:
    for value in values:
        for form in _forms(value):
            assert form not in text, (value, text)


def _http_error() -> httpx.HTTPError:
    request = httpx.Request("GET", "https://search.example.com/api", params={"q": QUESTION})
    return httpx.ConnectError(f"cannot reach {request.url}", request=request)


def _status_error() -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://search.example.com/api", params={"q": QUESTION})
    response = httpx.Response(503, request=request)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as error:
        return error
    raise AssertionError("no error")


@pytest.mark.parametrize("make", [_http_error, _status_error])
def test_an_http_error_quoting_the_question_in_its_url_exports_no_credential(make: object) -> None:
    assert callable(make)
    error = make()
    exported = describe_exception(error, ON)
    for text in (exported.message, exported.stacktrace, exported.description):
        _assert_none_of(CREDENTIALS, text)
    assert "[REDACTED:bearer_token]" in exported.message
    assert "[REDACTED:password]" in exported.message
    assert "[REDACTED:private_key]" in exported.message
    redacted = describe_exception(error, REDACTING)
    for text in (redacted.message, redacted.stacktrace):
        _assert_none_of(CREDENTIALS + PII, text)


def test_a_chained_http_error_is_masked_in_the_cause_too() -> None:
    try:
        try:
            raise _http_error()
        except httpx.HTTPError as inner:
            raise RuntimeError("search failed") from inner
    except RuntimeError as outer:
        exported = describe_exception(outer, REDACTING)
    _assert_none_of(CREDENTIALS + PII, exported.stacktrace)


def test_tool_arguments_holding_an_encoded_url_are_masked() -> None:
    url = "https://search.example.com/api?q=" + quote_plus(QUESTION)
    for settings, hidden in ((ON, CREDENTIALS), (REDACTING, CREDENTIALS + PII)):
        text = serialize_value({"url": url, "page": 2}, ContentBudget(settings))
        assert text is not None and '"page":2' in text
        _assert_none_of(hidden, text)


def test_a_document_id_with_an_encoded_url_in_its_query_is_masked() -> None:
    nested = f"https://api.example.com/v1/docs?api_key={QUERY_KEY}&page=2"
    doc_id = "https://kb.example.com/view?next=" + quote(nested, safe="") + "&lang=en"
    for mode in (CaptureMode.SPAN_ONLY, CaptureMode.EVENT_ONLY):
        settings = Settings(capture_mode=mode)
        documents = [Document(id=doc_id, content="text", score=0.5)]
        text = serialize_documents(documents, ContentBudget(settings), include_content=False)
        assert text is not None and "lang=en" in text
        _assert_none_of([QUERY_KEY], text)


def test_encoded_text_without_credentials_is_exported_exactly_as_written() -> None:
    for text in (
        "GET https://example.com/search?q=caf%C3%A9+au+lait&page=2 failed",
        "100%25 sure, 50% off, %zz and %4",
        "https://example.com/a%20b?x=1%2B1",
    ):
        assert scrub_secret_text(text) == text
        assert serialize_value(text, ContentBudget(REDACTING)) == f'"{text}"'


@pytest.mark.parametrize(
    "text",
    ["%41" * 40_000, "a%41 " * 24_000, "%25" * 40_000, ("x" * 60 + "%2") * 2_000],
)
def test_pathological_encoded_text_is_scanned_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    scrub_secret_text(text)
    serialize_value(text, ContentBudget(REDACTING))
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("name", ["api_key", "token", "X-Amz-Signature"])
def test_a_url_given_as_a_parameter_has_its_own_secret_parameters_masked(name: str) -> None:
    text = f"redirect to https://a.example/?next=https://b.example/cb?{name}={QUERY_KEY}&x=1"
    masked = scrub_secret_text(text)
    assert QUERY_KEY not in masked and masked.endswith(f"?{name}=[REDACTED]&x=1")

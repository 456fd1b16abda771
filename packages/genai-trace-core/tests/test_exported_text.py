"""Exception text, national phone numbers and mapping keys: what core lets out (issue 13)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from genai_trace_core import CaptureMode, Operation, OperationKind, Settings, semconv
from genai_trace_core.content import describe_exception, serialize_value
from genai_trace_core.content._exceptions import MESSAGE_LIMIT, NOT_CAPTURED, STACK_LIMIT
from genai_trace_core.content._phones import _library, library_available
from genai_trace_core.content._redact import builtin_redact
from genai_trace_core.content._truncate import ContentBudget
from genai_trace_core.testing import OTelHarness

OFF = Settings()
ON = Settings(capture_mode=CaptureMode.SPAN_ONLY)
REDACTING = Settings(capture_mode=CaptureMode.SPAN_ONLY, redact_builtin=True)
_GOOGLE = "AIza" + "SyB1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R"
# Built here, so the traceback's source lines (code) do not repeat them.
_INNER = "ANSWERTEXT jane@example.com"
_OUTER = f"parse failed: ARGSTEXT https://u:pw123@h/x?key={_GOOGLE}"


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def _chained() -> BaseException:
    try:
        try:
            raise KeyError(_INNER)
        except KeyError as inner:
            raise ValueError(_OUTER) from inner
    except ValueError as outer:
        return outer


def test_capture_off_exports_type_frames_and_no_message_of_any_exception_in_the_chain() -> None:
    text = describe_exception(_chained(), OFF)
    assert text.type == "ValueError" and text.message == NOT_CAPTURED
    assert text.description == f"ValueError: {NOT_CAPTURED}"
    for leaked in ("ANSWERTEXT", "ARGSTEXT", "jane@", "pw123", _GOOGLE):
        assert leaked not in text.stacktrace + text.message
    assert f"KeyError: {NOT_CAPTURED}" in text.stacktrace
    assert "direct cause of the following exception" in text.stacktrace
    assert text.stacktrace.endswith(f"ValueError: {NOT_CAPTURED}\n")
    assert "in _chained" in text.stacktrace


def test_capture_on_exports_the_message_with_credentials_always_masked() -> None:
    plain, redacted = describe_exception(_chained(), ON), describe_exception(_chained(), REDACTING)
    assert (
        "ARGSTEXT" in plain.message
        and "pw123" not in plain.message
        and _GOOGLE not in plain.message
    )
    assert "key=[REDACTED]" in plain.message and "ANSWERTEXT jane@example.com" in plain.stacktrace
    assert "[REDACTED:email]" in redacted.stacktrace and "jane@" not in redacted.stacktrace


def test_provider_status_and_code_are_kept_with_capture_off() -> None:
    class APIError(Exception):
        status_code = 429
        code = "rate_limit_exceeded"

    class Odd(Exception):
        status_code = True
        code = "has spaces and PROMPT text"

    class Raising(Exception):
        @property
        def status_code(self) -> int:
            raise KeyError("no")

    assert describe_exception(APIError("PROMPT"), OFF).message == (
        f"HTTP 429, code rate_limit_exceeded, {NOT_CAPTURED}"
    )
    assert describe_exception(Odd("PROMPT"), OFF).message == NOT_CAPTURED
    assert describe_exception(Raising("PROMPT"), OFF).message == NOT_CAPTURED


def test_a_5mb_message_is_cut_without_reading_it_and_the_trace_is_bounded() -> None:
    error = _raised(ValueError("Invalid json output: " + "x" * 5_000_000))
    started = time.perf_counter()
    text = describe_exception(error, REDACTING)
    assert time.perf_counter() - started < 0.5
    assert len(text.message) <= MESSAGE_LIMIT and "[truncated" in text.message
    assert len(text.stacktrace) <= STACK_LIMIT and len(text.description) <= 256


def test_deep_recursion_cycles_surrogates_and_raising_str_are_handled() -> None:
    def down(n: int) -> None:
        if n == 0:
            raise RuntimeError("bottom \ud800")
        down(n - 1)

    deep = _raised(RuntimeError("x"))
    try:
        down(500)
    except RuntimeError as caught:
        deep = caught
    text = describe_exception(deep, ON)
    assert len(text.stacktrace) <= STACK_LIMIT and text.stacktrace.count("in down") <= 32
    assert "\ufffd" in text.message
    text.stacktrace.encode("utf-8")  # encodable

    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a  # a cycle
    assert describe_exception(a, ON).message == "a"

    class BadStr(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert describe_exception(BadStr(), ON).message == ""


def test_failed_runs_carry_our_exception_event_and_log_event(otel: OTelHarness) -> None:
    tel = otel.telemetry(capture_mode="SPAN_AND_EVENT", redact_builtin=True)
    tel.start("r", Operation(OperationKind.CHAT, request_model="m"))
    tel.fail("r", _raised(ValueError("for jane@example.com")))
    (span,) = otel.spans()
    (event,) = span.events
    assert event.name == "exception" and event.attributes is not None
    assert event.attributes[semconv.EXCEPTION_MESSAGE] == "for [REDACTED:email]"
    assert span.status.description == "ValueError: for [REDACTED:email]"
    (log,) = [
        d.log_record
        for d in otel.log_exporter.get_finished_logs()
        if d.log_record.event_name == semconv.EVENT_OPERATION_EXCEPTION
    ]
    assert log.attributes is not None
    assert (
        log.attributes[semconv.EXCEPTION_STACKTRACE]
        == event.attributes[semconv.EXCEPTION_STACKTRACE]
    )


NATIONAL = [
    "020 7946 0958", "030 12345678", "06 12 34 56 78", "020 123 4567", "4155550132",
    # no trunk 0: India, Brazil, Spain, China
    "98765 43210", "98765-43210", "(11) 91234-5678", "(11) 3456-7890", "11 91234-5678",
    "612 34 56 78", "612 345 678", "91 123 45 67", "138 0013 8000", "13800138000",
]  # fmt: skip
KEPT = [
    "order 12345678", "2024-03-15", "ORD-2024-000123", "ts 1700000000", "15/03/2024",
    "2024-03-15 10:30:00", "ms 1700000000000", "order 912345678",
    # a row of figures: the groups of a national number, between other numbers
    "sales 65000 72000 81000", "1 612 34 56 78 9", "2024 138 1234 8000 17",
    # figures with the shape of a number without a trunk 0: no phone word before them, a round
    # group, a unit or currency after them, two close groups
    "Jan 65000 72000", "zip codes 90210 90211", "salary 65000-72000", "ports 60000-61000",
    "850 000 000 €", "650 000 000 euros", "2023: 612 345 678 visitors", "15000000000 tokens",
    "order 13810345678", "id 19910045678", "Season 12 2023-2024", "Chapter 11 2019-2020",
]  # fmt: skip
# After Han text, or a phone word, the shapes that figures share are masked.
NEAR_WORDS = [
    ("手机号13800138000", "手机号[REDACTED:phone]"),
    ("联系电话13800138000。", "联系电话[REDACTED:phone]。"),
    ("我的手机是138 0013 8000", "我的手机是[REDACTED:phone]"),
    ("13800138000号码", "[REDACTED:phone]号码"),
    ("Mob: 98765-43210", "Mob: [REDACTED:phone]"),
    ("cel. 11 91234-5678", "cel. [REDACTED:phone]"),
    ("WhatsApp 15012345678", "WhatsApp [REDACTED:phone]"),
    ("98765 43210 y 612 34 56 78", "[REDACTED:phone] y [REDACTED:phone]"),
]


@pytest.fixture(params=["phonenumbers", "regex"])
def phone_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _library.cache_clear()
    if request.param == "regex":
        monkeypatch.setitem(sys.modules, "phonenumbers", None)  # import fails
    assert library_available() is (request.param == "phonenumbers")
    yield request.param
    _library.cache_clear()


@pytest.mark.parametrize("number", NATIONAL)
def test_national_phone_formats_are_masked(phone_backend: str, number: str) -> None:
    assert builtin_redact(f"call {number} today") == "call [REDACTED:phone] today"


@pytest.mark.parametrize("text", KEPT)
def test_numbers_that_are_not_phones_are_kept(phone_backend: str, text: str) -> None:
    assert builtin_redact(text) == text


@pytest.mark.parametrize(("text", "expected"), NEAR_WORDS)
def test_numbers_after_han_text_or_a_phone_word_are_masked(
    phone_backend: str, text: str, expected: str
) -> None:
    assert builtin_redact(text) == expected


def test_libphonenumber_rejects_what_the_shape_alone_would_mask() -> None:
    _library.cache_clear()
    assert library_available()
    assert builtin_redact("code 0000 000 000") == "code 0000 000 000"  # no such number anywhere
    for number in ("(10) 91234-5678", "899 99 99 99", "140 1234 5678"):  # BR, ES, CN
        assert builtin_redact(f"call {number}") == f"call {number}"


def test_pii_in_mapping_keys_is_redacted_and_colliding_keys_are_kept_apart() -> None:
    value = {"jane@example.com": 1, "bob@example.org": {"020 7946 0958": "x"}, "api_key": "k"}
    text = serialize_value(value, ContentBudget(REDACTING))
    assert text == (
        '{"[REDACTED:email]":1,"[REDACTED:email]#2":{"[REDACTED:phone]":"x"},"api_key":"[REDACTED]"}'
    )

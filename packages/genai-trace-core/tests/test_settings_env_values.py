"""Values a user may get wrong in the environment: each is read once, when the instrumentation
starts; an invalid one keeps its default (content capture stays off) and is said once, as a
WARNING on the ``genai_trace`` logger naming the variable."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from genai_trace_core import (
    Message,
    Operation,
    OperationKind,
    Outcome,
    TextPart,
    Usage,
    get_settings,
    semconv,
    set_settings,
)
from genai_trace_core.lifecycle import Telemetry
from genai_trace_core.testing import OTelHarness

SECOND = 1_000_000_000
VARIABLES = (
    semconv.ENV_CAPTURE_MESSAGE_CONTENT,
    semconv.ENV_EMIT_EVENT,
    "GENAI_TRACE_MAX_ATTRIBUTE_LENGTH",
    "GENAI_TRACE_MAX_SPAN_CONTENT",
    "GENAI_TRACE_METRICS_NAMING",
    "GENAI_TRACE_REGISTRY_MAX_SIZE",
    "GENAI_TRACE_REGISTRY_TTL_SECONDS",
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A program's environment: only what the test sets, read when the instrumentation starts."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    set_settings(None)
    yield monkeypatch
    set_settings(None)


def start(otel: OTelHarness) -> Telemetry:
    """What an instrumentor does: a Telemetry on the app's providers, settings from the env."""
    return Telemetry(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
        clock=otel.clock,
    )


def chat(question: str = "Where is my parcel?") -> Operation:
    return Operation(
        OperationKind.CHAT,
        provider="openai",
        request_model="gpt-4o-mini",
        input_messages=[Message("user", [TextPart(question)])],
    )


def answered() -> Outcome:
    return Outcome(raw_usage=Usage(input_tokens=10, output_tokens=5), response_model="gpt-4o-mini")


def abandoned(otel: OTelHarness) -> list[str]:
    return [
        s["name"]
        for s in otel.span_dicts()
        if s["attributes"].get(semconv.ERROR_TYPE) == semconv.ERROR_TYPE_ABANDONED
    ]


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if name in r.getMessage()]


def assert_warned_once(caplog: pytest.LogCaptureFixture, name: str, raw: str) -> None:
    [record] = warnings_about(caplog, name)
    assert record.levelno == logging.WARNING
    assert record.name.startswith("genai_trace")
    assert repr(raw) in record.getMessage()


# --- numbers --------------------------------------------------------------------------------------


def test_the_registry_ttl_takes_fractional_seconds(
    otel: OTelHarness, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("GENAI_TRACE_REGISTRY_TTL_SECONDS", "1.5")
    t = start(otel)
    t.start("young", chat())
    otel.clock.advance(SECOND)
    t.start("other", chat())  # "young" is 1 s old: kept
    otel.clock.advance(SECOND)
    t.start("last", chat())  # "young" is 2 s old: expired

    assert get_settings().registry_ttl_seconds == 1.5
    assert t.is_open("other") and not t.is_open("young")
    assert abandoned(otel) == ["chat gpt-4o-mini"]


@pytest.mark.parametrize(
    ("name", "raw", "field", "default"),
    [
        ("GENAI_TRACE_REGISTRY_MAX_SIZE", "0", "registry_max_size", 10_000),
        ("GENAI_TRACE_REGISTRY_MAX_SIZE", "-1", "registry_max_size", 10_000),
        ("GENAI_TRACE_REGISTRY_MAX_SIZE", "ten thousand", "registry_max_size", 10_000),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "0", "registry_ttl_seconds", 3600.0),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "-5", "registry_ttl_seconds", 3600.0),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "abc", "registry_ttl_seconds", 3600.0),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "nan", "registry_ttl_seconds", 3600.0),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "inf", "registry_ttl_seconds", 3600.0),
        ("GENAI_TRACE_MAX_ATTRIBUTE_LENGTH", "-1", "max_attribute_length", 8192),
        ("GENAI_TRACE_MAX_ATTRIBUTE_LENGTH", "8k", "max_attribute_length", 8192),
        ("GENAI_TRACE_MAX_SPAN_CONTENT", "-100", "max_span_content", 65536),
        ("GENAI_TRACE_MAX_SPAN_CONTENT", "1.5", "max_span_content", 65536),
    ],
)
def test_an_invalid_number_keeps_the_default_with_one_warning(
    otel: OTelHarness,
    environment: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    raw: str,
    field: str,
    default: float,
) -> None:
    environment.setenv(name, raw)
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        start(otel)
        set_settings(None)  # a second configure() reads the environment again: said once
        start(otel)

    assert getattr(get_settings(), field) == default
    assert_warned_once(caplog, name, raw)


@pytest.mark.parametrize(
    ("name", "raw", "field", "expected"),
    [
        ("GENAI_TRACE_SUPPRESS_PROVIDER_SPANS", "maybe", "suppress_provider_spans", True),
        ("GENAI_TRACE_HIDE_INTERNAL_SPANS", "sometimes", "hide_internal_spans", False),
        ("GENAI_TRACE_ESTIMATE_USAGE", "2", "estimate_usage", False),
        # a switch for redaction that cannot be read fails closed: redaction on
        ("GENAI_TRACE_REDACT", "enabled", "redact_builtin", True),
    ],
)
def test_an_invalid_switch_keeps_its_safe_value_with_one_warning(
    otel: OTelHarness,
    environment: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    raw: str,
    field: str,
    expected: bool,
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        for spelling, value in [("Off", False), ("NO", False), ("on", True), ("Yes", True)]:
            environment.setenv(name, spelling)
            set_settings(None)
            assert getattr(get_settings(), field) is value, spelling
        assert caplog.records == []
        environment.setenv(name, raw)
        start(otel)
        set_settings(None)
        start(otel)

    assert getattr(get_settings(), field) is expected
    assert_warned_once(caplog, name, raw)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("GENAI_TRACE_REGISTRY_MAX_SIZE", "0"),
        ("GENAI_TRACE_REGISTRY_MAX_SIZE", "-1"),
        ("GENAI_TRACE_REGISTRY_TTL_SECONDS", "0"),
    ],
)
def test_a_zero_registry_does_not_abandon_every_run(
    otel: OTelHarness, environment: pytest.MonkeyPatch, name: str, raw: str
) -> None:
    environment.setenv(name, raw)
    t = start(otel)
    t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    t.start("llm", chat(), parent_run_id="wf")
    t.end("llm", answered())
    t.end("wf")

    assert [s["name"] for s in otel.span_dicts()] == ["chat gpt-4o-mini", "invoke_workflow rag"]
    assert abandoned(otel) == []


def test_valid_numbers_are_taken_as_given(
    environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    environment.setenv("GENAI_TRACE_REGISTRY_MAX_SIZE", " 50 ")
    environment.setenv("GENAI_TRACE_REGISTRY_TTL_SECONDS", "90.5")
    environment.setenv("GENAI_TRACE_MAX_ATTRIBUTE_LENGTH", "0")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        s = get_settings()

    assert (s.registry_max_size, s.registry_ttl_seconds, s.max_attribute_length) == (50, 90.5, 0)
    assert caplog.records == []


# --- GENAI_TRACE_METRICS_NAMING -------------------------------------------------------------------


def token_metrics(otel: OTelHarness) -> list[str]:
    t = start(otel)
    t.start("llm", chat())
    t.end("llm", answered())
    return sorted(m for m in otel.metrics() if "token" in m)


def test_metrics_naming_is_case_insensitive(
    otel: OTelHarness, environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    environment.setenv("GENAI_TRACE_METRICS_NAMING", "V1.41")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        assert token_metrics(otel) == [semconv.METRIC_V141_TOKEN_USAGE]
    assert caplog.records == []


def test_an_unknown_metrics_naming_means_latest_with_one_warning(
    otel: OTelHarness, environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    environment.setenv("GENAI_TRACE_METRICS_NAMING", "v1.4l")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        names = token_metrics(otel)
        set_settings(None)
        start(otel)

    assert semconv.METRIC_USAGE_INPUT_TOKENS in names
    assert semconv.METRIC_V141_TOKEN_USAGE not in names
    assert_warned_once(caplog, "GENAI_TRACE_METRICS_NAMING", "v1.4l")


# --- OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT -------------------------------------------


def captured(otel: OTelHarness) -> bool:
    t = start(otel)
    t.start("llm", chat("Where is my parcel?"))
    t.end("llm", answered())
    [span] = otel.span_dicts()
    return "parcel" in str(span["attributes"])


def test_an_invalid_capture_mode_captures_nothing_with_one_warning(
    otel: OTelHarness, environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        # the older on/off switch: SPAN_ONLY or NO_CONTENT, no warning
        for raw, on in [("true", True), ("1", True), ("Yes", True), ("false", False)]:
            environment.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, raw)
            set_settings(None)
            otel.clear()
            assert captured(otel) is on, raw
        assert caplog.records == []

        environment.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPANONLY")
        set_settings(None)
        otel.clear()
        assert not captured(otel)
        set_settings(None)
        start(otel)

    assert_warned_once(caplog, semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPANONLY")
    message = warnings_about(caplog, semconv.ENV_CAPTURE_MESSAGE_CONTENT)[0].getMessage()
    for accepted in ("NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT", "true/false"):
        assert accepted in message


# --- OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT (end to end in the LangChain tests) --------------------


def test_emit_event_is_read_as_opentelemetry_util_genai_reads_it(
    environment: pytest.MonkeyPatch,
) -> None:
    table = [  # capture mode, OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT, events emitted
        ("NO_CONTENT", None, False),
        ("EVENT_ONLY", None, True),
        ("SPAN_ONLY", "true", True),
        ("NO_CONTENT", "TRUE", True),
        ("SPAN_AND_EVENT", "false", False),
        ("EVENT_ONLY", "perhaps", True),
        ("SPAN_ONLY", "perhaps", False),
    ]
    for mode, raw, emits in table:
        environment.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, mode)
        if raw is None:
            environment.delenv(semconv.ENV_EMIT_EVENT, raising=False)
        else:
            environment.setenv(semconv.ENV_EMIT_EVENT, raw)
        set_settings(None)
        assert get_settings().emits_events is emits, (mode, raw)

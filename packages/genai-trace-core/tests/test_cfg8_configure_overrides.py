"""``configure(**overrides)`` read as the environment variables are: a setting given as a string
works (``capture_mode="span_only"``, ``metadata_keys="a,b"``, ``metrics_naming="V1.41"``), and a
value of the wrong type or range keeps the setting's value with one WARNING naming the argument,
instead of silently losing every span (``capture_mode="SPAN_ONLY"`` used to make each span start
fail inside telemetry) or abandoning every run (``registry_max_size=0``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from genai_trace_core import (
    Message,
    Operation,
    OperationKind,
    Outcome,
    TextPart,
    Usage,
    configure,
    get_settings,
    semconv,
    set_settings,
)
from genai_trace_core.lifecycle import Telemetry
from genai_trace_core.testing import OTelHarness


@pytest.fixture(autouse=True)
def program_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "GENAI_TRACE_JSONL", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    set_settings(None)
    yield
    set_settings(None)


def run_program(otel: OTelHarness, **overrides: Any) -> list[dict[str, Any]]:
    """What a user's program does: ``configure(...)``, then an instrumentor starts (its
    Telemetry reads the settings), then one chat call inside a workflow."""
    providers = configure(set_global=False, console=False, jsonl_path="", **overrides)
    providers.shutdown()
    t = Telemetry(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        logger_provider=otel.logger_provider,
        clock=otel.clock,
    )
    t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="support"))
    chat = Operation(
        OperationKind.CHAT,
        provider="openai",
        request_model="gpt-4o-mini",
        input_messages=[Message("user", [TextPart("Where is my parcel?")])],
        metadata={"team": "ai", "order": 7},
    )
    t.start("llm", chat, parent_run_id="wf")
    t.end("llm", Outcome(raw_usage=Usage(input_tokens=10, output_tokens=5)))
    t.end("wf")
    return otel.span_dicts()


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def names_and_parents(spans: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    by_id = {s["span_id"]: s["name"] for s in spans}
    return sorted((s["name"], by_id.get(s["parent_id"])) for s in spans)


def test_settings_given_as_strings_take_effect_as_their_variables_do(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        spans = run_program(
            otel,
            capture_mode="span_only",
            metadata_keys="team, order",
            metrics_naming="V1.41",
            hide_internal_spans="false",
            registry_max_size=" 50",
            registry_ttl_seconds="30.5",
            max_attribute_length="100",
        )

    assert warnings(caplog) == []
    assert names_and_parents(spans) == [
        ("chat gpt-4o-mini", "invoke_workflow support"),
        ("invoke_workflow support", None),
    ]
    chat = next(s for s in spans if s["name"] == "chat gpt-4o-mini")
    assert chat["attributes"][semconv.GEN_AI_INPUT_MESSAGES] == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is my parcel?"}]}
    ]
    assert chat["attributes"]["genai_trace.metadata.team"] == "ai"
    assert chat["attributes"]["genai_trace.metadata.order"] == "7"
    assert semconv.METRIC_V141_TOKEN_USAGE in otel.metrics()
    assert get_settings().metadata_keys == ("team", "order")
    numbers = get_settings()
    assert (numbers.registry_max_size, numbers.registry_ttl_seconds) == (50, 30.5)
    assert numbers.max_attribute_length == 100


@pytest.mark.parametrize(
    ("override", "value", "kept"),
    [
        ("capture_mode", 3, "NO_CONTENT"),
        ("capture_mode", "SPANS", "NO_CONTENT"),
        ("registry_max_size", 0, 10_000),
        ("registry_max_size", "ten", 10_000),
        ("registry_max_size", "0", 10_000),
        ("registry_ttl_seconds", float("nan"), 3600.0),
        ("registry_ttl_seconds", "inf", 3600.0),
        ("max_attribute_length", -1, 8192),
        ("metrics_naming", "v1.4l", "latest"),
        ("metadata_keys", 42, ()),
        ("hide_internal_spans", "perhaps", False),
        ("redactor", "no", None),
    ],
)
def test_an_invalid_override_keeps_the_setting_with_one_warning_and_every_span(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture, override: str, value: Any, kept: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        spans = run_program(otel, **{override: value})
        configure(set_global=False, console=False, jsonl_path="", **{override: value}).shutdown()

    assert names_and_parents(spans) == [
        ("chat gpt-4o-mini", "invoke_workflow support"),
        ("invoke_workflow support", None),
    ]
    assert all(semconv.ERROR_TYPE not in s["attributes"] for s in spans)  # none abandoned
    assert not any("parcel" in str(s["attributes"]) for s in spans)
    current = getattr(get_settings(), override)
    assert getattr(current, "value", current) == kept
    [message] = warnings(caplog)
    assert f"configure({override}={value!r}) is not valid" in message


def test_an_invalid_capture_mode_turns_capture_off_even_when_the_variable_turned_it_on(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fails closed, as the variable does: a typo never leaves content captured.
    monkeypatch.setenv(semconv.ENV_CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        spans = run_program(otel, capture_mode="SPAN_ONYL")

    assert get_settings().capture_mode.value == "NO_CONTENT"
    assert not any("parcel" in str(s["attributes"]) for s in spans)
    [message] = warnings(caplog)
    assert "configure(capture_mode='SPAN_ONYL') is not valid" in message
    assert "NO_CONTENT" in message


def test_an_unreadable_redaction_switch_turns_redaction_on(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        run_program(otel, redact_builtin="maybe")

    assert get_settings().redact_builtin is True
    [message] = warnings(caplog)
    assert "redact_builtin" in message


def test_an_invalid_metrics_naming_keeps_the_one_the_variable_chose(
    otel: OTelHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_TRACE_METRICS_NAMING", "v1.41")
    with caplog.at_level(logging.WARNING, logger="genai_trace"):
        run_program(otel, metrics_naming="v9")

    assert get_settings().metrics_naming == "v1.41"
    assert semconv.METRIC_V141_TOKEN_USAGE in otel.metrics()
    [message] = warnings(caplog)
    assert "configure(metrics_naming='v9') is not valid" in message
    assert message.endswith("using v1.41")

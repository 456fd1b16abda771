"""The collector's redaction (otelcol/config.yaml, transform/redact) on what genai-trace really
emits: a LangChain chat call with content capture on, its log event's attributes run through the
log group's OTTL statements as the collector applies them (``flatten``, then
``replace_all_patterns`` on top-level string values). No collector binary runs here
(stack/README.md, "What was run here"); the OTTL semantics emulated are the two functions'
documented ones.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from stack_support import STACK, load_yaml

from genai_trace_core import get_settings
from genai_trace_core._settings import CaptureMode
from genai_trace_core.testing import InMemoryLogRecordExporter
from genai_trace_langchain import LangChainInstrumentor
from genai_trace_langchain.testing import FakeChatOpenAI

PII = ("bob@corp.io", "jane.doe@example.com", "4111 1111 1111 1111")
KEY = "sk-proj-abcdefghijklmnop1234"  # masked by genai-trace itself, before any collector
STATEMENT = re.compile(r'(flatten|replace_all_patterns)\((\w+)(?:, "value", "(.*)", "(.*)")?\)(.*)')


def _log_statements() -> list[str]:
    transform = load_yaml(STACK / "otelcol" / "config.yaml")["processors"]["transform/redact"]
    [group] = transform["log_statements"]
    return list(group["statements"])


def _flatten(value: Mapping[str, Any]) -> dict[str, Any]:
    """OTTL ``flatten``: nested maps and lists (and maps inside lists) become dotted keys."""
    out: dict[str, Any] = {}

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, Mapping):
            for k, item in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), item)
        elif isinstance(v, Sequence) and not isinstance(v, (str, bytes)):
            for i, item in enumerate(v):
                walk(f"{prefix}.{i}", item)
        else:
            out[prefix] = v

    walk("", value)
    return out


def apply_log_group(attributes: Mapping[str, Any], statements: list[str]) -> dict[str, Any]:
    """The attribute statements of the log group, in order (body statements skipped)."""
    attrs: dict[str, Any] = dict(attributes)
    for statement in statements:
        if not statement.startswith(("flatten(attributes", "replace_all_patterns(attributes")):
            continue  # the body statements
        m = STATEMENT.fullmatch(statement)
        assert m, statement
        func, _, pattern, replacement, where = m.groups()
        assert not where, statement
        if func == "flatten":
            attrs = _flatten(attrs)
            continue
        regex = re.compile(pattern.replace("\\\\", "\\"))
        attrs = {
            k: regex.sub(replacement, v) if isinstance(v, str) else v for k, v in attrs.items()
        }
    return attrs


def _leaks(attributes: Mapping[str, Any]) -> list[str]:
    text = repr(attributes)
    return [p for p in PII if p in text]


def genai_event_attributes() -> dict[str, Any]:
    """The inference-details event of one captured LangChain chat call carrying PII."""
    exporter = InMemoryLogRecordExporter()
    logs = LoggerProvider()
    logs.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(),
        logger_provider=logs,
        settings=dataclasses.replace(get_settings(), capture_mode=CaptureMode.EVENT_ONLY),
    )
    try:
        chat = FakeChatOpenAI(
            model="gpt-4o-mini",
            answer_fn=lambda _: f"Sure, I will mail jane.doe@example.com with key {KEY}.",
        )
        chat.invoke("My card is 4111 1111 1111 1111, mail me at bob@corp.io")
    finally:
        instrumentor.uninstrument()
        logs.shutdown()
    [record] = [
        r
        for r in exporter.get_finished_logs()
        if "gen_ai.input.messages" in (r.log_record.attributes or {})
    ]
    return dict(record.log_record.attributes or {})


def test_redaction_reaches_message_content_nested_in_genai_log_events() -> None:
    attributes = genai_event_attributes()
    # The content really is nested (a list of maps of lists), and really carries the PII.
    assert not isinstance(attributes["gen_ai.input.messages"], str)
    assert sorted(_leaks(attributes)) == sorted(PII)
    # Credentials never reach the collector, whatever its configuration (redaction off here).
    assert KEY not in repr(attributes)
    assert "with key [REDACTED:openai_key]." in repr(attributes)
    redacted = apply_log_group(attributes, _log_statements())
    assert _leaks(redacted) == []
    assert redacted["gen_ai.input.messages.0.parts.0.content"] == (
        "My card is <redacted:card>, mail me at <redacted:email>"
    )
    assert redacted["gen_ai.input.messages.0.role"] == "user"
    assert redacted["gen_ai.request.model"] == "gpt-4o-mini"


def test_without_flatten_the_same_statements_leave_nested_content_unredacted() -> None:
    """The defect the stack once shipped: top-level replace_all_patterns only."""
    attributes = genai_event_attributes()
    top_level_only = [s for s in _log_statements() if not s.startswith("flatten")]
    assert sorted(_leaks(apply_log_group(attributes, top_level_only))) == sorted(PII)


def test_body_statements_cover_map_and_string_bodies_with_the_same_patterns() -> None:
    statements = _log_statements()
    assert statements[:2] == ["flatten(attributes)", "flatten(body) where IsMap(body)"]

    def patterns(prefix: str, suffix: str) -> list[str]:
        return [
            STATEMENT.fullmatch(s).group(3)
            for s in statements
            if s.startswith(prefix) and s.endswith(suffix)
        ]  # type: ignore[union-attr]

    on_attributes = patterns("replace_all_patterns(attributes", ")")
    assert len(on_attributes) == 5
    assert patterns("replace_all_patterns(body", "where IsMap(body)") == on_attributes
    strings = [s for s in statements if s.startswith("replace_pattern(body")]
    assert [re.search(r'"(.*)", "<', s).group(1) for s in strings] == on_attributes  # type: ignore[union-attr]
    assert all(s.endswith("where IsString(body)") for s in strings)

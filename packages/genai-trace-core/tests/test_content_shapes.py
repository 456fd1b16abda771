"""Captured content takes the semconv shapes (messages of every part type, tool definitions,
documents, tool arguments, event content) and follows the capture mode; binary data and URI
credentials are never exported."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from genai_trace_core import CaptureMode, Settings, semconv
from genai_trace_core.content import (
    ContentBudget,
    build_content_attributes,
    build_event_content,
    build_outcome_content,
    capture_enabled,
    messages_as_dicts,
    serialize_documents,
    serialize_messages,
    serialize_parts,
    serialize_tool_definitions,
    serialize_value,
)

# internal: the structured values behind the attribute strings (compared with them)
from genai_trace_core.content._capture import build_content_values, build_outcome_values
from genai_trace_core.records import (
    BlobPart,
    Document,
    Message,
    Operation,
    OperationKind,
    Outcome,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
    UriPart,
)

ON = Settings(capture_mode=CaptureMode.SPAN_ONLY)


FAKE_KEY = "sk-proj-" + "Qw3Er4Ty5U" * 4


def budget(**overrides: Any) -> ContentBudget:
    return ContentBudget(ON.with_overrides(**overrides))


def exportable(text: str | None, limit: int) -> Any:
    """The checks every serialised attribute must pass; returns the parsed JSON."""
    assert text is not None
    assert len(text) <= limit
    text.encode("utf-8")  # strict: raises on lone surrogates
    AnyValue(string_value=text).SerializeToString()  # what the OTLP exporter does
    return json.loads(text)


def test_messages_use_the_semconv_shape_for_every_part_type() -> None:
    png = b"\x89PNG\r\n" + bytes(range(256)) * 4
    messages = [
        Message("system", [TextPart("Be brief.")]),
        Message(
            "user",
            [
                TextPart("What is in this picture?"),
                BlobPart("image", png, "image/png"),
                UriPart("image", "https://cdn.example.com/cat.png", "image/png"),
            ],
            name="alice",
        ),
        Message(
            "assistant",
            [
                ReasoningPart("The user wants a tool."),
                ToolCallPart("lookup", '{"q": "cats"}', "call_1"),
            ],
        ),
        Message("tool", [ToolCallResponsePart({"found": 3}, "call_1")]),
    ]
    text = serialize_messages(messages, budget())
    assert exportable(text, ON.max_attribute_length) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is in this picture?"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "size": len(png)},
                {
                    "type": "uri",
                    "modality": "image",
                    "mime_type": "image/png",
                    "uri": "https://cdn.example.com/cat.png",
                },
            ],
            "name": "alice",
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "The user wants a tool."},
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "cats"}},
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"found": 3}}],
        },
    ]


def test_binary_content_is_never_exported_only_its_size() -> None:
    raw = b"\xff\xd8\xff" + b"JPEGDATA" * 500
    b64 = base64.b64encode(raw).decode()
    messages = [
        Message(
            "user",
            [
                BlobPart("image", raw, "image/jpeg"),
                BlobPart("audio", b64, "audio/wav"),
                UriPart("image", f"data:image/jpeg;base64,{b64}"),
            ],
        )
    ]
    text = serialize_messages(messages, budget())
    assert exportable(text, ON.max_attribute_length) == [
        {
            "role": "user",
            "parts": [
                {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "size": len(raw)},
                {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "size": len(raw)},
                {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "size": len(raw)},
            ],
        }
    ]


def test_presigned_uri_credentials_are_masked_in_every_mode() -> None:
    uri = "https://bucket.s3.amazonaws.com/a.png?X-Amz-Signature=abc123&X-Amz-Date=20240101"
    text = serialize_parts([UriPart("image", uri)], budget())
    assert exportable(text, ON.max_attribute_length) == [
        {
            "type": "uri",
            "modality": "image",
            "uri": "https://bucket.s3.amazonaws.com/a.png?X-Amz-Signature=[REDACTED]&X-Amz-Date=20240101",
        }
    ]


def test_tool_arguments_are_parsed_from_json_and_secrets_masked() -> None:
    b = budget()
    assert json.loads(serialize_value('{"city": "Paris", "api_key": "k"}', b) or "") == {
        "city": "Paris",
        "api_key": "[REDACTED]",
    }
    assert json.loads(serialize_value("not json {", b) or "") == "not json {"
    assert json.loads(serialize_value([1, "two", None], b) or "") == [1, "two", None]


def test_tool_definitions_and_documents_serialise_to_semconv_shapes() -> None:
    defs = [
        ToolDefinition("lookup", "Find things", {"type": "object", "properties": {}}),
        {"type": "web_search", "name": "web"},
    ]
    assert exportable(serialize_tool_definitions(defs, budget()), 8192) == [
        {
            "type": "function",
            "name": "lookup",
            "description": "Find things",
            "parameters": {"type": "object", "properties": {}},
        },
        {"type": "web_search", "name": "web"},
    ]
    docs = [Document("d1", 0.9, "Paris is in France."), Document(None, float("inf"), "x")]
    assert exportable(serialize_documents(docs, budget(), include_content=False), 8192) == [
        {"id": "d1", "score": 0.9},
        {},
    ]
    assert exportable(serialize_documents(docs, budget(), include_content=True), 8192) == [
        {"id": "d1", "score": 0.9, "content": "Paris is in France."},
        {"content": "x"},
    ]


def _operation(calls: list[str]) -> Operation:
    def lazy(name: str, value: Any) -> Any:
        def call() -> Any:
            calls.append(name)
            return value

        return call

    return Operation(
        OperationKind.CHAT,
        input_messages=lazy("input", [Message("user", [TextPart("mail bob@example.com")])]),
        system_instructions=lazy("system", [TextPart("Be brief.")]),
        tool_definitions=lazy("tools", [ToolDefinition("lookup")]),
    )


@pytest.mark.parametrize("mode", list(CaptureMode))
def test_build_functions_follow_the_capture_mode(mode: CaptureMode) -> None:
    calls: list[str] = []
    s = Settings(capture_mode=mode, redact_builtin=True)
    start = build_content_attributes(_operation(calls), s, ContentBudget(s))
    outcome = Outcome(output_messages=[Message("assistant", [TextPart("ok")])], tool_result="3")
    end = build_outcome_content(outcome, s, ContentBudget(s))
    assert capture_enabled(s) is mode.any
    if not mode.any:
        assert (start, end, calls) == ({}, {}, [])
        return
    assert start == {
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS: '[{"type":"text","content":"Be brief."}]',
        semconv.GEN_AI_INPUT_MESSAGES: (
            '[{"role":"user","parts":[{"type":"text","content":"mail [REDACTED:email]"}]}]'
        ),
        semconv.GEN_AI_TOOL_DEFINITIONS: '[{"type":"function","name":"lookup"}]',
    }
    assert end == {
        semconv.GEN_AI_OUTPUT_MESSAGES: (
            '[{"role":"assistant","parts":[{"type":"text","content":"ok"}]}]'
        ),
        semconv.GEN_AI_TOOL_CALL_RESULT: '"3"',
    }
    assert sorted(calls) == ["input", "system", "tools"]


def test_structured_values_match_the_attribute_strings() -> None:
    s = Settings(capture_mode=CaptureMode.SPAN_AND_EVENT)
    op = _operation([])
    attrs = build_content_attributes(op, s, ContentBudget(s))
    values = build_content_values(op, s, ContentBudget(s))
    assert {k: json.loads(v) for k, v in attrs.items()} == values
    outcome = Outcome(documents=[Document("d", 1.0, "text")], tool_result={"a": 1})
    assert build_outcome_values(outcome, s, ContentBudget(s)) == {
        semconv.GEN_AI_TOOL_CALL_RESULT: {"a": 1},
        semconv.GEN_AI_RETRIEVAL_DOCUMENTS: [{"id": "d", "score": 1.0, "content": "text"}],
    }
    messages = [Message("user", [TextPart("hi")])]
    assert messages_as_dicts(messages, ContentBudget(s)) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]


def test_event_content_is_structured_for_both_sides() -> None:
    s = Settings(capture_mode=CaptureMode.EVENT_ONLY)
    b = ContentBudget(s)
    outcome = Outcome(output_messages=[Message("assistant", [TextPart("ok")])])
    end = build_outcome_content(outcome, s, b)
    assert build_event_content(_operation([]), end, s, b) == {
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS: [{"type": "text", "content": "Be brief."}],
        semconv.GEN_AI_INPUT_MESSAGES: [
            {"role": "user", "parts": [{"type": "text", "content": "mail bob@example.com"}]}
        ],
        semconv.GEN_AI_TOOL_DEFINITIONS: [{"type": "function", "name": "lookup"}],
        semconv.GEN_AI_OUTPUT_MESSAGES: [
            {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}
        ],
    }


def test_lazy_that_raises_yields_no_content_and_no_error() -> None:
    def broken() -> Any:
        raise KeyError("gone")

    op = Operation(
        OperationKind.RETRIEVAL, input_messages=broken, query=lambda: "capital of France"
    )
    assert build_content_attributes(op, ON, ContentBudget(ON)) == {
        semconv.GEN_AI_RETRIEVAL_QUERY_TEXT: "capital of France"
    }


def test_tool_arguments_and_step_query_use_their_own_attributes() -> None:
    op = Operation(OperationKind.STEP, tool_arguments='{"x": 1}', query="what now")
    assert build_content_attributes(op, ON, ContentBudget(ON)) == {
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS: '{"x":1}',
        semconv.QUERY_TEXT: "what now",
    }

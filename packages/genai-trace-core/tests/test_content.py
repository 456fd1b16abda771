"""Content capture: semconv shapes, budgets, truncation before redaction, hostile inputs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from genai_trace_core import semconv
from genai_trace_core._settings import CaptureMode, Settings
from genai_trace_core.content._capture import (
    ContentBudget,
    build_content_attributes,
    build_content_values,
    build_event_content,
    build_outcome_content,
    build_outcome_values,
    capture_enabled,
    messages_as_dicts,
    serialize_documents,
    serialize_messages,
    serialize_parts,
    serialize_tool_definitions,
    serialize_value,
)
from genai_trace_core.content._redact import REDACTION_FAILED
from genai_trace_core.content._truncate import WINDOW_MARGIN
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


def test_ten_megabyte_text_is_cut_before_redaction_and_marked() -> None:
    seen: list[int] = []

    def hook(text: str) -> str:
        seen.append(len(text))
        return text

    b = ContentBudget(ON.with_overrides(max_attribute_length=4096, redactor=hook))
    huge = "word " * 2_000_000  # 10 MB
    text = serialize_messages([Message("user", [TextPart(huge)])], b)
    parsed = exportable(text, 4096)
    content = parsed[0]["parts"][0]["content"]
    kept, marker = content.split("…[truncated ")
    assert huge.startswith(kept)
    assert marker == f"{len(huge) - len(kept)} chars]"
    assert max(seen) <= 4096 + WINDOW_MARGIN  # the redactor never saw the 10 MB
    assert b.flag_attributes() == {semconv.CONTENT_TRUNCATED: True}


def test_ten_thousand_messages_stop_at_the_budget_and_count_the_rest() -> None:
    messages = [Message("user", [TextPart(f"message number {i}")]) for i in range(10_000)]
    b = budget(max_attribute_length=2000, max_span_content=2000)
    parsed = exportable(serialize_messages(messages, b), 2000)
    kept = len(parsed)
    assert parsed == [
        {"role": "user", "parts": [{"type": "text", "content": f"message number {i}"}]}
        for i in range(kept)
    ]
    assert b.flag_attributes() == {
        semconv.CONTENT_TRUNCATED: True,
        semconv.CONTENT_DROPPED: 10_000 - kept,
    }


def test_keep_latest_drops_the_oldest_messages_and_keeps_order() -> None:
    messages = [Message("user", [TextPart(f"m{i}")]) for i in range(1000)]
    parsed = exportable(serialize_messages(messages, budget(max_attribute_length=500), True), 500)
    first = 1000 - len(parsed)
    assert parsed == [
        {"role": "user", "parts": [{"type": "text", "content": f"m{i}"}]}
        for i in range(first, 1000)
    ]


def test_span_budget_is_shared_by_all_attributes_of_a_span() -> None:
    b = budget(max_attribute_length=1000, max_span_content=1500)
    first = serialize_value({"text": "a" * 5000}, b)
    assert first is not None and len(first) <= 1000
    second = serialize_value({"text": "b" * 5000}, b)
    assert second is not None and len(second) <= 1500 - len(first)
    assert serialize_value({"text": "c" * 5000}, b) is None  # nothing left
    assert b.flag_attributes() == {semconv.CONTENT_TRUNCATED: True, semconv.CONTENT_DROPPED: 1}


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class Plain:
    pass


def test_values_that_json_cannot_represent_become_bounded_markers() -> None:
    value = {
        "bytes": b"\x00\x01binary",
        "set": {1},
        "tuple": (1, 2),
        "nan": float("nan"),
        "big": 10**40,
        "plain": Plain(),
        "unprintable": Unprintable(),
        "long_repr": type("Long", (), {"__repr__": lambda self: "L" * 10_000})(),
        3: "int key",
    }
    parsed = exportable(serialize_value(value, budget()), ON.max_attribute_length)
    assert parsed == {
        "bytes": "<bytes: 8 bytes>",
        "set": [1],
        "tuple": [1, 2],
        "nan": "nan",
        "big": "<int: 133 bits>",
        "plain": "<Plain>",
        "unprintable": "<Unprintable>",
        "long_repr": parsed["long_repr"],
        "3": "int key",
    }
    assert parsed["long_repr"].startswith("L" * 200)
    assert len(parsed["long_repr"]) <= 256


def test_cyclic_and_deeply_nested_structures_are_cut() -> None:
    cyclic: dict[str, Any] = {"name": "root"}
    cyclic["self"] = cyclic
    loop: list[Any] = [1]
    loop.append(loop)
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(500):
        node["child"] = {}
        node = node["child"]
    parsed = exportable(
        serialize_value({"cyclic": cyclic, "loop": loop, "deep": deep}, budget()),
        ON.max_attribute_length,
    )
    assert parsed["cyclic"] == {"name": "root", "self": "<cycle>"}
    assert parsed["loop"] == [1, "<cycle>"]
    depth = 0
    node = parsed["deep"]
    while isinstance(node, dict):
        node = node["child"]
        depth += 1
    assert node == "<max depth>"
    assert depth == 9  # MAX_DEPTH levels in total, counting the outer dict


def test_lone_surrogates_become_replacement_characters_and_pairs_are_joined() -> None:
    text = serialize_messages(
        [Message("user", [TextPart("bad \ud800 end"), TextPart("pair \ud83d\ude00")])], budget()
    )
    assert exportable(text, ON.max_attribute_length) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "bad \ufffd end"},
                {"type": "text", "content": "pair \U0001f600"},
            ],
        }
    ]


def test_escaping_heavy_text_still_fits_the_attribute_limit() -> None:
    text = serialize_value({"q": '"\\\x00' * 5000}, budget(max_attribute_length=1000))
    parsed = exportable(text, 1000)
    assert parsed["q"].startswith('"\\\x00')


@pytest.mark.parametrize("cut_at", range(-40, 41, 4))
def test_secret_straddling_the_truncation_point_is_never_partly_exported(cut_at: int) -> None:
    limit = 300
    prefix = "x" * (limit - 30 + cut_at) + " "
    b = budget(max_attribute_length=limit, redact_builtin=True)
    text = serialize_value(prefix + FAKE_KEY + " and more text " * 50, b)
    value = exportable(text, limit)
    assert "Qw3Er4" not in value
    assert "sk-proj" not in value
    assert "[REDACT" not in value or "[REDACTED:openai_key]" in value


def test_email_straddling_the_truncation_point_is_masked_by_the_user_hook() -> None:
    def hook(text: str) -> str:
        return text.replace("alice@example.com", "<email>")

    b = budget(max_attribute_length=120, redactor=hook)
    value = exportable(serialize_value("y" * 90 + " alice@example.com tail", b), 120)
    assert "alice" not in value


def test_raising_user_hook_drops_content_without_raising() -> None:
    def hook(text: str) -> str:
        raise ValueError("hook bug")

    b = budget(redactor=hook)
    parsed = exportable(serialize_messages([Message("user", [TextPart("hi")])], b), 8192)
    assert parsed == [{"role": "user", "parts": [{"type": "text", "content": REDACTION_FAILED}]}]


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


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=64)
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    lambda children: (
        st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=12), children, max_size=8)
    ),
    max_leaves=60,
)


@hyp_settings(max_examples=75, deadline=None, derandomize=True)  # reproducible in CI
@given(value=json_values, limit=st.integers(min_value=40, max_value=600))
def test_any_value_serialises_to_exportable_json_within_the_limit(value: Any, limit: int) -> None:
    b = budget(max_attribute_length=limit, redact_builtin=True)
    text = serialize_value(value, b)
    if text is not None:
        exportable(text, limit)


# --- gen_ai.prompt.variable.<name> ---------------------------------------------------------------

VAR = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX


def test_prompt_variables_become_one_redacted_string_attribute_each() -> None:
    s = Settings(capture_mode=CaptureMode.SPAN_ONLY, redact_builtin=True)
    op = Operation(
        OperationKind.CHAT,
        prompt_variables=lambda: {
            "question": "mail bob@example.com",
            "context": {"docs": ["a", "b"], "note": f"use {FAKE_KEY}"},
            "k": 3,
            "empty": "",
            "missing": None,
        },
    )
    b = ContentBudget(s)
    assert build_content_attributes(op, s, b) == {
        VAR + "question": "mail [REDACTED:email]",
        VAR + "context": '{"docs":["a","b"],"note":"use [REDACTED:openai_key]"}',
        VAR + "k": "3",
    }
    assert b.flag_attributes() == {}


def test_prompt_variables_are_never_read_with_capture_off() -> None:
    calls: list[str] = []

    def variables() -> dict[str, str]:
        calls.append("variables")
        return {"question": "secret"}

    s = Settings(capture_mode=CaptureMode.NO_CONTENT)
    op = Operation(OperationKind.CHAT, prompt_variables=variables)
    assert (build_content_attributes(op, s, ContentBudget(s)), calls) == ({}, [])


def test_prompt_variables_are_cut_to_the_limits_and_share_the_span_budget() -> None:
    b = budget(max_attribute_length=100, max_span_content=250)
    op = Operation(
        OperationKind.CHAT,
        input_messages=[Message("user", [TextPart("hi")])],
        prompt_variables={"a": "x" * 5000, "b": "y" * 5000, "c": "z" * 5000},
    )
    attrs = build_content_attributes(op, b.settings, b)
    messages = '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]'  # 58 characters
    assert attrs == {
        semconv.GEN_AI_INPUT_MESSAGES: messages,  # built first: the variables get what is left
        VAR + "a": "x" * 77 + "…[truncated 4923 chars]",  # the 100-character attribute limit
        VAR + "b": "y" * 69 + "…[truncated 4931 chars]",  # the 92 characters the span has left
    }
    assert sum(len(v) for v in attrs.values()) == 250
    assert b.flag_attributes() == {semconv.CONTENT_TRUNCATED: True, semconv.CONTENT_DROPPED: 1}


def test_prompt_variable_count_and_name_length_are_capped() -> None:
    b = budget()
    variables = {f"v{i:02d}": str(i) for i in range(40)}
    variables["n" * 300] = "long name"
    attrs = build_content_attributes(
        Operation(OperationKind.CHAT, prompt_variables=variables), b.settings, b
    )
    assert attrs == {f"{VAR}v{i:02d}": str(i) for i in range(32)}
    assert b.flag_attributes() == {semconv.CONTENT_TRUNCATED: True, semconv.CONTENT_DROPPED: 9}
    long_name = build_content_attributes(
        Operation(OperationKind.CHAT, prompt_variables={"n" * 300: "v", 7: "seven"}),
        b.settings,
        ContentBudget(b.settings),
    )
    assert long_name == {VAR + "n" * 128: "v", VAR + "7": "seven"}


def test_prompt_variables_that_are_not_a_mapping_or_raise_add_nothing() -> None:
    def broken() -> Any:
        raise KeyError("gone")

    for variables in (["question"], "question", broken, {}):
        op = Operation(OperationKind.CHAT, prompt_variables=variables)
        assert build_content_attributes(op, ON, ContentBudget(ON)) == {}


def test_prompt_variables_are_strings_in_event_content_too() -> None:
    s = Settings(capture_mode=CaptureMode.EVENT_ONLY)
    op = Operation(OperationKind.CHAT, prompt_variables={"context": {"a": 1}, "q": "why"})
    assert build_event_content(op, {}, s, ContentBudget(s)) == {
        VAR + "context": '{"a":1}',
        VAR + "q": "why",
    }

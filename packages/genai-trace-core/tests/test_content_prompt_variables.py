"""Prompt template variables become one redacted, bounded string attribute each
(``gen_ai.prompt.variable.<name>``), only when content capture is on."""

from __future__ import annotations

import json
from typing import Any

from genai_trace_core import CaptureMode, Settings, semconv
from genai_trace_core.content import (
    ContentBudget,
    build_content_attributes,
    build_event_content,
    build_outcome_content,
)
from genai_trace_core.records import (
    Message,
    Operation,
    OperationKind,
    Outcome,
    TextPart,
)

ON = Settings(capture_mode=CaptureMode.SPAN_ONLY)


FAKE_KEY = "sk-proj-" + "Qw3Er4Ty5U" * 4


def budget(**overrides: Any) -> ContentBudget:
    return ContentBudget(ON.with_overrides(**overrides))


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


def test_prompt_variables_are_cut_to_the_limits_and_take_at_most_half_the_span_budget() -> None:
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
        VAR + "b": "yy…[truncated 4998 chars]",  # the rest of half the span's 250 characters
    }
    assert sum(len(v) for k, v in attrs.items() if k.startswith(VAR)) == 125
    assert b.remaining == 250 - 58 - 125  # the rest stays for the answer
    assert b.flag_attributes() == {semconv.CONTENT_TRUNCATED: True, semconv.CONTENT_DROPPED: 1}


def test_long_prompt_variables_leave_room_for_the_answer() -> None:
    """A retrieved context as a variable (and rendered into the prompt) no longer takes the
    whole span budget: the answer, added at the end, is still exported."""
    b = budget(max_span_content=1200)
    context = "Refunds are processed within fourteen days of the request. " * 40
    op = Operation(
        OperationKind.CHAT,
        input_messages=[Message("user", [TextPart(f"Context: {context} Question: refunds?")])],
        prompt_variables={"context": context, "question": "refunds?"},
    )
    start = build_content_attributes(op, b.settings, b)
    answer = [Message("assistant", [TextPart("Within fourteen days.")])]
    end = build_outcome_content(Outcome(output_messages=answer), b.settings, b)
    assert json.loads(end[semconv.GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Within fourteen days."}]}
    ]
    assert start[semconv.GEN_AI_INPUT_MESSAGES].endswith('chars]"}]}]')  # cut, marked
    assert sum(len(v) for v in (*start.values(), *end.values())) <= 1200
    # Without input messages the variables alone take at most half of the span's content.
    b = budget(max_span_content=1200)
    alone = build_content_attributes(
        Operation(OperationKind.CHAT, prompt_variables={"context": context}), b.settings, b
    )
    assert alone == {VAR + "context": context[:577] + "…[truncated 1783 chars]"}  # 600 chars


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

"""Captured content stays bounded and exportable whatever the input: huge texts and message lists
are cut before redaction and marked, budgets are shared per span, hostile values (unprintable,
cyclic, deep, lone surrogates) become markers, and no secret is ever partly exported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from genai_trace_core import CaptureMode, Settings, semconv
from genai_trace_core.content import (
    ContentBudget,
    serialize_messages,
    serialize_value,
)

# internal: the marker of a failed redaction and the margin cut around the attribute limit
from genai_trace_core.content._redact import REDACTION_FAILED
from genai_trace_core.content._truncate import WINDOW_MARGIN
from genai_trace_core.records import (
    Message,
    TextPart,
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

"""OpenAI's Responses API reports a ``status``, not a finish reason: ``responses_finish_reason``
maps it to the words Chat Completions uses (one vocabulary across both OpenAI APIs), from the
``response`` itself, the stream event that ends one, or a framework's metadata (mappings and
SDK-like objects alike), and answers ``None`` for anything else or anything malformed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from genai_trace_core import responses_api_response, responses_finish_reason

TEXT = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}


def response(status: Any, *output: dict[str, Any], reason: Any = None) -> dict[str, Any]:
    """A Responses API ``response`` (the fields the mapping reads)."""
    details = {"reason": reason} if reason is not None else None
    return {
        "id": "resp_1",
        "object": "response",
        "status": status,
        "incomplete_details": details,
        "output": list(output),
    }


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (response("completed", TEXT), "stop"),
        (response("completed"), "stop"),
        (response("completed", TEXT, {"type": "function_call", "name": "f"}), "tool_calls"),
        (response("completed", {"type": "custom_tool_call", "name": "grammar"}), "tool_calls"),
        # tools OpenAI runs itself: their results are in the answer, which stopped
        (response("completed", {"type": "web_search_call"}, TEXT), "stop"),
        (response("incomplete", TEXT, reason="max_output_tokens"), "length"),
        (response("incomplete", TEXT, reason="content_filter"), "content_filter"),
        (response("incomplete", TEXT, reason="some_new_reason"), "some_new_reason"),
        (response("incomplete", TEXT), "incomplete"),
        (response("failed"), "error"),
        (response("cancelled"), "cancelled"),
        (response("in_progress"), "in_progress"),
    ],
)
def test_a_status_maps_to_the_chat_completions_finish_reason(payload: Any, expected: str) -> None:
    assert responses_finish_reason(payload) == expected
    as_object = SimpleNamespace(
        **dict(
            payload,
            incomplete_details=SimpleNamespace(**(payload["incomplete_details"] or {})),
            output=[SimpleNamespace(**item) for item in payload["output"]],
        )
    )
    assert responses_finish_reason(as_object) == expected


def test_a_stream_event_that_ends_the_response_carries_it() -> None:
    final = response("incomplete", TEXT, reason="max_output_tokens")
    for kind in ("response.completed", "response.incomplete", "response.failed"):
        event = {"type": kind, "sequence_number": 9, "response": final}
        assert responses_api_response(event) is final
        assert responses_finish_reason(event) == "length"
    started = {"type": "response.created", "response": response("in_progress")}
    delta = {"type": "response.output_text.delta", "delta": "Hi"}
    assert [responses_api_response(e) for e in (started, delta)] == [None, None]
    assert [responses_finish_reason(e) for e in (started, delta)] == [None, None]


def test_framework_metadata_without_output_says_whether_the_answer_calls_tools() -> None:
    # LangChain's response_metadata: the status, no output items (its message has the calls)
    meta = {"id": "resp_1", "object": "response", "status": "completed"}
    assert responses_finish_reason(meta) == "stop"
    assert responses_finish_reason(meta, tool_calls=True) == "tool_calls"
    assert responses_finish_reason(meta, tool_calls=False) == "stop"
    incomplete = dict(meta, status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    assert responses_finish_reason(incomplete, tool_calls=True) == "length"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "response",
        42,
        [],
        {},
        object(),
        {"object": "chat.completion", "choices": [{"finish_reason": "stop"}], "status": "x"},
        {"object": "response"},
        {"object": "response", "status": ""},
        {"object": "response", "status": {"not": "a string"}},
        {"object": ["response"], "status": "completed"},
        {"type": "response.completed", "response": None},
        {"type": "response.completed", "response": {"object": "chat.completion"}},
        {"type": {"unhashable": 1}, "response": response("completed")},
    ],
)
def test_anything_else_has_no_responses_finish_reason(payload: Any) -> None:
    assert responses_finish_reason(payload) is None
    is_response = isinstance(payload, dict) and payload.get("object") == "response"
    assert responses_api_response(payload) is (payload if is_response else None)


def test_odd_output_items_and_details_are_read_safely() -> None:
    odd = dict(response("completed"), output=[None, "function_call", {"type": ["x"]}, 3])
    assert responses_finish_reason(odd) == "stop"
    assert responses_finish_reason(dict(odd, output="function_call")) == "stop"
    odd_details = dict(response("incomplete"), incomplete_details={"reason": 7})
    assert responses_finish_reason(odd_details) == "incomplete"
    assert responses_finish_reason(dict(odd_details, incomplete_details="oops")) == "incomplete"

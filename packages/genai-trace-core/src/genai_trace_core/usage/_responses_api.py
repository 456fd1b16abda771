"""OpenAI's Responses API reports no finish reason: a ``response`` has a ``status`` (and
``incomplete_details.reason``) instead. Here it maps to the Chat Completions vocabulary the same
provider uses, so both OpenAI APIs read alike on ``gen_ai.response.finish_reasons``."""

from __future__ import annotations

from typing import Any

from genai_trace_core.usage._fields import get_field

# Output items the caller runs (the model waits for their results), as opposed to the tools
# OpenAI runs itself (web or file search, code interpreter, ...), whose results are in the answer.
_CALLER_TOOL_CALLS = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "computer_call",
        "local_shell_call",
        "shell_call",
        "apply_patch_call",
    }
)
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
# The stream events that carry the final ``response``.
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def responses_api_response(payload: Any) -> Any:
    """``payload`` when it is a Responses API ``response`` (``object == "response"``), the
    response a final stream event carries (``response.completed``/``incomplete``/``failed``:
    where a streamed answer's id, model and usage are), else ``None``."""
    if payload is None:
        return None
    if get_field(payload, "object") == "response":
        return payload
    kind = get_field(payload, "type")
    if isinstance(kind, str) and kind in _FINAL_EVENTS:
        final = get_field(payload, "response")
        if get_field(final, "object") == "response":
            return final
    return None


def _has_tool_calls(output: Any) -> bool:
    if not isinstance(output, (list, tuple)):
        return False
    for item in output:
        kind = get_field(item, "type")
        if isinstance(kind, str) and kind in _CALLER_TOOL_CALLS:
            return True
    return False


def responses_finish_reason(payload: Any, *, tool_calls: bool | None = None) -> str | None:
    """The finish reason of a Responses API ``response`` (or of the stream event that ends one,
    see :func:`responses_api_response`) in Chat Completions' words: ``completed`` is
    ``"tool_calls"`` when the output calls a function (or another tool the caller runs), else
    ``"stop"``; ``incomplete`` is ``"length"`` (``max_output_tokens``), ``"content_filter"``, or
    its reason as given; ``failed`` is ``"error"``; any other status is returned as given.

    ``tool_calls``: whether the answer calls tools, when the caller knows it from the framework's
    message and ``payload`` has no ``output`` (LangChain's ``response_metadata``). ``None`` for
    anything that is not a Responses API response: callers read a provider's own finish reason
    first, and it always wins. Malformed fields (wrong types) read as absent.
    """
    payload = responses_api_response(payload)
    status = get_field(payload, "status") if payload is not None else None
    if not isinstance(status, str) or not status:
        return None
    if status == "completed":
        if tool_calls is None:
            tool_calls = _has_tool_calls(get_field(payload, "output"))
        return "tool_calls" if tool_calls else "stop"
    if status == "incomplete":
        reason = get_field(get_field(payload, "incomplete_details"), "reason")
        if isinstance(reason, str) and reason:
            return _INCOMPLETE.get(reason, reason)
        return status
    return "error" if status == "failed" else status

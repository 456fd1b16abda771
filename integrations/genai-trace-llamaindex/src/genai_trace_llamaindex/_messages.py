"""LlamaIndex chat messages, prompts and tool specs as core content records.

Only called lazily, by core, when content capture is on: nothing here runs on the default path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from genai_trace_core import (
    Message,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
)
from genai_trace_llamaindex._binary import MODALITIES, binary_part


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, ``obj.name`` otherwise; ``None`` when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def role_of(message: Any) -> str:
    role = getattr(message, "role", "user")
    return str(getattr(role, "value", role))


def _block_part(block: Any) -> Part | None:
    kind = getattr(block, "block_type", None)
    if kind == "text":
        return TextPart(content=str(getattr(block, "text", "")))
    if kind == "thinking":
        content = getattr(block, "content", None)
        return ReasoningPart(content=content) if content else None
    if kind == "tool_call":
        return ToolCallPart(
            name=str(getattr(block, "tool_name", "")),
            arguments=getattr(block, "tool_kwargs", None),
            id=getattr(block, "tool_call_id", None),
        )
    if isinstance(kind, str) and kind in MODALITIES:
        return binary_part(block, kind)
    return None


def to_message(message: Any) -> Message:
    role = role_of(message)
    parts: list[Part] = []
    blocks = getattr(message, "blocks", None)
    if blocks is None:
        content = getattr(message, "content", None)
        if content:
            parts.append(TextPart(content=str(content)))
    else:
        for block in blocks:
            part = _block_part(block)
            if part is not None:
                parts.append(part)
    extra = getattr(message, "additional_kwargs", None) or {}
    if role == "tool":
        call_id = extra.get("tool_call_id")
        text = "".join(p.content for p in parts if isinstance(p, TextPart))
        return Message(role=role, parts=[ToolCallResponsePart(response=text, id=call_id)])
    # llama-index-llms-openai 0.8 reports each tool call twice, as a ToolCallBlock and in
    # ``additional_kwargs["tool_calls"]`` (older releases only there): one part per call.
    if not any(isinstance(p, ToolCallPart) for p in parts):
        for call in extra.get("tool_calls") or ():
            fn = field(call, "function")
            if fn is not None:
                parts.append(
                    ToolCallPart(
                        name=str(field(fn, "name") or ""),
                        arguments=field(fn, "arguments"),
                        id=field(call, "id"),
                    )
                )
    if len(parts) > 1:  # a streamed tool-call answer also carries an empty text block
        parts = [p for p in parts if not (isinstance(p, TextPart) and not p.content)] or parts
    return Message(role=role, parts=parts)


def to_messages(messages: Iterable[Any]) -> list[Message]:
    return [to_message(m) for m in messages]


def prompt_messages(prompt: str) -> list[Message]:
    return [Message(role="user", parts=[TextPart(content=prompt)])]


def message_texts(messages: Iterable[Any]) -> list[str]:
    """The text to count for an estimate: every text/thinking block of every message."""
    texts: list[str] = []
    for m in messages:
        blocks = getattr(m, "blocks", None)
        if blocks is None:
            content = getattr(m, "content", None)
            if content:
                texts.append(str(content))
            continue
        for block in blocks:
            text = getattr(block, "text", None)
            if text:
                texts.append(str(text))
    return texts


def response_text(response: Any) -> str:
    """The full text of a ChatResponse (``message``) or CompletionResponse (``text``)."""
    message = getattr(response, "message", None)
    if message is not None:
        return "".join(message_texts([message]))
    return str(getattr(response, "text", "") or "")


def tool_definitions(specs: Any) -> list[ToolDefinition]:
    """OpenAI-style tool dicts, LlamaIndex tools, or anything with ``metadata``."""
    out: list[ToolDefinition] = []
    if not isinstance(specs, Sequence):
        return out
    for spec in specs:
        metadata = getattr(spec, "metadata", None)
        if metadata is not None and hasattr(metadata, "name"):
            params = None
            get_schema = getattr(metadata, "get_parameters_dict", None)
            if callable(get_schema):
                params = get_schema()
            out.append(
                ToolDefinition(
                    name=str(metadata.name),
                    description=getattr(metadata, "description", None),
                    parameters=params,
                )
            )
            continue
        fn = field(spec, "function") or spec
        name = field(fn, "name")
        if name:
            out.append(
                ToolDefinition(
                    name=str(name),
                    description=field(fn, "description"),
                    parameters=field(fn, "parameters") or field(fn, "input_schema"),
                )
            )
    return out

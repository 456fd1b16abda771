"""LangChain messages and documents -> core content records (only built when content is captured).

Every function here runs lazily: the handler hands core zero-argument callables, and core calls
them only when content capture is on. Token-estimate helpers return plain texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
from genai_trace_langchain._blocks import block_part

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    # streamed messages (``AIMessageChunk.type`` is the class name)
    "AIMessageChunk": "assistant",
    "HumanMessageChunk": "user",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
    "FunctionMessageChunk": "tool",
    "ChatMessageChunk": "chat",
}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out: list[str] = []
        for block in content:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"])
            elif isinstance(block, dict) and isinstance(block.get("refusal"), str):
                out.append(block["refusal"])
        return "".join(out)
    return ""


def _refusal(message: Any) -> str | None:
    """An OpenAI refusal that chat completions put in ``additional_kwargs`` (content empty)."""
    extra = getattr(message, "additional_kwargs", None)
    refusal = extra.get("refusal") if isinstance(extra, dict) else None
    return refusal if isinstance(refusal, str) and refusal else None


def _parts(message: Any) -> list[Part]:
    parts: list[Part] = []
    refused = False
    content = getattr(message, "content", "")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                parts.append(TextPart(block))
            elif isinstance(block, dict):
                kind = block.get("type")
                if kind == "text" and isinstance(block.get("text"), str):
                    parts.append(TextPart(block["text"]))
                elif kind == "refusal":  # OpenAI's Responses API: the refusal is the answer
                    refused = True
                    parts.append(TextPart(str(block.get("refusal") or "")))
                elif kind in ("reasoning", "thinking"):
                    text = block.get("reasoning") or block.get("thinking") or ""
                    parts.append(ReasoningPart(str(text)))
                else:  # images, audio, files: described (modality, MIME type, size)
                    part = block_part(block)
                    if part is not None:
                        parts.append(part)
    elif content:
        if getattr(message, "type", None) == "tool":
            parts.append(ToolCallResponsePart(content, getattr(message, "tool_call_id", None)))
        else:
            parts.append(TextPart(str(content)))
    refusal = None if refused else _refusal(message)
    if refusal is not None:  # the conventions name no refusal part: it is the answer's text
        parts.append(TextPart(refusal))
    for call in getattr(message, "tool_calls", None) or ():
        parts.append(ToolCallPart(call.get("name", ""), call.get("args"), call.get("id")))
    return parts


def to_message(message: Any) -> Message:
    role = _ROLES.get(str(getattr(message, "type", "")), str(getattr(message, "type", "user")))
    if role == "chat":
        role = str(getattr(message, "role", "user"))
    return Message(role=role, parts=_parts(message), name=getattr(message, "name", None))


def to_messages(messages: Iterable[Any]) -> list[Message]:
    return [to_message(m) for m in messages]


def prompts_to_messages(prompts: Iterable[str]) -> list[Message]:
    return [Message(role="user", parts=[TextPart(p)]) for p in prompts]


def message_texts(messages: Iterable[Any]) -> list[str]:
    """The texts to count when estimating input tokens."""
    return [_text_of(getattr(m, "content", "")) for m in messages]


def generation_messages(generations: Sequence[Any]) -> list[Message]:
    out: list[Message] = []
    for gen in generations:
        msg = getattr(gen, "message", None)
        if msg is not None:
            out.append(to_message(msg))
        else:
            out.append(Message(role="assistant", parts=[TextPart(str(getattr(gen, "text", "")))]))
    return out


def generation_texts(generations: Sequence[Any]) -> list[str]:
    texts: list[str] = []
    for gen in generations:
        msg = getattr(gen, "message", None)
        if msg is not None:
            texts.append(_text_of(getattr(msg, "content", "")))
            refusal = _refusal(msg)
            if refusal is not None:
                texts.append(refusal)
            for call in getattr(msg, "tool_calls", None) or ():
                texts.append(str(call.get("name", "")) + str(call.get("args", "")))
        else:
            texts.append(str(getattr(gen, "text", "")))
    return texts


def tool_definitions(tools: Any) -> list[ToolDefinition]:
    """OpenAI-format tool schemas (``invocation_params["tools"]``) -> definitions."""
    out: list[ToolDefinition] = []
    for tool in tools or ():
        if not isinstance(tool, dict):
            continue
        fn = tool.get("function")
        if isinstance(fn, dict):
            out.append(
                ToolDefinition(str(fn.get("name", "")), fn.get("description"), fn.get("parameters"))
            )
        elif "name" in tool:
            out.append(ToolDefinition(str(tool["name"]), type=str(tool.get("type", "function"))))
    return out

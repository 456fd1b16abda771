"""Serialisers of the semconv content values: structured data (for log events) and its JSON text
(for span attributes), within the span's :class:`ContentBudget`. Lists stop when it runs out and
count what they dropped; texts are cut, then redacted; binary content is never exported, only its
size. Callers (``build_*``) check the capture mode.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from genai_trace_core.content._jsonable import MIN_ITEM, Walker, fit, parse_json_text
from genai_trace_core.content._parts import (
    NAME_FLOOR,
    NAME_LIMIT,
    URI_LIMIT,
    content_of,
    ident,
    part_as_dict,
)
from genai_trace_core.content._secrets import scrub_uri
from genai_trace_core.content._truncate import ContentBudget, clip_text
from genai_trace_core.records import (
    BlobPart,
    Document,
    FilePart,
    Message,
    ToolDefinition,
    UriPart,
)

_MAX_ITEMS: Final = 100_000  # items read from a non-sequence iterable
_PART_RESERVE: Final = 96
_PART_OVERHEAD: Final = 24  # {"type":"...","content":""}
_MESSAGE_OVERHEAD: Final = 24  # {"role":"","parts":[]}
_MEDIA: Final = (BlobPart, UriPart, FilePart)


@dataclass(frozen=True, slots=True)
class Built:
    """One content attribute: the structured value and its JSON (or plain) text."""

    value: Any
    text: str


def _parts(w: Walker, parts: Any) -> list[Any]:
    out: list[Any] = []
    if parts is None:
        return out
    if isinstance(parts, (str, Mapping)) or not isinstance(parts, Iterable):
        parts = [parts]
    items = parts if isinstance(parts, Sequence) else list(itertools.islice(parts, _MAX_ITEMS))
    total = len(items)
    for count, part in enumerate(items):
        if w.exhausted:
            w.dropped += total - count
            break
        # A long text leaves room for the parts after it (tool calls, blobs).
        w.reserve = min(_PART_RESERVE * (total - count - 1), w.allowance // 2)
        w.spend(_PART_OVERHEAD)
        converted = part_as_dict(w, part)
        if converted is None:
            w.dropped += 1
        else:
            out.append(converted)
    w.reserve = 0
    return out


def message_as_dict(w: Walker, message: Any) -> Any:
    """``{"role", "parts", "name"?}`` from a :class:`Message` (or a mapping of the same shape)."""
    finish = None
    if isinstance(message, Message):
        role, parts, name, finish = message.role, message.parts, message.name, message.finish_reason
    elif isinstance(message, Mapping):
        role = message.get("role", "unknown")
        parts = message.get("parts", message.get("content"))
        name = message.get("name")
        finish = message.get("finish_reason")
    else:
        role, parts, name = "unknown", [message], None
    w.spend(_MESSAGE_OVERHEAD)
    out: dict[str, Any] = {"role": ident(w, role), "parts": _parts(w, parts)}
    if parts and not out["parts"]:  # no room for any part: drop the message, not half of it
        return None
    if name is not None:  # a participant's name is content: it is redacted
        out["name"] = w.text(name if isinstance(name, str) else str(name), NAME_LIMIT, NAME_FLOOR)
    if isinstance(finish, str) and finish:  # per output message (schema; Phoenix needs it)
        out["finish_reason"] = ident(w, finish)
    return out


def tool_definition_as_dict(w: Walker, definition: Any) -> Any:
    if isinstance(definition, ToolDefinition):
        out: dict[str, Any] = {"type": ident(w, definition.type), "name": ident(w, definition.name)}
        if definition.description is not None:
            out["description"] = content_of(w, definition.description)
        if definition.parameters is not None:
            params = parse_json_text(definition.parameters, w.allowance)
            out["parameters"] = w.value(params)
        return out
    return w.value(definition)


def _document_as_dict(include_content: bool, w: Walker, document: Any) -> Any:
    if isinstance(document, Mapping):
        document = Document(document.get("id"), document.get("score"), document.get("content"))
    elif not isinstance(document, Document):
        return {"content": w.value(document)} if include_content else {}
    out: dict[str, Any] = {}
    if document.id is not None:  # often a URI (metadata["source"]): scrubbed, then redacted
        out["id"] = w.text(scrub_uri(str(document.id)), URI_LIMIT, NAME_FLOOR)
    score = document.score
    if isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score):
        out["score"] = score
        w.spend(24)
    if include_content and document.content is not None:
        out["content"] = content_of(w, document.content)
    return out


def _apply(convert: Callable[[Walker, Any], Any], item: Any, walker: Walker) -> Any:
    return convert(walker, item)


def build_list(
    items: Any,
    convert: Callable[[Walker, Any], Any],
    budget: ContentBudget,
    keep_latest: bool = False,
) -> Built | None:
    """A JSON array of converted items within the attribute limit and the span budget.

    Items that no longer fit are dropped (the oldest ones when ``keep_latest``) and counted on
    the budget. Returns ``None`` for no items or when nothing fits."""
    if items is None:
        return None
    if not isinstance(items, Sequence):
        items = list(itertools.islice(items, _MAX_ITEMS))
    total = len(items)
    if total == 0:
        return None
    limit = budget.attribute_limit
    order = range(total - 1, -1, -1) if keep_latest else range(total)
    values: list[Any] = []
    texts: list[str] = []
    used = 2  # the brackets
    truncated = False
    dropped = 0
    for count, index in enumerate(order):
        left = limit - used - 1
        fitted = (
            fit(functools.partial(_apply, convert, items[index]), left, budget.settings)
            if left >= MIN_ITEM
            else None
        )
        if fitted is None:
            dropped += total - count
            break
        value, text, walker = fitted
        values.append(value)
        texts.append(text)
        used += len(text) + 1
        truncated = truncated or walker.truncated
        dropped += walker.dropped
    budget.note(truncated, dropped)
    if not values:
        return None
    if keep_latest:
        values.reverse()
        texts.reverse()
    text = "[" + ",".join(texts) + "]"
    budget.charge(len(text))
    return Built(values, text)


def _call_message(w: Walker, item: Any) -> Any:
    return message_as_dict(w, item)


def _call_part(w: Walker, item: Any) -> Any:
    return part_as_dict(w, item)


def _call_tool(w: Walker, item: Any) -> Any:
    return tool_definition_as_dict(w, item)


def build_messages(messages: Any, budget: ContentBudget, keep_latest: bool = False) -> Built | None:
    return build_list(messages, _call_message, budget, keep_latest)


def build_parts(parts: Any, budget: ContentBudget) -> Built | None:
    if isinstance(parts, (str, Mapping)):
        parts = [parts]
    return build_list(parts, _call_part, budget)


def build_tool_definitions(definitions: Any, budget: ContentBudget) -> Built | None:
    return build_list(definitions, _call_tool, budget)


def build_documents(documents: Any, budget: ContentBudget, include_content: bool) -> Built | None:
    convert = functools.partial(_document_as_dict, include_content)
    return build_list(documents, convert, budget)


def build_value(value: Any, budget: ContentBudget) -> Built | None:
    """Tool arguments/results: JSON strings are parsed into objects first (semconv). A list
    holding binary parts (a tool that returned an image) is a parts array, blobs described."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and any(isinstance(v, _MEDIA) for v in value):
        return build_parts(value, budget)
    limit = budget.attribute_limit
    parsed = parse_json_text(value, limit)
    fitted = fit(lambda w: w.value(parsed), limit, budget.settings)
    if fitted is None:
        budget.note(dropped=1)
        return None
    result, text, walker = fitted
    budget.note(walker.truncated, walker.dropped)
    budget.charge(len(text))
    return Built(result, text)


def build_text(value: Any, budget: ContentBudget) -> Built | None:
    """A plain (non-JSON) string attribute such as the query text."""
    if value is None:
        return None
    raw = value if isinstance(value, str) else str(value)
    if not raw:
        return None
    text, cut = clip_text(raw, budget.attribute_limit, budget.settings)
    budget.note(cut, 0 if text else 1)
    if not text:
        return None
    budget.charge(len(text))
    return Built(text, text)

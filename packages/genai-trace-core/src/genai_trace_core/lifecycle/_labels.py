"""Labels: the names, ids and tags exported in every capture mode, bounded and scrubbed.

Span names, run and tool names, tags, user and session ids, models and finish reasons are not
content, so they are exported with capture off; but the app chooses some (a run name, a tag, a
user id), the model others (the name of a tool it asked for) and the provider the rest (the
response model), and any of them can be huge or quote a credential. Each goes out at most
``content.MAX_LABEL_CHARS`` long, credentials masked, valid UTF-8 (``content.bounded_label``).

The same few labels repeat on every span, so a label is looked up by value in a bounded dict
first (a dict look-up, not a scan); the dict is emptied when full, so values that never repeat
cannot hold memory or keep a repeated name out. Provider ids (response and tool call ids) are
only cut to length: they never repeat and the provider, not the app, writes them.
"""

from __future__ import annotations

from typing import Any

from genai_trace_core import semconv
from genai_trace_core.content import MAX_LABEL_CHARS, bounded_label

MAX_TAGS = 32  # items of a tuple-valued label (tags, finish reasons, stop sequences)
_MAX_SEEN = 4096
_SEEN: dict[str, str] = {}
_SEEN_TUPLES: dict[tuple[Any, ...], tuple[Any, ...]] = {}
# Provider ids: cut to length only. Descriptions: bounded longer where they are read
# (``content.bounded_description``).
_IDS = frozenset({semconv.GEN_AI_RESPONSE_ID, semconv.GEN_AI_TOOL_CALL_ID})
_LONGER = frozenset({semconv.GEN_AI_TOOL_DESCRIPTION, semconv.GEN_AI_AGENT_DESCRIPTION})


def label(text: str) -> str:
    """``text`` as a label: bounded, credentials masked, valid UTF-8."""
    out = _SEEN.get(text)
    return _new_label(text) if out is None else out


def _new_label(text: str) -> str:
    out = bounded_label(text)
    if len(text) <= 2 * MAX_LABEL_CHARS:  # a huge value is never kept
        if len(_SEEN) >= _MAX_SEEN:
            _SEEN.clear()
        _SEEN[text] = out
    return out


def _new_tuple(items: tuple[Any, ...]) -> tuple[Any, ...]:
    kept = items[:MAX_TAGS] if len(items) > MAX_TAGS else items
    out = tuple([label(v) if type(v) is str else v for v in kept])
    if len(_SEEN_TUPLES) >= _MAX_SEEN:
        _SEEN_TUPLES.clear()
    if len(items) <= MAX_TAGS:
        _SEEN_TUPLES[items] = out
    return out


def bound_labels(attributes: dict[str, Any]) -> dict[str, Any]:
    """Every string (and string in a tuple) of ``attributes`` as a label, in place. The hot path
    is one dict look-up per value, the result written back only when it differs."""
    seen, tuples = _SEEN, _SEEN_TUPLES
    for key, value in attributes.items():
        kind = type(value)
        if kind is str:
            out = seen.get(value)
            if out is value:
                continue
            if out is None:
                if key in _LONGER:
                    continue
                if key in _IDS:  # provider ids never repeat: cut to length, not kept
                    if len(value) > MAX_LABEL_CHARS:
                        attributes[key] = bounded_label(value)
                    continue
                out = _new_label(value)
            attributes[key] = out
        elif kind is tuple and value:
            found = tuples.get(value)
            attributes[key] = _new_tuple(value) if found is None else found
    return attributes

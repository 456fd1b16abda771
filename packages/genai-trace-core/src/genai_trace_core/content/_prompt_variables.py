"""``gen_ai.prompt.variable.<name>``: the values a prompt template was filled with.

One string attribute per variable (semconv type ``string``): a string value is cut then redacted
like any other content text; any other value becomes bounded, redacted JSON text. Every value
spends the span's :class:`ContentBudget`, and all of them together at most half of the span's
content limit (``Settings.max_span_content``): the rendered prompt already holds them, and the
rest stays for the input and output messages. A value past that is cut with the budget's
``…[truncated N chars]`` marker, one that no longer fits is dropped (both flagged). A
:class:`Message` or a list of them (a chat history) takes the input messages' shape, binary
content described as blob parts. Variable
names are identifiers, not content: they are not redacted, but they are cut to
:data:`MAX_NAME_LENGTH` characters and at most :data:`MAX_VARIABLES` of them are recorded (the
rest are counted as dropped). The caller checks the capture mode.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Final

from genai_trace_core import semconv
from genai_trace_core.content._serialize import Built, build_messages, build_text, build_value
from genai_trace_core.content._truncate import ContentBudget, sanitize_utf8
from genai_trace_core.records import Message

__all__ = ["MAX_NAME_LENGTH", "MAX_VARIABLES", "build_prompt_variables"]

MAX_VARIABLES: Final = 32
MAX_NAME_LENGTH: Final = 128


def _name(key: Any) -> str:
    name = key if isinstance(key, str) else str(key)
    return sanitize_utf8(name[:MAX_NAME_LENGTH].strip())


def build_prompt_variables(variables: Any, budget: ContentBudget) -> dict[str, Built]:
    """``{"gen_ai.prompt.variable.<name>": Built}`` for a mapping of template variables.

    Anything but a mapping yields ``{}``. Variables whose value is ``None`` or ``""``, or that no
    longer fit the budget, are left out (the ones that do not fit are counted as dropped)."""
    if not isinstance(variables, Mapping) or not variables:
        return {}
    with budget.keeping(budget.remaining - budget.settings.max_span_content // 2):
        out = _built(variables, budget)
    extra = len(variables) - MAX_VARIABLES
    if extra > 0:
        budget.note(dropped=extra)
    return out


def _built(variables: Mapping[Any, Any], budget: ContentBudget) -> dict[str, Built]:
    out: dict[str, Built] = {}
    for key, value in itertools.islice(variables.items(), MAX_VARIABLES):
        name = _name(key)
        if not name:
            continue
        built = _build(value, budget)
        if built is not None:  # a string in events too (semconv type), not the parsed value
            out[semconv.GEN_AI_PROMPT_VARIABLE_PREFIX + name] = Built(built.text, built.text)
    return out


def _build(value: Any, budget: ContentBudget) -> Built | None:
    if isinstance(value, str):
        return build_text(value, budget)
    if isinstance(value, Message):
        value = [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Message) for v in value):
        return build_messages(value, budget)  # a message history: the input messages' shape
    return build_value(value, budget)

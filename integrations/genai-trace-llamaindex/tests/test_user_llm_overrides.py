"""A user's model subclass overriding ``chat``/``complete`` (and their stream and async forms)
without LlamaIndex's callback decorator, calling the decorated one through ``super()``: one
inference span, the same as the model's own. Until 2026-12-06 it had none: the override's
dispatcher span had no start event of its own, and the decorated call inside it was taken for a
nested call of it (found by helper-47).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from li_support import Instrument
from llama_index.core.llms import ChatMessage
from llama_index.core.llms.mock import MockLLM

from genai_trace_core.testing import OTelHarness


class SubMock(MockLLM):
    """What users write: an override that adds a step and calls the model's own method."""

    def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
        return super().complete(prompt, formatted, **kw)

    def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
        return super().stream_complete(prompt, formatted, **kw)

    async def acomplete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
        return await super().acomplete(prompt, formatted, **kw)

    def chat(self, messages: Any, **kw: Any) -> Any:
        return super().chat(messages, **kw)


_MESSAGES = [ChatMessage(role="user", content="hi")]
CALLS: dict[str, Callable[[Any], Any]] = {
    "complete": lambda llm: llm.complete("hi").text,
    "stream_complete": lambda llm: "".join(c.delta for c in llm.stream_complete("hi")),
    "acomplete": lambda llm: asyncio.run(llm.acomplete("hi")).text,
    "chat": lambda llm: llm.chat(_MESSAGES).message.content,
}


@pytest.mark.parametrize("call", list(CALLS))
def test_an_override_calling_super_is_one_span_like_the_models_own(
    otel: OTelHarness, instrument: Instrument, call: str
) -> None:
    instrument()
    own = CALLS[call](MockLLM(max_tokens=5))
    expected = otel.snapshot_dicts()
    otel.clear()
    assert CALLS[call](SubMock(max_tokens=5)) == own
    got = otel.snapshot_dicts()
    assert len(got) == 1
    assert got == expected
    # (llama-index-core 0.12's MockLLM names no model: ``text_completion``)
    assert got[0]["name"].startswith("chat" if call == "chat" else "text_completion")

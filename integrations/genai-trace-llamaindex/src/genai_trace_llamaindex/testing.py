"""Deterministic LlamaIndex models for tests, examples and benchmarks (never imported by the
instrumentor).

* :class:`DeterministicLLM`: a function-calling chat model that looks like OpenAI ``gpt-4o-mini``:
  OpenAI-shaped ``raw`` responses with ``usage`` (also on the last streamed chunk, as with
  ``stream_options.include_usage``), word-by-word streaming, and tool calls from a script.
* :class:`DeterministicEmbedding`: hash-seeded unit vectors with a real model name.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import Field, PrivateAttr

_TOOL_CALL_BLOCK: type[Any] | None
try:  # newer cores: tool calls are message blocks
    from llama_index.core.base.llms.types import ToolCallBlock

    _TOOL_CALL_BLOCK = ToolCallBlock
except ImportError:  # older cores: OpenAI-shaped ``additional_kwargs["tool_calls"]``
    _TOOL_CALL_BLOCK = None

__all__ = ["DeterministicEmbedding", "DeterministicLLM", "count_tokens"]


def count_tokens(texts: Sequence[str]) -> int:
    """The fake tokenizer: one token per whitespace-separated word, plus 3 per message."""
    return sum(len(t.split()) + 3 for t in texts)


def _texts(messages: Sequence[ChatMessage]) -> list[str]:
    return [m.content or "" for m in messages]


class DeterministicLLM(FunctionCallingLLM):
    """Answers ``answer`` (or ``"Answer: <last user words>"``), streams it word by word, and
    when tools are offered plays ``tool_calls`` (``[(name, kwargs), ...]``) once before
    answering ``"The result is <tool output>."``. ``fail_with`` raises on every call."""

    model: str = Field(default="gpt-4o-mini")
    answer: str | None = Field(default=None)
    tool_calls: list[tuple[str, dict[str, Any]]] = Field(default_factory=list)
    cached_tokens: int = Field(default=0)
    fail_with: Any = Field(default=None, exclude=True)
    _calls: int = PrivateAttr(default=0)

    @classmethod
    def class_name(cls) -> str:
        return "DeterministicLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self.model,
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=128_000,
            num_output=16_384,
        )

    # --- the model ---------------------------------------------------------------------------

    def _reply(self, messages: Sequence[ChatMessage], tools: Any) -> ChatMessage:
        if self.fail_with is not None:
            raise self.fail_with
        self._calls += 1
        tool_results = [m for m in messages if m.role == MessageRole.TOOL]
        if tools and self.tool_calls and not tool_results:
            return _tool_call_message(self.tool_calls)
        if tool_results:
            return ChatMessage(
                role=MessageRole.ASSISTANT,
                content=f"The result is {tool_results[-1].content}.",
            )
        if self.answer is not None:
            return ChatMessage(role=MessageRole.ASSISTANT, content=self.answer)
        last = next((m.content for m in reversed(messages) if m.role == MessageRole.USER), "")
        words = (last or "").split()[-6:]
        return ChatMessage(role=MessageRole.ASSISTANT, content="Answer: " + " ".join(words))

    def _raw(
        self, messages: Sequence[ChatMessage], reply: ChatMessage, chunk: bool
    ) -> dict[str, Any]:
        prompt = count_tokens(_texts(messages))
        calls = len(_tool_calls_of(reply))
        completion = count_tokens([reply.content or ""]) - 3 + 3 * calls
        finish = "tool_calls" if calls else "stop"
        return {
            "id": f"chatcmpl-{self._calls:04d}",
            "object": "chat.completion.chunk" if chunk else "chat.completion",
            "model": f"{self.model}-2024-07-18",
            "choices": [{"index": 0, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": min(self.cached_tokens, prompt)},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def _chat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        reply = self._reply(messages, kwargs.get("tools"))
        return ChatResponse(message=reply, raw=self._raw(messages, reply, chunk=False))

    def _stream(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> Generator[ChatResponse, None, None]:
        reply = self._reply(messages, kwargs.get("tools"))
        text = reply.content or ""
        words = text.split(" ") if text else []
        so_far = ""
        for i, word in enumerate(words):
            delta = word if i == 0 else " " + word
            so_far += delta
            yield ChatResponse(
                message=ChatMessage(role=MessageRole.ASSISTANT, content=so_far), delta=delta
            )
        # The final chunk carries the tool calls and the usage (OpenAI's include_usage chunk).
        yield ChatResponse(message=reply, delta="", raw=self._raw(messages, reply, chunk=True))

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(messages, kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        sync = self._stream(messages, kwargs)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            for item in sync:
                yield item

        return gen()

    def _completion(self, prompt: str) -> CompletionResponse:
        response = self._chat([ChatMessage(role=MessageRole.USER, content=prompt)], {})
        return CompletionResponse(text=response.message.content or "", raw=response.raw)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return self._completion(prompt)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return self._completion(prompt)

    def _stream_completion(self, prompt: str) -> Generator[CompletionResponse, None, None]:
        for chunk in self._stream([ChatMessage(role=MessageRole.USER, content=prompt)], {}):
            yield CompletionResponse(
                text=chunk.message.content or "", delta=chunk.delta, raw=chunk.raw
            )

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return self._stream_completion(prompt)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        sync = self._stream_completion(prompt)

        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            for item in sync:
                yield item

        return gen()

    # --- function calling ----------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        specs = [tool.metadata.to_openai_tool() for tool in tools]
        return {"messages": messages, "tools": specs or None, **kwargs}

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = _tool_calls_of(response.message)
        if not calls and error_on_no_tool_call:
            raise ValueError("expected at least one tool call")
        return [
            ToolSelection(tool_id=call_id, tool_name=name, tool_kwargs=kwargs)
            for call_id, name, kwargs in calls
        ]


def _tool_call_message(calls: Sequence[tuple[str, dict[str, Any]]]) -> ChatMessage:
    """An assistant message asking for ``calls``, in the shape this core version uses."""
    if _TOOL_CALL_BLOCK is not None:
        blocks: list[Any] = [
            _TOOL_CALL_BLOCK(tool_call_id=f"call_{i}", tool_name=name, tool_kwargs=kwargs)
            for i, (name, kwargs) in enumerate(calls, 1)
        ]
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
    openai_calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(kwargs)},
        }
        for i, (name, kwargs) in enumerate(calls, 1)
    ]
    return ChatMessage(
        role=MessageRole.ASSISTANT, content="", additional_kwargs={"tool_calls": openai_calls}
    )


def _tool_calls_of(message: ChatMessage) -> list[tuple[str, str, dict[str, Any]]]:
    """``(call id, tool name, kwargs)`` of every tool call ``message`` asks for."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if _TOOL_CALL_BLOCK is not None:
        for b in message.blocks:
            if isinstance(b, _TOOL_CALL_BLOCK):
                kwargs = b.tool_kwargs if isinstance(b.tool_kwargs, dict) else {}
                out.append((b.tool_call_id or "", b.tool_name, kwargs))
    for call in message.additional_kwargs.get("tool_calls") or ():
        fn = call.get("function") or {}
        args = fn.get("arguments")
        kwargs = json.loads(args) if isinstance(args, str) and args else {}
        out.append((str(call.get("id") or ""), str(fn.get("name") or ""), kwargs))
    return out


class DeterministicEmbedding(BaseEmbedding):
    """Unit vectors seeded by a hash of the text (same text, same vector)."""

    model_name: str = Field(default="text-embedding-3-small")
    embed_dim: int = Field(default=8)

    @classmethod
    def class_name(cls) -> str:
        return "DeterministicEmbedding"

    def _vector(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        raw = [digest[i % len(digest)] - 127.5 for i in range(self.embed_dim)]
        norm = math.sqrt(sum(x * x for x in raw)) or 1.0
        return [x / norm for x in raw]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

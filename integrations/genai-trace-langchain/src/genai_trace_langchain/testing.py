"""Deterministic offline models for tests, examples and benchmarks (not imported by the handler).

* :class:`FakeChatOpenAI` looks like ``ChatOpenAI`` to tracing: a real model name, ``ls_provider``
  ``openai``, OpenAI-style invocation parameters, ``usage_metadata`` with cached and reasoning
  tokens (also on the final stream chunk), response ids, finish reasons, ``bind_tools`` and tool
  calls. Reply ``i`` of a conversation is ``responses[i]`` where ``i`` counts the assistant turns
  after the last user message, so the same input always gets the same reply, across threads.
  ``answer_fn(messages)`` (an ``AIMessage`` or a string), when given, decides every reply instead
  (the examples use it for extractive answers and scripted tool calls).
* :class:`DeterministicEmbeddings` returns hash-based unit vectors for an OpenAI model name.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

__all__ = ["DeterministicEmbeddings", "FakeChatOpenAI"]


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)


def _words(text: str) -> int:
    return len(text.split())


class FakeChatOpenAI(BaseChatModel):
    """An offline chat model that traces exactly like ``ChatOpenAI`` (see the module docs)."""

    model_name: str = Field(default="gpt-4o-mini", alias="model")
    response_model: str = "gpt-4o-mini-2024-07-18"
    temperature: float = 0.0
    max_tokens: int | None = 256
    responses: list[Any] = Field(default_factory=list)  # AIMessage or str, by turn
    answer_fn: Callable[[list[BaseMessage]], Any] | None = None  # overrides ``responses``
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    delay_s: float = 0.0  # before answering (and before each streamed chunk)
    fail_with: BaseException | None = None

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    @property
    def _llm_type(self) -> str:
        return "fake-openai-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "n": 1,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="openai",
            ls_model_name=self.model_name,
            ls_model_type="chat",
            ls_temperature=self.temperature,
        )
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop:
            params["ls_stop"] = stop
        return params

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[Any, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # --- the reply ---------------------------------------------------------------------------

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if self.fail_with is not None:
            raise self.fail_with
        turn = 0
        for m in reversed(messages):
            if m.type == "human":
                break
            if m.type == "ai":
                turn += 1
        if self.answer_fn is not None:
            chosen = self.answer_fn(messages)
        elif self.responses:
            chosen = self.responses[min(turn, len(self.responses) - 1)]
        else:
            last = next((_text(m) for m in reversed(messages) if m.type == "human"), "")
            chosen = "Answer: " + " ".join(last.split()[:8])
        base = AIMessage(content=chosen) if isinstance(chosen, str) else chosen
        prompt = "\n".join(_text(m) for m in messages)
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        input_tokens = sum(_words(_text(m)) + 4 for m in messages)
        output_tokens = _words(_text(base)) + 12 * len(base.tool_calls) + self.reasoning_tokens
        usage = UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
            input_token_details={"cache_read": min(self.cached_tokens, input_tokens)},
            output_token_details={"reasoning": self.reasoning_tokens},
        )
        finish = "tool_calls" if base.tool_calls else "stop"
        return AIMessage(
            content=base.content,
            tool_calls=base.tool_calls,
            id=f"chatcmpl-{digest}",
            usage_metadata=usage,
            response_metadata={
                "model_name": self.response_model,
                "finish_reason": finish,
                "system_fingerprint": "fp_fake",
                "id": f"chatcmpl-{digest}",
            },
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _chunks(self, reply: AIMessage) -> list[ChatGenerationChunk]:
        text = _text(reply)
        pieces = [w + " " for w in text.split(" ")] if text else []
        if pieces:
            pieces[-1] = pieces[-1][:-1]
        chunks = [
            ChatGenerationChunk(message=AIMessageChunk(content=p, id=reply.id)) for p in pieces
        ]
        if reply.tool_calls:
            import json

            chunks.append(
                ChatGenerationChunk(
                    message=AIMessageChunk(
                        content="",
                        id=reply.id,
                        tool_call_chunks=[
                            {
                                "name": c["name"],
                                "args": json.dumps(c["args"]),
                                "id": c["id"],
                                "index": i,
                                "type": "tool_call_chunk",
                            }
                            for i, c in enumerate(reply.tool_calls)
                        ],
                    )
                )
            )
        chunks.append(  # OpenAI's final chunk: no content, finish reason and usage
            ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    id=reply.id,
                    usage_metadata=reply.usage_metadata,
                    response_metadata=reply.response_metadata,
                    chunk_position="last",
                )
            )
        )
        return chunks

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._reply(messages)):
            if self.delay_s:
                time.sleep(self.delay_s)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._reply(messages)):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield chunk


class DeterministicEmbeddings(Embeddings):
    """Hash-based unit vectors: the same text always gets the same vector, offline."""

    def __init__(self, model: str = "text-embedding-3-small", size: int = 64) -> None:
        self.model = model
        self.size = size

    def _vector(self, text: str) -> list[float]:
        raw: list[float] = []
        counter = 0
        while len(raw) < self.size:
            digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
            raw.extend((b - 127.5) / 127.5 for b in digest)
            counter += 1
        vec = raw[: self.size]
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

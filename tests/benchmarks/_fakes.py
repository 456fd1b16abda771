"""Deterministic offline models for the benchmark workloads (no network, no randomness).

They look like the real providers to every instrumentation: the LangChain chat model carries
``model_name``, ``ls_provider=openai``, invocation params, ``usage_metadata`` (also on the last
stream chunk), ``bind_tools`` and is lc-serializable, like ``ChatOpenAI``; the LlamaIndex LLM is a
chat model with a model name and OpenAI-style raw usage. The same classes serve every
instrumentation, so competitors and genai-trace are measured on the very same work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.mock import MockLLM

MODEL = "gpt-4o-mini"
ANSWER = (
    "Paris is the capital of France. It sits on the Seine and has been the country's political "
    "and cultural centre for centuries, home to the Louvre, Notre-Dame and the Eiffel Tower. "
)
STREAM_CHUNKS = 60
_TOOL_ANSWER = "It is 21 degrees and sunny in Paris; the local time there is 14:05."
_USAGE = {"input_tokens": 120, "output_tokens": 42, "total_tokens": 162}


def _stream_pieces(text: str, n: int) -> list[str]:
    words = (text * 4).split(" ")
    return [w + " " for w in words[: n - 1]] + ["."]


class FakeChatOpenAI(GenericFakeChatModel):
    """A ``ChatOpenAI`` look-alike: fixed answer, tool calls when tools are bound."""

    model_name: str = MODEL
    temperature: float = 0.2
    max_tokens: int = 256
    messages: Iterator[AIMessage | str] = iter(())

    @property
    def _llm_type(self) -> str:
        return "openai-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain", "chat_models", "openai"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "openai"
        params["ls_model_name"] = self.model_name
        params["ls_model_type"] = "chat"
        params["ls_temperature"] = self.temperature
        params["ls_max_tokens"] = self.max_tokens
        return params

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | BaseTool | Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, **kwargs)

    def _reply(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        meta = {"model_name": self.model_name, "finish_reason": "stop", "id": "chatcmpl-bench"}
        tools = kwargs.get("tools")
        if tools and not any(isinstance(m, ToolMessage) for m in messages):
            calls = [
                {"name": t["function"]["name"], "args": {"city": "Paris"}, "id": f"call_{i}"}
                for i, t in enumerate(tools[:2])
            ]
            meta["finish_reason"] = "tool_calls"
            return AIMessage(
                content="", tool_calls=calls, usage_metadata=_USAGE, response_metadata=meta
            )
        text = _TOOL_ANSWER if tools else ANSWER
        return AIMessage(content=text, usage_metadata=_USAGE, response_metadata=meta)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, **kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces = _stream_pieces(ANSWER, STREAM_CHUNKS)
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            if i == last:
                msg = AIMessageChunk(
                    content=piece,
                    usage_metadata=_USAGE,  # type: ignore[arg-type]
                    response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
                    chunk_position="last",
                )
            else:
                msg = AIMessageChunk(content=piece)
            chunk = ChatGenerationChunk(message=msg)
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


# --- LlamaIndex -----------------------------------------------------------------------------

_REACT_ACTION = (
    "Thought: I need to use a tool to help me answer the question.\n"
    "Action: get_weather\n"
    'Action Input: {"city": "Paris"}'
)
_REACT_ANSWER = "Thought: I can answer without using any more tools.\nAnswer: " + _TOOL_ANSWER


def _raw_usage() -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "model": MODEL,
        "usage": {"prompt_tokens": 120, "completion_tokens": 42, "total_tokens": 162},
        "choices": [{"finish_reason": "stop"}],
    }


class FakeOpenAILLM(MockLLM):
    """A LlamaIndex chat model (``predict`` goes through ``chat``) with OpenAI-style usage."""

    model: str = MODEL
    max_tokens: int | None = None

    @classmethod
    def class_name(cls) -> str:
        return "FakeOpenAILLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=128000,
            num_output=256,
            is_chat_model=True,
            is_function_calling_model=False,
            model_name=self.model,
        )

    def _text(self, messages: Sequence[ChatMessage]) -> str:
        first = str(messages[0].content or "") if messages else ""
        if "Action Input" in first:  # the ReAct system prompt
            last = str(messages[-1].content or "")
            return _REACT_ANSWER if "Observation" in last else _REACT_ACTION
        return ANSWER

    def _response(self, text: str) -> ChatResponse:
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=_raw_usage()
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER, raw=_raw_usage())

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response(self._text(messages))

    def _chunks(self, messages: Sequence[ChatMessage]) -> ChatResponseGen:
        pieces = _stream_pieces(self._text(messages), STREAM_CHUNKS)
        text = ""
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            text += piece
            yield ChatResponse(
                message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                delta=piece,
                raw=_raw_usage() if i == last else None,
            )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._chunks(messages)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response(self._text(messages))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        chunks = self._chunks(messages)

        async def gen() -> ChatResponseAsyncGen:
            for r in chunks:
                yield r

        return gen()

"""``with_fallbacks``: the first real ``ChatOpenAI`` gets an HTTP 500, the fallback answers. One
trace, every span ended, the answer's tokens counted once, nothing of the prompt or answer
exported. Inside a chain the model spans sit beside the fallbacks span, not under it: LangChain
hands the models the chain's callbacks instead of the fallbacks run's (langchain-ai/langchain
#36072; the "Known LangChain limitation" in docs/guarantees.md). When LangChain fixes it, the
chain test fails here: move the two spans under ``RunnableWithFallbacks`` and drop the note."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import httpx
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables.utils import coro_with_context
from lifecycle_checks import Lifecycle
from openai_clients import RESPONSE_MODEL, chat_model
from openai_wire import OpenAIWire, chat_completion, usage
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler

QUESTION = "Where is parcel 42 right now?"
ANSWER = "Parcel 42 is in the Leeds depot."
# langchain-openai wraps the SDK's error in its own class since 1.1.
FAILED = {"langchain_openai.chat_models.base.OpenAIAPIError", "openai.InternalServerError"}


def _models(clients: Any) -> tuple[Any, Any]:
    down = OpenAIWire(httpx.Response(500, json={"error": {"message": QUESTION, "code": "x"}}))
    up = OpenAIWire(
        chat_completion(
            response_id="chatcmpl-1", model=RESPONSE_MODEL, content=ANSWER, token_usage=usage(9, 6)
        )
    )
    return chat_model(down, clients), chat_model(up, clients)


def _check(otel: OTelHarness, handler: OpenTelemetryCallbackHandler, life: Lifecycle) -> None:
    life.check()
    assert handler.telemetry.open_count() == 0
    assert len({s.context.trace_id for s in otel.spans()}) == 1
    chats = [s for s in otel.span_dicts() if s["name"].startswith("chat ")]
    assert [s["name"] for s in chats] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert chats[0]["attributes"][semconv.ERROR_TYPE] in FAILED
    assert semconv.ERROR_TYPE not in chats[1]["attributes"]
    assert chats[1]["attributes"][semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    data = encode_spans(otel.spans()).SerializeToString()
    assert QUESTION.encode() not in data and ANSWER.encode() not in data


async def _models_run_in_a_task_of_their_own() -> bool:
    """Whether ``RunnableWithFallbacks.ainvoke`` awaits each model in a task of its own (with the
    fallbacks run's context): always on 3.11+; on 3.10 only where ``coro_with_context`` creates
    the task itself (langchain-core 1.0.x awaited the bare coroutine in the caller's context)."""
    awaitable = coro_with_context(asyncio.sleep(0), contextvars.copy_context())
    await awaitable
    return isinstance(awaitable, asyncio.Task)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_fallback_model_called_alone_nests_both_calls_under_it(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    clients: Any,
    mode: str,
) -> None:
    down, up = _models(clients)
    model = down.with_fallbacks([up])
    config: Any = {"callbacks": [handler]}
    answer = (
        model.invoke(QUESTION, config) if mode == "sync" else await model.ainvoke(QUESTION, config)
    )
    assert answer.content == ANSWER
    calls = [
        ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
    ]
    if mode == "async" and not await _models_run_in_a_task_of_their_own():
        # 3.10 with langchain-core 1.0.x: the models run in the caller's very context (no task
        # with a copy of it), and LangChain reports them as roots: core keeps roots started
        # there apart, as for batches. Later releases run them in a task on 3.10 too.
        assert shape(otel.tree()) == [["invoke_workflow", "INTERNAL", "UNSET", []], *calls]
        assert len({s.context.trace_id for s in otel.spans()}) == 3
        lifecycle.check()
        return
    assert shape(otel.tree()) == [["invoke_workflow", "INTERNAL", "UNSET", calls]]
    _check(otel, handler, lifecycle)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_fallback_model_in_a_chain_puts_both_calls_beside_the_fallbacks_span(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    clients: Any,
    mode: str,
) -> None:
    down, up = _models(clients)
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = prompt | down.with_fallbacks([up]) | StrOutputParser()
    config: Any = {"callbacks": [handler]}
    q = {"q": QUESTION}
    answer = chain.invoke(q, config) if mode == "sync" else await chain.ainvoke(q, config)
    assert answer == ANSWER
    assert shape(otel.tree()) == [
        [
            "invoke_workflow",
            "INTERNAL",
            "UNSET",
            [
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["RunnableWithFallbacks", "INTERNAL", "UNSET", []],  # as LangChain reports it
                ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
                ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ["StrOutputParser", "INTERNAL", "UNSET", []],
            ],
        ]
    ]
    _check(otel, handler, lifecycle)

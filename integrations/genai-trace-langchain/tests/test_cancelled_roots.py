"""A bare ``await model.ainvoke(...)`` or ``await retriever.ainvoke(...)`` whose task is
cancelled (``task.cancel()``, ``asyncio.wait_for``, ``asyncio.timeout``): LangChain reports no end
for it, yet its span ends, as ``cancelled`` (or ``abandoned`` when its task carried on and
finished), and the registry is empty. The real ``ChatOpenAI`` over an ``httpx.MockTransport``
that answers after the caller gave up."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from lifecycle_checks import Lifecycle
from openai_clients import API_KEY, CHAT_MODEL, RESPONSE_MODEL
from openai_wire import chat_completion, usage
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from slow_calls import ANSWER, SlowRetriever

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

QUESTION = "Which parcel left the warehouse at 5 am?"


async def _slow_answer(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(0.3 if QUESTION in request.content.decode() else 0)
    return chat_completion(
        response_id="chatcmpl-1", model=RESPONSE_MODEL, content=ANSWER, token_usage=usage(9, 5)
    )


@pytest.fixture
async def model() -> AsyncIterator[Any]:
    from langchain_openai import ChatOpenAI

    async with httpx.AsyncClient(transport=httpx.MockTransport(_slow_answer)) as client:
        yield ChatOpenAI(model=CHAT_MODEL, api_key=API_KEY, max_retries=0, http_async_client=client)


def _only_span(otel: OTelHarness, handler: OpenTelemetryCallbackHandler) -> dict[str, Any]:
    [span] = otel.span_dicts()
    assert handler.telemetry.open_count() == 0
    data = encode_spans(otel.spans()).SerializeToString()
    assert QUESTION.encode() not in data and ANSWER.encode() not in data
    return {
        "name": span["name"],
        "status": span["status"],
        "error.type": span["attributes"].get(semconv.ERROR_TYPE),
    }


async def test_cancelled_task_ends_a_bare_model_call_as_cancelled(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, model: Any
) -> None:
    task = asyncio.create_task(model.ainvoke(QUESTION, config={"callbacks": [handler]}))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)  # the task's done callbacks run on the loop's next turn
    assert _only_span(otel, handler) == {
        "name": "chat gpt-4o-mini",
        "status": "ERROR",
        "error.type": "cancelled",
    }
    lifecycle.check()


async def test_wait_for_timeout_ends_a_bare_retriever_call(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    async def request() -> None:
        retrieved = SlowRetriever().ainvoke(QUESTION, config={"callbacks": [handler]})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(retrieved, 0.05)

    await asyncio.create_task(request())
    await asyncio.sleep(0)  # the task's done callbacks run on the loop's next turn
    # 3.10/3.11: wait_for runs the call in a task of its own, cancelled; 3.12+ in this one,
    # which carries on and ends with the run still open.
    reason = "cancelled" if sys.version_info < (3, 12) else "abandoned"
    assert _only_span(otel, handler) == {
        "name": "retrieval",
        "status": "ERROR",
        "error.type": reason,
    }
    lifecycle.check()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
async def test_timeout_inside_a_task_that_carries_on_ends_the_call_where_it_is_cut_short(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, model: Any
) -> None:
    async def request() -> str:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.05):  # the call runs in this very task
                await model.ainvoke(QUESTION)
        answer = await model.ainvoke("and now?")  # ends normally, no callback left behind
        return str(answer.content)

    assert await asyncio.create_task(request()) == ANSWER
    await asyncio.sleep(0)  # the task's done callbacks run on the loop's next turn
    spans = {s["name"] + " " + s["status"]: s["attributes"] for s in otel.span_dicts()}
    assert sorted(spans) == ["chat gpt-4o-mini ERROR", "chat gpt-4o-mini UNSET"]
    # the instrumentor ends it where the timeout cut it short (test_cut_short_calls), not with
    # the task (``abandoned``, which a handler passed by hand still gets)
    assert spans["chat gpt-4o-mini ERROR"][semconv.ERROR_TYPE] == "cancelled"
    assert spans["chat gpt-4o-mini UNSET"][semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    lifecycle.check()

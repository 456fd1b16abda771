"""A bare ``await model.ainvoke(...)`` or ``await retriever.ainvoke(...)`` cut short by a timeout
in the request's own task (``asyncio.timeout``, ``anyio.move_on_after``/``fail_after``,
``asyncio.wait_for``), after which the request carries on. LangChain reports no end for such a
call; with the instrumentor its run ends right there, as ``cancelled``: the request's span is
current again, the next span nests under the request (not under the dead model span), a provider
instrumentation traces the app's next direct OpenAI call again, and every span started ended.
The real ``ChatOpenAI`` over an ``httpx.MockTransport`` that answers after the caller gave up."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda
from lifecycle_checks import Lifecycle
from openai_clients import API_KEY, CHAT_MODEL, EMBED_MODEL, RESPONSE_MODEL
from openai_wire import chat_completion, usage
from opentelemetry import trace
from slow_calls import ANSWER, SlowRetriever

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, ProviderInstrumentation
from genai_trace_core.testing import tree_shape as shape

anyio = pytest.importorskip("anyio")

QUESTION = "Which parcel left the warehouse at 5 am?"
LIMIT = 0.05  # the caller's timeout; a QUESTION is answered after 0.3 s


async def _slow_answer(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(0.3 if QUESTION in request.content.decode() else 0)
    return chat_completion(
        response_id="chatcmpl-1", model=RESPONSE_MODEL, content=ANSWER, token_usage=usage(9, 5)
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_slow_answer)) as client:
        yield client


@pytest.fixture
def model(http: httpx.AsyncClient) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=CHAT_MODEL, api_key=API_KEY, max_retries=0, http_async_client=http)


async def _cut_short(how: str, call: Callable[[], Awaitable[Any]]) -> None:
    """Run ``call()`` in this task under the timeout ``how``, and carry on when it expires."""
    if how == "asyncio.timeout":
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LIMIT):  # type: ignore[attr-defined,unused-ignore]
                await call()
    elif how == "asyncio.wait_for":  # 3.12+: in this task; 3.10/3.11: in a task of its own
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(call(), LIMIT)
    elif how == "anyio.move_on_after":
        with anyio.move_on_after(LIMIT):
            await call()
    else:
        with contextlib.suppress(TimeoutError), anyio.fail_after(LIMIT):
            await call()


TIMEOUTS = [
    pytest.param(
        "asyncio.timeout",
        marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout: 3.11+"),
    ),
    "asyncio.wait_for",
    "anyio.move_on_after",
    "anyio.fail_after",
]


def _embeddings(model: Any) -> Any:
    from langchain_openai import OpenAIEmbeddings

    return OpenAIEmbeddings(
        model=EMBED_MODEL,
        api_key=API_KEY,
        max_retries=0,
        http_async_client=model.http_async_client,
        check_embedding_ctx_length=False,  # the texts go out as they are
    )


async def _consume(stream: AsyncIterator[Any]) -> None:
    async for _ in stream:
        pass


CALLS: dict[str, tuple[Callable[[Any], Awaitable[Any]], str]] = {
    "model.ainvoke": (lambda model: model.ainvoke(QUESTION), "chat gpt-4o-mini"),
    "model.agenerate": (
        lambda model: model.agenerate([[HumanMessage(QUESTION)]]),
        "chat gpt-4o-mini",
    ),
    "model.astream": (lambda model: _consume(model.astream(QUESTION)), "chat gpt-4o-mini"),
    "retriever.ainvoke": (lambda _: SlowRetriever().ainvoke(QUESTION), "retrieval"),
    "embeddings.aembed_query": (
        lambda model: _embeddings(model).aembed_query(QUESTION),
        f"embeddings {EMBED_MODEL}",
    ),
}


async def _request(otel: OTelHarness, how: str, call: Callable[[], Awaitable[Any]]) -> list[str]:
    """The request: the call cut short, then a step of its own. Returns what it saw."""
    tracer = otel.tracer_provider.get_tracer("app")
    seen: list[str] = []
    with tracer.start_as_current_span("request") as request:
        await _cut_short(how, call)
        current = trace.get_current_span()
        seen.append("request current" if current is request else f"current: {current}")
        seen.extend(f"ended: {s.name}" for s in otel.spans())  # before the request goes on
        with tracer.start_as_current_span("next step"):
            pass
    return seen


@pytest.mark.parametrize("how", TIMEOUTS)
@pytest.mark.parametrize("what", sorted(CALLS))
async def test_a_call_cut_short_ends_there_and_the_request_carries_on_under_its_span(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, model: Any, how: str, what: str
) -> None:
    call, name = CALLS[what]

    seen = await asyncio.create_task(_request(otel, how, lambda: call(model)))

    assert seen == ["request current", f"ended: {name}"]
    assert shape(otel.tree()) == [
        [
            "request",
            "INTERNAL",
            "UNSET",
            [[name, "CLIENT", "ERROR", []], ["next step", "INTERNAL", "UNSET", []]],
        ]
    ]
    [cut] = [s for s in otel.spans() if s.name == name]
    assert (cut.attributes or {})[semconv.ERROR_TYPE] == semconv.ERROR_TYPE_CANCELLED
    assert instrumented.handler.telemetry.open_count() == 0
    lifecycle.check()


async def test_a_call_cut_short_inside_a_chain_step_ends_there_under_the_step(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, model: Any
) -> None:
    # the config passed on: Python 3.10 hands it to async code only so (see test_user_spans_nest)
    async def step(question: str, config: RunnableConfig) -> str:
        await _cut_short("anyio.move_on_after", lambda: model.ainvoke(question, config))
        current = trace.get_current_span()
        return getattr(current, "name", "?")  # the step's own span, not the dead model span

    assert await RunnableLambda(step).with_config(run_name="answer").ainvoke(QUESTION) == (
        "invoke_workflow answer"
    )
    assert shape(otel.tree(), kind=False) == [
        ["invoke_workflow answer", "UNSET", [["chat gpt-4o-mini", "ERROR", []]]]
    ]
    lifecycle.check()


async def test_the_next_direct_openai_call_is_traced_by_the_provider_instrumentation(
    otel: OTelHarness,
    instrumented: Any,
    provider_instrumentation: ProviderInstrumentation,
    model: Any,
    http: httpx.AsyncClient,
) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key=API_KEY, http_client=http, max_retries=0)
    messages = [{"role": "user", "content": "and now?"}]

    async def request() -> None:
        tracer = otel.tracer_provider.get_tracer("app")
        with tracer.start_as_current_span("request"):
            await _cut_short("anyio.move_on_after", lambda: model.ainvoke(QUESTION))
            await client.chat.completions.create(model=CHAT_MODEL, messages=messages)  # type: ignore[arg-type]

    await asyncio.create_task(request())

    direct = [provider_instrumentation.chat_span, "CLIENT", "UNSET", []]
    ours = ["chat gpt-4o-mini", "CLIENT", "ERROR", []]
    assert shape(otel.tree()) == [["request", "INTERNAL", "UNSET", [ours, direct]]]


def test_the_wrapped_entry_points_keep_their_shape_and_are_restored(otel: OTelHarness) -> None:
    from genai_trace_langchain import LangChainInstrumentor

    targets = [(BaseChatModel, "agenerate"), (BaseRetriever, "ainvoke")]
    originals = [cls.__dict__[name] for cls, name in targets]
    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        for (cls, name), original in zip(targets, originals, strict=True):
            wrapped = cls.__dict__[name]
            assert wrapped is not original
            assert inspect.iscoroutinefunction(wrapped)
            assert wrapped.__name__ == name and wrapped.__doc__ == original.__doc__
            assert inspect.signature(wrapped) == inspect.signature(original)
    finally:
        inst.uninstrument()
    assert [cls.__dict__[name] for cls, name in targets] == originals

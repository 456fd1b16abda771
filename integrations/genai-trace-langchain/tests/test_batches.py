"""Batches: LangChain starts every item's root run in the caller's context before it runs any.
Four independent inputs are four traces (or, under the caller's span, four siblings under it),
each with the tree the same input makes alone; every span ends; OpenTelemetry logs no error."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from lifecycle_checks import Lifecycle, traces
from openai_wire import OpenAIWire, chat_completion

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, span_tree
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

CHAIN = [
    "invoke_workflow qa",
    "INTERNAL",
    "UNSET",
    [
        ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
        ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
        ["StrOutputParser", "INTERNAL", "UNSET", []],
    ],
]
CHAT = ["chat gpt-4o-mini", "CLIENT", "UNSET", []]
INPUTS = [{"q": f"question {i}"} for i in range(4)]


def _chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | FakeChatOpenAI() | StrOutputParser()).with_config(run_name="qa")


def _one_tree_per_trace(otel: OTelHarness, expected: list[Any], n: int = 4) -> None:
    by_trace = traces(otel)
    assert len(by_trace) == n
    for spans in by_trace.values():
        assert shape(span_tree(spans)) == [expected]


@pytest.mark.parametrize("max_concurrency", [None, 1])
def test_sequence_batch_is_one_trace_per_input(
    otel: OTelHarness,
    handler: OpenTelemetryCallbackHandler,
    lifecycle: Lifecycle,
    max_concurrency: int | None,
) -> None:
    config: dict[str, Any] = {"callbacks": [handler], "max_concurrency": max_concurrency}
    assert len(_chain().batch(INPUTS, config=config)) == 4  # type: ignore[arg-type]
    _one_tree_per_trace(otel, CHAIN)
    lifecycle.check()
    assert handler.telemetry.open_count() == 0


async def test_sequence_abatch_is_one_trace_per_input(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    await _chain().abatch(INPUTS, config={"callbacks": [handler]})
    _one_tree_per_trace(otel, CHAIN)
    lifecycle.check()


def test_llm_batch_and_chat_generate_are_one_trace_per_prompt(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    FakeListLLM(responses=["a", "b", "c", "d"]).batch(
        ["p0", "p1", "p2", "p3"], config={"callbacks": [handler]}
    )
    _one_tree_per_trace(otel, ["text_completion", "CLIENT", "UNSET", []])
    otel.span_exporter.clear()
    FakeChatOpenAI().generate([[HumanMessage(f"m{i}")] for i in range(4)], callbacks=[handler])
    _one_tree_per_trace(otel, CHAT)
    lifecycle.check()


async def test_chat_agenerate_is_one_trace_per_prompt(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    await FakeChatOpenAI().agenerate(
        [[HumanMessage(f"m{i}")] for i in range(4)], callbacks=[handler]
    )
    _one_tree_per_trace(otel, CHAT)
    lifecycle.check()


def test_batch_under_the_callers_span_gives_each_input_its_own_subtree(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("request"):
        _chain().batch(INPUTS, config={"callbacks": [handler]})
        with tracer.start_as_current_span("after"):
            pass
    assert shape(otel.tree()) == [
        [
            "request",
            "INTERNAL",
            "UNSET",
            [CHAIN, CHAIN, CHAIN, CHAIN, ["after", "INTERNAL", "UNSET", []]],
        ]
    ]
    lifecycle.check()


def test_batches_from_threads_and_sequential_calls_keep_their_traces_apart(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    chain = _chain()

    def work(_: int) -> None:
        chain.batch(INPUTS, config={"callbacks": [handler]})
        chain.invoke({"q": "alone"}, config={"callbacks": [handler]})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    _one_tree_per_trace(otel, CHAIN, n=20)
    lifecycle.check()


def test_a_chain_called_with_its_own_callbacks_inside_a_batch_item_nests_in_that_item(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    chain = _chain()

    def outer(x: dict[str, str]) -> str:
        return str(chain.invoke(x, config={"callbacks": [handler]}))

    RunnableLambda(outer).with_config(run_name="outer").batch(
        INPUTS[:2], config={"callbacks": [handler]}
    )
    inner = ["qa", *CHAIN[1:]]  # a step of the outer run
    _one_tree_per_trace(otel, ["invoke_workflow outer", "INTERNAL", "UNSET", [inner]], n=2)
    lifecycle.check()


@pytest.fixture
def wire_chat() -> Any:
    openai = pytest.importorskip("langchain_openai")
    replies = [
        chat_completion(
            response_id=f"chatcmpl-{i}",
            model="gpt-4o-mini",
            content=f"a{i}",
            token_usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        )
        for i in range(4)
    ]
    wire = OpenAIWire(*replies)
    client = wire.client()
    yield openai.ChatOpenAI(model="gpt-4o-mini", api_key="sk-test-b", http_client=client)
    client.close()


def test_real_chat_openai_generate_is_one_trace_per_prompt_with_its_own_usage(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle, wire_chat: Any
) -> None:
    wire_chat.generate([[HumanMessage(f"m{i}")] for i in range(4)], callbacks=[handler])
    by_trace = traces(otel)
    assert len(by_trace) == 4
    spans = [s for group in by_trace.values() for s in group]
    assert {s.name for s in spans} == {"chat gpt-4o-mini"}
    assert sorted(str(s.attributes[semconv.GEN_AI_RESPONSE_ID]) for s in spans) == [  # type: ignore[index]
        f"chatcmpl-{i}" for i in range(4)
    ]
    assert [s.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] for s in spans] == [5] * 4  # type: ignore[index]
    lifecycle.check()


def test_asyncio_run_of_abatch_from_a_thread_is_one_trace_per_input(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler, lifecycle: Lifecycle
) -> None:
    chain = _chain()
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(asyncio.run, chain.abatch(INPUTS, config={"callbacks": [handler]}))
            for _ in range(2)
        ]
        for f in futures:
            f.result()
    _one_tree_per_trace(otel, CHAIN, n=8)
    lifecycle.check()

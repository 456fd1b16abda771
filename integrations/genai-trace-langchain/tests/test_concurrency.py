from __future__ import annotations

import asyncio
import contextlib
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

CHAIN_TREE = [
    [
        "invoke_workflow qa",
        "INTERNAL",
        "UNSET",
        [
            ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
            ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            ["StrOutputParser", "INTERNAL", "UNSET", []],
        ],
    ],
]


def _chain(**model: Any) -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | FakeChatOpenAI(**model) | StrOutputParser()).with_config(run_name="qa")


def _traces(otel: OTelHarness) -> dict[str, list[Any]]:
    by_trace: dict[str, list[Any]] = {}
    for s in otel.spans():
        by_trace.setdefault(f"{s.context.trace_id:032x}", []).append(s)
    return by_trace


async def test_50_concurrent_ainvoke_give_50_complete_separate_traces(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    chain = _chain(delay_s=0.001)
    results = await asyncio.gather(
        *(chain.ainvoke({"q": f"q{i}"}, config={"callbacks": [handler]}) for i in range(50))
    )
    assert len(results) == 50
    traces = _traces(otel)
    assert len(traces) == 50
    from genai_trace_core.testing import span_tree

    for spans in traces.values():
        assert shape(span_tree(spans)) == CHAIN_TREE
    assert handler.telemetry.open_count() == 0


def test_8_threads_times_5_invoke_give_40_complete_traces(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    chain = _chain()

    def work(i: int) -> None:
        for j in range(5):
            chain.invoke({"q": f"{i}-{j}"}, config={"callbacks": [handler]})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    traces = _traces(otel)
    assert len(traces) == 40
    from genai_trace_core.testing import span_tree

    for spans in traces.values():
        assert shape(span_tree(spans)) == CHAIN_TREE


def test_runnable_parallel_and_batch_nest_each_branch(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI()
    par = RunnableParallel(a=model, b=RunnableLambda(lambda x: x) | model).with_config(
        run_name="fan"
    )
    par.batch(["one", "two"], config={"callbacks": [handler]})
    tree = otel.tree()
    branch = ["RunnableParallel<a,b>", "INTERNAL", "UNSET", []]
    expected = [
        "invoke_workflow fan",
        "INTERNAL",
        "UNSET",
        [
            ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
            [
                "RunnableSequence",
                "INTERNAL",
                "UNSET",
                [
                    ["RunnableLambda", "INTERNAL", "UNSET", []],
                    ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
                ],
            ],
        ],
    ]
    del branch
    got = shape(tree)
    assert len(got) == 2
    for root in got:  # sibling order depends on thread timing: compare as sorted
        root[3].sort(key=repr)
        exp = [expected[0], expected[1], expected[2], sorted(expected[3], key=repr)]
        assert root == exp
    assert len(_traces(otel)) == 2


async def test_asyncio_timeout_mid_call_ends_every_span_with_error(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    chain = _chain(delay_s=5)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(chain.ainvoke({"q": "slow"}, config={"callbacks": [handler]}), 0.05)
    tree = otel.tree()
    assert shape(tree) == [
        [
            "invoke_workflow qa",
            "INTERNAL",
            "ERROR",
            [
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
            ],
        ],
    ]
    assert tree[0]["attributes"][semconv.ERROR_TYPE] == semconv.ERROR_TYPE_CANCELLED
    # LangChain reports no error for the cancelled model call: ending the root ends it.
    assert tree[0]["children"][1]["attributes"][semconv.ERROR_TYPE] == semconv.ERROR_TYPE_ABANDONED
    assert handler.telemetry.open_count() == 0


async def test_awaited_runs_leave_the_callers_context_unchanged(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    """LangChain ends async runs in a shielded copy of the caller's context: nothing of ours may
    stay current in the caller afterwards (no stale parent for the user's next span, no chain of
    ended runs kept alive)."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    before = otel_context.get_current()
    chain = _chain(delay_s=0.0)
    for i in range(3):
        await chain.ainvoke({"q": f"q{i}"}, config={"callbacks": [handler]})
        # 3.12+ re-attaches the very context; 3.10/3.11 turn ours back into an equal one in place
        after = otel_context.get_current()
        assert after is before if sys.version_info >= (3, 12) else after == before
        assert trace.get_current_span() is trace.INVALID_SPAN
    otel.tracer_provider.get_tracer("user").start_span("user-after").end()
    roots = [n["name"] for n in otel.tree(attributes=False)]
    assert roots == ["invoke_workflow qa"] * 3 + ["user-after"]
    assert handler.telemetry.open_count() == 0

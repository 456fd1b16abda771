"""Work a step hands to a background thread (in a copy of its context) or to an asyncio task
(``create_task`` copies the context) nests under that step, in the request's trace, also when it
calls the model after the step returned: while the request still runs and after it returned
(guarantees, "One request, one trace, nested where it ran"). LangChain names the ended step as
the parent; the context the work carries tells core where that step's span is.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.utils import asyncio_accepts_context
from lifecycle_checks import Lifecycle

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain.testing import FakeChatOpenAI

CHAT = "chat gpt-4o-mini"
# Before Python 3.11 asyncio cannot run a task in a given context, so LangChain cannot hand the
# run config to async code implicitly: a model call there reports no parent (a root).
needs_async_context = pytest.mark.skipif(
    not asyncio_accepts_context(),
    reason="LangChain names a parent run in async code only when asyncio tasks accept a "
    "context (Python >= 3.11); on 3.10 the config must be passed explicitly",
)


def _shape(otel: OTelHarness) -> list[Any]:
    return shape(otel.tree(attributes=False), kind=False, status=False)


def _one_trace(otel: OTelHarness) -> None:
    assert len({s.context.trace_id for s in otel.spans() if s.context}) == 1


@pytest.mark.parametrize("request_state", ["still_running", "returned"])
def test_a_thread_a_step_started_nests_its_late_model_call_under_the_step(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, request_state: str
) -> None:
    model = FakeChatOpenAI(responses=["ok"])
    threads: list[threading.Thread] = []
    go = threading.Event()

    def hand_off(x: str) -> str:  # returns at once; its thread calls the model later
        def later() -> None:
            go.wait(5)
            model.invoke("background " + x)

        threads.append(threading.Thread(target=contextvars.copy_context().run, args=(later,)))
        threads[-1].start()
        return x

    def next_step(x: str) -> str:
        if request_state == "still_running":
            go.set()
            threads[-1].join(5)
        return x

    chain = (
        RunnableLambda(hand_off).with_config(run_name="hand_off")
        | RunnableLambda(next_step).with_config(run_name="next_step")
    ).with_config(run_name="request")
    assert chain.invoke("a") == "a"
    go.set()  # "returned": the thread calls the model only now
    threads[-1].join(5)
    lifecycle.check()
    _one_trace(otel)
    assert _shape(otel) == [
        ["invoke_workflow request", [["hand_off", [[CHAT, []]]], ["next_step", []]]]
    ]


@needs_async_context
@pytest.mark.parametrize("request_state", ["still_running", "returned"])
async def test_a_task_a_step_created_nests_its_late_model_call_under_the_step(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, request_state: str
) -> None:
    model = FakeChatOpenAI(responses=["ok"])
    tasks: list[asyncio.Task[Any]] = []
    go = asyncio.Event()

    async def hand_off(x: str) -> str:
        async def later() -> None:
            await go.wait()
            await model.ainvoke("background " + x)

        tasks.append(asyncio.create_task(later()))  # copies the context
        return x

    async def next_step(x: str) -> str:
        if request_state == "still_running":
            go.set()
            await tasks[-1]
        return x

    chain = (
        RunnableLambda(hand_off).with_config(run_name="hand_off")
        | RunnableLambda(next_step).with_config(run_name="next_step")
    ).with_config(run_name="request")
    assert await chain.ainvoke("a") == "a"
    go.set()
    await asyncio.gather(*tasks)
    lifecycle.check()
    _one_trace(otel)
    assert _shape(otel) == [
        ["invoke_workflow request", [["hand_off", [[CHAT, []]]], ["next_step", []]]]
    ]


@needs_async_context
async def test_a_langgraph_node_task_that_calls_the_model_after_the_graph_returned(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle
) -> None:
    pytest.importorskip("langgraph")
    from langgraph.graph import START, MessagesState, StateGraph

    model = FakeChatOpenAI(responses=["hello", "summary"])
    pending: list[asyncio.Task[Any]] = []

    async def respond(state: MessagesState) -> dict[str, Any]:
        reply = await model.ainvoke(state["messages"])

        async def remember() -> None:  # e.g. summarise the turn into memory
            await asyncio.sleep(0.01)
            await model.ainvoke("summarise this turn")

        pending.append(asyncio.create_task(remember()))
        return {"messages": [reply]}

    g = StateGraph(MessagesState)
    g.add_node("respond", respond)
    g.add_edge(START, "respond")
    graph = g.compile(name="chatbot")
    await graph.ainvoke({"messages": [("user", "hi")]}, {"metadata": {"thread_id": "conv-9"}})
    assert not pending[0].done()  # the graph returned first
    await asyncio.gather(*pending)
    lifecycle.check()
    _one_trace(otel)
    assert _shape(otel) == [["invoke_workflow chatbot", [["respond", [[CHAT, []], [CHAT, []]]]]]]
    chats = [s for s in otel.spans() if s.name == CHAT]
    assert [(s.attributes or {}).get("gen_ai.conversation.id") for s in chats] == ["conv-9"] * 2

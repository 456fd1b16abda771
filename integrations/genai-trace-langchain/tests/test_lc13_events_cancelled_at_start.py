"""An ``astream_events`` request cancelled just after it started ends its root without error.

``astream_events`` runs the chain's stream in a task of its own; a cancellation in the first few
turns of the loop stops that task after LangChain reported the root's start and before it
reports anything else (no end, no error: checked without genai-trace). The root stayed open
until the registry's TTL or the exit ended it ``abandoned`` (until 2026-12-07). It now ends with
its task, as a stream whose reader was cancelled does: without error. Cancelled at every one of
the first loop turns, so the window is hit on every langchain-core version.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypedDict

import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from lifecycle_checks import Lifecycle

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

TURNS = 12  # loop turns before the cancel: 0 (before the start) up to past the chain's end


def _chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    return (prompt | RunnableLambda(lambda value: "answer")).with_config(run_name="qa")


def _lambda() -> Any:
    return RunnableLambda(lambda value: "answer").with_config(run_name="qa")


def _graph() -> Any:
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        q: str

    builder = StateGraph(State)
    builder.add_node("answer", lambda state: {"q": "answer"})
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(name="qa")


async def _cancelled_after(runnable: Any, config: RunnableConfig, turns: int) -> None:
    async def request() -> None:  # a server relaying the events; its client went away
        async for _ in runnable.astream_events({"q": "Which parcel left?"}, config, version="v2"):
            pass

    task = asyncio.ensure_future(request())
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):  # past the chain's end, it finished first
        await task
    await asyncio.sleep(0)  # the task's done callbacks run on the loop's next turn


@pytest.mark.parametrize("make", [_chain, _lambda, _graph], ids=["chain", "lambda", "graph"])
async def test_events_cancelled_at_any_early_turn_end_every_span_without_error(
    otel: OTelHarness,
    enabled: dict[str, Any],
    lifecycle: Lifecycle,
    make: Callable[[], Any],
) -> None:
    runnable = make()
    for turns in range(TURNS):
        await _cancelled_after(runnable, {**enabled}, turns)
        assert lifecycle.open_spans() == [], turns
    lifecycle.check()
    spans = otel.span_dicts()
    assert {s["name"] for s in spans if s["parent_id"] is None} == {"invoke_workflow qa"}
    for span in spans:
        assert span["status"] == "UNSET", span["name"]
        assert semconv.ERROR_TYPE not in span["attributes"], span["name"]


async def test_a_sequence_abatch_started_in_child_tasks_still_ends_as_reported(
    otel: OTelHarness, enabled: dict[str, Any], lifecycle: Lifecycle
) -> None:
    """``RunnableSequence.abatch`` starts each root in a child task of ``asyncio.gather`` that
    finishes at once: a root whose start task finished is left to its reported end."""
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | RunnableLambda(_slow)
    assert await chain.abatch([{"q": "a"}, {"q": "b"}], {**enabled}) == ["done", "done"]
    lifecycle.check()
    roots = [s for s in otel.span_dicts() if s["parent_id"] is None]
    assert [(s["name"], s["status"]) for s in roots] == [("invoke_workflow", "UNSET")] * 2
    assert all(semconv.ERROR_TYPE not in s["attributes"] for s in otel.span_dicts())


async def _slow(value: Any) -> str:
    await asyncio.sleep(0.01)  # the start tasks are done before any step ends
    return "done"

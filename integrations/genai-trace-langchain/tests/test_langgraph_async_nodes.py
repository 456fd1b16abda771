"""A model called inside a LangGraph node of an async graph run (``ainvoke``), with the
instrumentor: nested under the node when the node hands its ``config`` on, on every Python; without
it, nested as well on 3.11+, and on 3.10 (no task accepts a context, so LangChain cannot reach the
node's config) a trace of its own, every span ended (docs/guarantees.md, "Known LangChain
limitation: async code on Python 3.10")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.utils import asyncio_accepts_context
from lifecycle_checks import Lifecycle

from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape
from genai_trace_langchain.testing import FakeChatOpenAI

langgraph = pytest.importorskip("langgraph")
from langgraph.graph import START, MessagesState, StateGraph  # noqa: E402

_MODEL = FakeChatOpenAI(responses=["fine"] * 8)


async def _async_with_config(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
    return {"messages": [await _MODEL.ainvoke(state["messages"], config)]}


def _sync_with_config(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
    return {"messages": [_MODEL.invoke(state["messages"], config)]}


async def _async_without_config(state: MessagesState) -> dict[str, Any]:
    return {"messages": [await _MODEL.ainvoke(state["messages"])]}


def _sync_without_config(state: MessagesState) -> dict[str, Any]:
    return {"messages": [_MODEL.invoke(state["messages"])]}


def _run(node: Any) -> None:
    builder = StateGraph(MessagesState)
    builder.add_node("answer", node)
    builder.add_edge(START, "answer")
    graph = builder.compile(name="qa")
    result = asyncio.run(graph.ainvoke({"messages": [("user", "hi")]}))
    assert result["messages"][-1].content == "fine"


_NESTED = [
    [
        "invoke_workflow qa",
        "INTERNAL",
        "UNSET",
        [["answer", "INTERNAL", "UNSET", [["chat gpt-4o-mini", "CLIENT", "UNSET", []]]]],
    ]
]


@pytest.mark.parametrize("node", [_async_with_config, _sync_with_config])
def test_node_handing_config_on_nests_its_model_call(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, node: Any
) -> None:
    _run(node)
    assert shape(otel.tree()) == _NESTED
    lifecycle.check()


# Python 3.10 (asyncio tasks accept no context): LangChain cannot hand the node's config on
# implicitly, so the call is a root of its own, every span ended (the documented limitation).
_OWN_TRACE = [
    ["invoke_workflow qa", "INTERNAL", "UNSET", [["answer", "INTERNAL", "UNSET", []]]],
    ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
]


@pytest.mark.parametrize("node", [_async_without_config, _sync_without_config])
def test_node_without_config_nests_on_311_and_later_and_is_its_own_trace_on_310(
    otel: OTelHarness, instrumented: Any, lifecycle: Lifecycle, node: Any
) -> None:
    _run(node)
    assert shape(otel.tree()) == (_NESTED if asyncio_accepts_context() else _OWN_TRACE)
    lifecycle.check()

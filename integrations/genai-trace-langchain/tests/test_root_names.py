"""A root run's workflow or agent name is one the user gave, never a type name LangChain filled
in (``RunnableParallel<a,b>``, ``RunnableAssign<y>``, a prompt's or a model's class name under
``with_retry``, ``LangGraph``); ``genai_trace.run.name`` still says what ran."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from langgraph.graph import START, MessagesState, StateGraph

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain._names import is_type_name
from genai_trace_langchain.testing import FakeChatOpenAI


def _root(otel: OTelHarness) -> tuple[str, dict[str, Any]]:
    roots = [s for s in otel.spans() if s.parent is None]
    assert len(roots) == 1, roots
    return roots[0].name, dict(roots[0].attributes or {})


def _shout(x: str) -> str:
    return x.upper()


def _graph(name: str | None) -> Any:
    def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": []}

    builder = StateGraph(MessagesState)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    return builder.compile(name=name) if name else builder.compile()


TYPE_NAMED: list[tuple[str, Any, Any, str]] = [
    (
        "parallel",
        lambda: RunnableParallel(a=RunnablePassthrough(), b=RunnablePassthrough()),
        "x",
        "RunnableParallel<a,b>",
    ),
    ("assign", lambda: RunnablePassthrough.assign(y=lambda d: 1), {"x": 1}, "RunnableAssign<y>"),
    (
        "prompt",
        lambda: ChatPromptTemplate.from_messages([("user", "{q}")]),
        {"q": "x"},
        "ChatPromptTemplate",
    ),
    ("retried model", lambda: FakeChatOpenAI().with_retry(), "x", "FakeChatOpenAI"),
    ("lambda", lambda: RunnableLambda(lambda x: x), 1, "RunnableLambda"),
    ("graph", lambda: _graph(None), {"messages": []}, "LangGraph"),
]


@pytest.mark.parametrize(
    ("runnable", "value", "run_name"),
    [case[1:] for case in TYPE_NAMED],
    ids=[case[0] for case in TYPE_NAMED],
)
def test_a_root_named_after_its_type_has_no_workflow_name(
    otel: OTelHarness, runnable: Any, value: Any, run_name: str
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    runnable().invoke(value, {"callbacks": [handler]})
    name, attributes = _root(otel)
    assert name == "invoke_workflow"
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    assert semconv.GEN_AI_WORKFLOW_NAME not in attributes
    assert attributes[semconv.RUN_NAME] == run_name


USER_NAMED: list[tuple[str, Any, Any, RunnableConfig, str]] = [
    (
        "run_name",
        lambda: RunnableLambda(_shout) | RunnableLambda(_shout),
        "x",
        {"run_name": "qa"},
        "qa",
    ),
    (
        "with_config",
        lambda: (RunnableLambda(_shout) | _shout).with_config(run_name="qa"),
        "x",
        {},
        "qa",
    ),
    ("function name", lambda: RunnableLambda(_shout), "x", {}, "_shout"),
    ("compiled graph", lambda: _graph("qa"), {"messages": []}, {}, "qa"),
]


@pytest.mark.parametrize(
    ("runnable", "value", "config", "expected"),
    [case[1:] for case in USER_NAMED],
    ids=[case[0] for case in USER_NAMED],
)
def test_a_user_given_root_name_is_the_workflow_name(
    otel: OTelHarness, runnable: Any, value: Any, config: RunnableConfig, expected: str
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    runnable().invoke(value, {**config, "callbacks": [handler]})
    name, attributes = _root(otel)
    assert name == f"invoke_workflow {expected}"
    assert attributes[semconv.GEN_AI_WORKFLOW_NAME] == expected


def test_a_runnable_class_defined_later_is_recognised_as_a_type_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from genai_trace_langchain import _names

    assert not is_type_name("DefinedAfterwards")  # collects the class names now

    class DefinedAfterwards(RunnableLambda[Any, Any]):
        pass

    assert issubclass(DefinedAfterwards, Runnable)
    # Within a second of the last collection the new class is not known yet; after it, it is.
    assert not is_type_name("DefinedAfterwards")
    monkeypatch.setattr(_names._Classes, "collected_at", float("-inf"))
    assert is_type_name("DefinedAfterwards")
    assert is_type_name("DefinedAfterwards<a,b>")
    assert not is_type_name("support pipeline")

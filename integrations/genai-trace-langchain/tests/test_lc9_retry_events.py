"""``with_retry`` attempts are ``genai_trace.retry`` events on the retry run's span, whatever it
re-runs: LangChain tags the re-run child (a chain, a chat model, a tool, a retriever) with
``retry:attempt:N``. Until 2026-12-07 only a re-run *chain* gave the event, so the commonest use,
``model.with_retry(...)`` over a real ``ChatOpenAI`` answering 500 and 429 before 200, showed three
chat spans and no retry at all. Handler per call and instrumentor, sync and async, alone and in a
chain; one trace, every span ended, the answer's tokens counted once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from lifecycle_checks import Lifecycle
from openai_clients import RESPONSE_MODEL, chat_model
from openai_wire import OpenAIWire, chat_completion, rate_limited, usage

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import tree_shape as shape

pytest.importorskip("langchain_openai")

RETRY = {"stop_after_attempt": 3, "wait_exponential_jitter": False}


def _flaky_model(clients: Any) -> Any:
    answer = chat_completion(
        response_id="chatcmpl-3", model=RESPONSE_MODEL, content="Leeds.", token_usage=usage(9, 6)
    )
    down = httpx.Response(500, json={"error": {"message": "overloaded", "code": "x"}})
    return chat_model(OpenAIWire(down, rate_limited(), answer), clients)


def _retry_events(otel: OTelHarness) -> dict[str, list[int]]:
    """``{span name: [attempt, ...]}`` of every span with retry events."""
    out: dict[str, list[int]] = {}
    for s in otel.spans():
        for e in s.events:
            if e.name == semconv.EVENT_RETRY:
                attempt = (e.attributes or {})[semconv.EVENT_RETRY_ATTEMPT]
                out.setdefault(s.name, []).append(int(str(attempt)))
    return out


def _check(otel: OTelHarness, life: Lifecycle) -> None:
    life.check()
    assert len({s.context.trace_id for s in otel.spans()}) == 1
    tokens = [s.attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS) for s in otel.spans()]
    assert [t for t in tokens if t is not None] == [9]


CALLS = [
    ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
    ["chat gpt-4o-mini", "CLIENT", "ERROR", []],
    ["chat gpt-4o-mini", "CLIENT", "UNSET", []],
]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_retried_model_calls_are_retry_events_on_the_retry_span(
    otel: OTelHarness, lifecycle: Lifecycle, clients: Any, enabled: dict[str, Any], mode: str
) -> None:
    model = _flaky_model(clients).with_retry(**RETRY)
    answer = (
        model.invoke("where?", enabled)
        if mode == "sync"
        else await model.ainvoke("where?", enabled)
    )
    assert answer.content == "Leeds."
    assert shape(otel.tree()) == [["invoke_workflow", "INTERNAL", "UNSET", CALLS]]
    assert _retry_events(otel) == {"invoke_workflow": [2, 3]}
    _check(otel, lifecycle)


def test_retried_model_in_a_chain_is_one_step_with_its_attempts(
    otel: OTelHarness, lifecycle: Lifecycle, clients: Any, enabled: dict[str, Any]
) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = prompt | _flaky_model(clients).with_retry(**RETRY) | StrOutputParser()
    assert chain.invoke({"q": "where?"}, enabled) == "Leeds."
    assert shape(otel.tree()) == [
        [
            "invoke_workflow",
            "INTERNAL",
            "UNSET",
            [
                ["ChatPromptTemplate", "INTERNAL", "UNSET", []],
                ["ChatOpenAI", "INTERNAL", "UNSET", CALLS],
                ["StrOutputParser", "INTERNAL", "UNSET", []],
            ],
        ]
    ]
    assert _retry_events(otel) == {"ChatOpenAI": [2, 3]}
    _check(otel, lifecycle)


def test_retried_tool_and_retriever_calls_are_retry_events(
    otel: OTelHarness, lifecycle: Lifecycle, enabled: dict[str, Any]
) -> None:
    calls = {"tool": 0, "retriever": 0}

    @tool
    def lookup(city: str) -> str:
        """Depot of a city."""
        calls["tool"] += 1
        if calls["tool"] < 2:
            raise ValueError("depot service down")
        return f"{city} depot"

    class Flaky(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            calls["retriever"] += 1
            if calls["retriever"] < 3:
                raise ValueError("index down")
            return [Document(page_content="parcel policy")]

    assert lookup.with_retry(**RETRY).invoke({"city": "Leeds"}, enabled) == "Leeds depot"
    search = Flaky().with_retry(**RETRY).with_config(run_name="search")
    assert len(search.invoke("parcel", enabled)) == 1
    assert shape(otel.tree()) == [
        [
            "invoke_workflow lookup",  # the retry run is named after what it retries
            "INTERNAL",
            "UNSET",
            [
                ["execute_tool lookup", "INTERNAL", "ERROR", []],
                ["execute_tool lookup", "INTERNAL", "UNSET", []],
            ],
        ],
        [
            "invoke_workflow search",
            "INTERNAL",
            "UNSET",
            [
                ["retrieval", "CLIENT", "ERROR", []],
                ["retrieval", "CLIENT", "ERROR", []],
                ["retrieval", "CLIENT", "UNSET", []],
            ],
        ],
    ]
    assert _retry_events(otel) == {"invoke_workflow lookup": [2], "invoke_workflow search": [2, 3]}
    lifecycle.check()

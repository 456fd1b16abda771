"""Requests that outgrow the open-run registry (``GENAI_TRACE_REGISTRY_MAX_SIZE``, ``_TTL_SECONDS``)
through LangChain's entry points: a ``batch`` with more inputs than the registry holds, an
``abatch`` that runs longer than the TTL, concurrent ``ainvoke`` calls past the size bound. Each
request stays one trace of its own: a root the registry evicted ends ``abandoned`` and the steps
it runs afterwards nest under it, never in another request's trace (until 2026-12-07 they joined
whatever context was current: one user's trace held other users' model calls). A request that
keeps working for longer than the TTL is not evicted (the TTL counts idle time); the first
eviction logs one warning naming the bound."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from lifecycle_checks import Lifecycle, traces
from openai_clients import RESPONSE_MODEL, chat_model
from openai_wire import OpenAIWire, chat_completion, usage

from genai_trace_core import _safe, semconv
from genai_trace_core.testing import OTelHarness, span_tree

pytest.importorskip("langchain_openai")

S = 1_000_000_000  # one second of the harness clock (ns)
WHOLE = ["invoke_workflow job", ["ChatPromptTemplate", "StrOutputParser", "chat gpt-4o-mini"]]


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    _safe._logged.clear()


def _reply(otel: OTelHarness, took_s: float = 0.0) -> Any:
    """A chat completion for every request, ``took_s`` seconds of the harness clock later."""

    def reply(request: httpx.Request) -> httpx.Response:
        otel.clock.advance(int(took_s * S))
        return chat_completion(
            response_id="chatcmpl-r", model=RESPONSE_MODEL, content="ok", token_usage=usage(3, 1)
        )

    return reply


def _job(
    otel: OTelHarness, clients: Any, *before: Any, after: Any = (), took_s: float = 0.0
) -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    model = chat_model(OpenAIWire(_reply(otel, took_s)), clients)
    steps = [*before, prompt, model, StrOutputParser(), *after]
    chain = steps[0]
    for s in steps[1:]:
        chain = chain | s
    return chain.with_config(run_name="job")


def _names(tree: dict[str, Any]) -> list[Any]:
    return [tree["name"], sorted(c["name"] for c in tree["children"])]


def _one_request_per_trace(otel: OTelHarness, n: int, whole: list[Any] = WHOLE) -> list[Any]:
    """Each input's spans are one trace: one root with the input's steps under it, every span
    of that user's (none of another request's); returns the roots' error types."""
    by_trace = traces(otel)
    assert len(by_trace) == n, sorted(s.name for s in otel.spans() if s.parent is None)
    errors = []
    for spans in by_trace.values():
        (tree,) = span_tree(spans)
        assert _names(tree) == whole
        users = {(s.attributes or {}).get(semconv.USER_ID) for s in spans}
        assert len(users) == 1 and None not in users, users
        (root,) = [s for s in spans if s.parent is None]
        errors.append((root.attributes or {}).get(semconv.ERROR_TYPE))
    assert len({s.attributes[semconv.USER_ID] for s in otel.spans() if s.parent is None}) == n
    return errors


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "genai_trace" and r.levelno == logging.WARNING
    ]


def test_a_batch_larger_than_the_registry_is_one_trace_per_input(
    otel: OTelHarness,
    make_handler: Any,
    lifecycle: Lifecycle,
    clients: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = make_handler(registry_max_size=8)
    n = 14
    configs: Any = [
        {"callbacks": [handler], "metadata": {"user_id": f"user{i}"}, "max_concurrency": 4}
        for i in range(n)
    ]
    out = _job(otel, clients).batch([{"q": str(i)} for i in range(n)], configs)
    assert out == ["ok"] * n
    errors = _one_request_per_trace(otel, n)
    assert set(errors) == {None, semconv.ERROR_TYPE_ABANDONED}  # the evicted roots, each alone
    lifecycle.check()
    assert handler.telemetry.open_count() == 0
    (warning,) = _warnings(caplog)
    assert "GENAI_TRACE_REGISTRY_MAX_SIZE=8 reached" in warning


async def test_an_abatch_longer_than_the_ttl_is_one_trace_per_input(
    otel: OTelHarness, make_handler: Any, lifecycle: Lifecycle, clients: Any
) -> None:
    """Each input first waits 0.3 s in a step run one at a time; LangChain runs each step over
    every input before the next step, so the first roots idle past the 0.5 s TTL."""
    handler = make_handler(registry_ttl_seconds=0.5)

    def wait(x: Any) -> Any:
        otel.clock.advance(3 * S // 10)
        return x

    n = 4
    configs: Any = [
        {"callbacks": [handler], "metadata": {"user_id": f"user{i}"}, "max_concurrency": 1}
        for i in range(n)
    ]
    chain = _job(otel, clients, RunnableLambda(wait).with_config(run_name="wait"))
    assert await chain.abatch([{"q": str(i)} for i in range(n)], configs) == ["ok"] * n
    whole = [WHOLE[0], sorted([*WHOLE[1], "wait"])]
    errors = _one_request_per_trace(otel, n, whole)
    assert semconv.ERROR_TYPE_ABANDONED in errors
    lifecycle.check()


def test_a_request_working_longer_than_the_ttl_is_not_evicted(
    otel: OTelHarness, make_handler: Any, lifecycle: Lifecycle, clients: Any
) -> None:
    """Two 0.3 s steps and a 0.3 s model call: 0.9 s in all, never idle 0.5 s."""
    handler = make_handler(registry_ttl_seconds=0.5)

    def work(x: Any) -> Any:
        otel.clock.advance(3 * S // 10)
        return x

    chain = _job(otel, clients, RunnableLambda(work), RunnableLambda(work), took_s=0.3)
    config: Any = {"callbacks": [handler], "metadata": {"user_id": "u"}}
    assert chain.invoke({"q": "long"}, config) == "ok"
    whole = [WHOLE[0], sorted([*WHOLE[1], "work", "work"])]
    assert _one_request_per_trace(otel, 1, whole) == [None]
    (model,) = [s for s in otel.spans() if s.name.startswith("chat ")]
    assert model.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3
    assert all(semconv.ERROR_TYPE not in (s.attributes or {}) for s in otel.spans())
    lifecycle.check()


async def test_concurrent_ainvokes_past_the_size_bound_stay_apart(
    otel: OTelHarness, make_handler: Any, lifecycle: Lifecycle, clients: Any
) -> None:
    handler = make_handler(registry_max_size=6)

    async def post(x: str) -> str:
        await asyncio.sleep(0.01)
        return x

    chain = _job(otel, clients, after=[RunnableLambda(post)])
    n = 8
    out = await asyncio.gather(
        *[
            chain.ainvoke(
                {"q": str(i)}, {"callbacks": [handler], "metadata": {"user_id": f"user{i}"}}
            )
            for i in range(n)
        ]
    )
    assert out == ["ok"] * n
    whole = [WHOLE[0], sorted([*WHOLE[1], "post"])]
    assert semconv.ERROR_TYPE_ABANDONED in _one_request_per_trace(otel, n, whole)
    lifecycle.check()

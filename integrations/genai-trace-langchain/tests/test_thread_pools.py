"""A query the user runs in a thread pool under their own span stays in the user's trace with
core's ``ContextThreadPoolExecutor`` or with ``opentelemetry-instrumentation-threading`` (README,
"Threads"); a plain ``ThreadPoolExecutor`` alone starts new traces (the control).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from genai_trace_core import ContextThreadPoolExecutor
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI


@contextmanager
def _plain() -> Iterator[Executor]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


@contextmanager
def _context_pool() -> Iterator[Executor]:
    with ContextThreadPoolExecutor(max_workers=4) as pool:
        yield pool


@contextmanager
def _instrumented() -> Iterator[Executor]:
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor

    instrumentor = ThreadingInstrumentor()
    instrumentor.instrument()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            yield pool
    finally:
        instrumentor.uninstrument()


def _run_queries(otel: OTelHarness, make_pool: Callable[[], Any]) -> tuple[int, list[Any]]:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    chain = (prompt | FakeChatOpenAI(responses=["ok"]) | StrOutputParser()).with_config(
        run_name="qa"
    )
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle request") as request:
        with make_pool() as pool:
            futures = [
                pool.submit(chain.invoke, {"q": f"q{i}"}, {"callbacks": [handler]})
                for i in range(4)
            ]
            assert [f.result() for f in futures] == ["ok"] * 4
        request_id = request.get_span_context().span_id
    assert handler.telemetry.open_count() == 0
    roots = [s for s in otel.spans() if s.name == "invoke_workflow qa"]
    assert len(roots) == 4
    return request_id, roots


@pytest.mark.parametrize("make_pool", [_context_pool, _instrumented], ids=["core", "threading"])
def test_queries_in_a_thread_pool_stay_in_the_callers_trace(
    otel: OTelHarness, make_pool: Callable[[], Any]
) -> None:
    request_id, roots = _run_queries(otel, make_pool)
    assert all(r.parent is not None and r.parent.span_id == request_id for r in roots)
    assert len({s.context.trace_id for s in otel.spans()}) == 1


def test_a_plain_thread_pool_starts_new_traces(otel: OTelHarness) -> None:
    _, roots = _run_queries(otel, _plain)
    assert all(r.parent is None for r in roots)
    assert len({s.context.trace_id for s in otel.spans()}) == 5

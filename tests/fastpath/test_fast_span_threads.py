"""Threads that write to one live span lose nothing through the fast span path, as with SDK spans.

Until 2026-12-07 a fast span read its attribute dict before taking its lock (a write racing the
first non-plain value, which swaps the dict for the SDK's ``BoundedAttributes``, went to the
dropped dict) and made its event and link lists outside the lock (two threads adding the first
event each made one: one event lost). A step that fans out to threads writing on the current span
lost about one span in ten of its attributes or events (found by helper O). A tiny switch interval
and a barrier per span make the threads interleave on every span.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastpath_support import Providers, Run, run
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, StatusCode

from genai_trace_core.export import fast_tracer

THREADS = 8
ROUNDS = 150


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Threads switch every microsecond: the interleavings a busy server sees, on every span."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _fan_out(write: Callable[[int], None]) -> None:
    """``write(i)`` in ``THREADS`` threads that start together."""
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        barrier.wait()
        write(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _written(span: ReadableSpan) -> tuple[Any, ...]:
    """What the threads wrote on ``span``, in an order-free form."""
    return (
        sorted(k for k in span.attributes or {} if k.startswith("w.")),
        sorted(e.name for e in span.events),
        sorted(link.context.span_id for link in span.links),
    )


def _lost(spans: list[ReadableSpan], expected: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """What the threads wrote on each span that did not get all of ``expected``."""
    return [_written(s) for s in spans if _written(s) != expected]


NAMES = sorted(f"w.{i}" for i in range(THREADS))


def _both(program: Callable[[Providers], None]) -> tuple[Run, Run]:
    return run(program, fast=False), run(program, fast=True)


def test_a_step_fanning_out_to_threads_keeps_every_write_on_our_span() -> None:
    from langchain_core.runnables import RunnableLambda
    from langchain_core.runnables.config import ContextThreadPoolExecutor

    from genai_trace_langchain import LangChainInstrumentor

    def write(i: int) -> None:  # the first non-plain value (a list) swaps the attribute dict
        span = trace_api.get_current_span()
        span.set_attribute(f"w.{i}", ["list"] if i == 0 else i)
        span.add_event(f"w.{i}")

    def step(value: int) -> int:
        barrier = threading.Barrier(THREADS)

        def work(i: int) -> None:
            barrier.wait()
            write(i)

        with ContextThreadPoolExecutor(THREADS) as pool:  # the context (our span) is copied
            list(pool.map(work, range(THREADS)))
        return value

    def program(p: Providers) -> None:
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(tracer_provider=p.tracer_provider)
        try:
            chain = RunnableLambda(step, name="fan")
            for i in range(ROUNDS):
                assert chain.invoke(i) == i
        finally:
            instrumentor.uninstrument()

    for result in _both(program):
        fans = [s for s in result.spans if "fan" in s.name]
        assert len(fans) == ROUNDS
        assert _lost(fans, (NAMES, NAMES, [])) == []
    assert result.started.count("FastSpan") == ROUNDS


def test_every_write_of_the_api_from_threads_lands_once_and_end_wins_once() -> None:
    def program(p: Providers) -> None:
        sdk = p.tracer_provider.get_tracer("genai_trace")
        tracer = fast_tracer(sdk) or sdk
        for _ in range(ROUNDS):
            span = tracer.start_span("ours")

            def write(i: int, span: trace_api.Span = span) -> None:
                if i % 2:
                    span.set_attributes({f"w.{i}": i})
                else:  # thread 0 writes a list: the dict becomes ``BoundedAttributes``
                    span.set_attribute(f"w.{i}", ["x"] if i == 0 else str(i))
                if i == 1:
                    span.record_exception(ValueError("w.1"))
                    span.set_status(StatusCode.ERROR, "threads")
                    span.update_name("ours renamed")
                else:
                    span.add_event(f"w.{i}")
                span.add_link(SpanContext(1, 100 + i, is_remote=False))

            _fan_out(write)
            _fan_out(lambda i, span=span: span.end())  # ended once, by one of them

    events = sorted(["exception"] + [n for n in NAMES if n != "w.1"])
    links = [100 + i for i in range(THREADS)]
    for result in _both(program):
        assert {(s.name, s.status.status_code) for s in result.spans} == {
            ("ours renamed", StatusCode.ERROR)
        }
        assert len(result.spans) == ROUNDS
        assert _lost(result.spans, (NAMES, events, links)) == []
    assert result.started.count("FastSpan") == ROUNDS

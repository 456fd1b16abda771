"""``GENAI_TRACE_HIDE_INTERNAL_SPANS``: the query's root step stays, so a query is one trace.

A hidden step nests its work under its nearest traced ancestor; a query engine's root step has
none (no span of the app around it), so hiding it made its retrieval and its chat two traces.
"""

from __future__ import annotations

import asyncio

from li_support import Instrument, shape
from llama_index.core import VectorStoreIndex
from llama_index.core.instrumentation import get_dispatcher

from genai_trace_core.testing import OTelHarness

_WORK = [
    ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
    ["chat gpt-4o-mini", []],
]


def _traces(otel: OTelHarness) -> int:
    return len({s.context.trace_id for s in otel.spans()})


def test_hidden_steps_keep_a_query_one_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument(hide_internal_spans=True)
    engine = index.as_query_engine(similarity_top_k=2)
    for q in ("France?", "Japan?", "Italy?"):
        engine.query(q)
    assert _traces(otel) == 3
    trees = otel.tree()
    assert [shape([t]) for t in trees] == [[["RetrieverQueryEngine.query", _WORK]]] * 3


async def test_hidden_steps_keep_an_async_query_one_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument(hide_internal_spans=True)
    engine = index.as_query_engine(similarity_top_k=2)
    await asyncio.gather(*(engine.aquery(q) for q in ("France?", "Japan?")))
    assert _traces(otel) == 2
    trees = otel.tree()
    assert [shape([t]) for t in trees] == [[["RetrieverQueryEngine.query", _WORK]]] * 2


def test_hidden_steps_under_an_app_span_nest_there(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    """Under a span of the app the step is hidden: its work nests under the app's span."""
    instrument(hide_internal_spans=True)
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request"):
        index.as_query_engine(similarity_top_k=2).query("France?")
    assert shape(otel.tree()) == [["request", _WORK]]


@get_dispatcher(__name__).span
def _answer(engine: object, question: str) -> object:  # the app's own span: no operation
    return engine.query(question)  # type: ignore[attr-defined]


def test_a_query_inside_the_apps_dispatcher_span_is_one_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    """Under the app's dispatcher span (hidden: no operation) and no OpenTelemetry span, the
    query's step is the root (until 2026-12-07 it was hidden: retrieval and chat two traces)."""
    instrument(hide_internal_spans=True)
    _answer(index.as_query_engine(similarity_top_k=2), "France?")
    assert _traces(otel) == 1
    assert shape(otel.tree()) == [["RetrieverQueryEngine.query", _WORK]]

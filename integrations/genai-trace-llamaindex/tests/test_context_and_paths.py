"""Context propagation, the legacy callback path, content capture and re-instrumentation
(scenarios 9, 10, 11 and 12)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from li_support import DOCS, Instrument, shape
from llama_index.core import Settings as LISettings
from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher
from opentelemetry._logs import NoOpLoggerProvider
from opentelemetry.metrics import NoOpMeter, NoOpMeterProvider

from genai_trace_core import ContextThreadPoolExecutor, Settings
from genai_trace_core.testing import OTelHarness
from genai_trace_core.testing import walk_tree as walk
from genai_trace_llamaindex import LlamaIndexInstrumentor, OpenTelemetryCallbackHandler
from genai_trace_llamaindex._dispatcher import GenAIEventHandler, GenAISpanHandler

QUERY_SHAPE = [
    "RetrieverQueryEngine.query",
    [
        ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
        ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
    ],
]


def test_query_in_a_context_executor_under_a_user_span_joins_the_users_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    engine = index.as_query_engine(similarity_top_k=2)
    tracer = otel.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle_request"), ContextThreadPoolExecutor(2) as pool:
        pool.submit(engine.query, "capital of France?").result()

    assert shape(otel.tree(attributes=False)) == [["handle_request", [QUERY_SHAPE]]]


def test_query_in_a_plain_executor_with_the_threading_instrumentation_joins_the_users_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    """The README's other way: ``opentelemetry-instrumentation-threading`` carries the context
    into a plain ``ThreadPoolExecutor``."""
    threading_mod = pytest.importorskip("opentelemetry.instrumentation.threading")
    instrument()
    engine = index.as_query_engine(similarity_top_k=2)
    tracer = otel.tracer_provider.get_tracer("app")
    threading_instrumentor = threading_mod.ThreadingInstrumentor()
    threading_instrumentor.instrument()
    try:
        with tracer.start_as_current_span("handle_request"), ThreadPoolExecutor(2) as pool:
            pool.submit(engine.query, "capital of France?").result()
    finally:
        threading_instrumentor.uninstrument()

    assert shape(otel.tree(attributes=False)) == [["handle_request", [QUERY_SHAPE]]]


def test_captured_propagation_context_restored_in_a_plain_thread_joins_the_trace(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    if not hasattr(get_dispatcher(), "capture_propagation_context"):
        pytest.skip("this llama-index-core has no propagation-context hooks")
    instrument()
    engine = index.as_query_engine(similarity_top_k=2)
    tracer = otel.tracer_provider.get_tracer("app")

    def worker(carried: dict[str, Any]) -> None:
        get_dispatcher().restore_propagation_context(json.loads(json.dumps(carried)))
        engine.query("capital of France?")

    with tracer.start_as_current_span("handle_request"):
        carried = get_dispatcher().capture_propagation_context()
    with ThreadPoolExecutor(1) as pool:  # a plain pool: nothing but the serialised carrier
        pool.submit(worker, carried).result()

    spans = otel.span_dicts()
    assert len({d["trace_id"] for d in spans}) == 1
    (query,) = [d for d in spans if d["name"] == "RetrieverQueryEngine.query"]
    (user,) = [d for d in spans if d["name"] == "handle_request"]
    assert query["parent_id"] == user["span_id"]


def test_legacy_callback_handler_alone_gives_the_same_operations(
    otel: OTelHarness, index: VectorStoreIndex
) -> None:
    handler = OpenTelemetryCallbackHandler(
        tracer_provider=otel.tracer_provider, settings=Settings()
    )
    LISettings.callback_manager = CallbackManager([handler])
    engine = VectorStoreIndex.from_documents(DOCS).as_query_engine(similarity_top_k=2)
    otel.clear()
    engine.query("capital of France?")

    tree = otel.tree(attributes=False)
    ops = sorted(n["name"].split(" ")[0] for n in walk(tree))
    assert ops == ["chat", "embeddings", "query", "retrieval", "synthesize"]
    assert shape(tree) == [
        [
            "query",
            [
                ["retrieval", [["embeddings text-embedding-3-small", []]]],
                ["synthesize", [["chat gpt-4o-mini", []]]],
            ],
        ]
    ]
    assert handler.telemetry.open_count() == 0


def test_legacy_handler_is_silent_while_the_instrumentor_is_active(
    otel: OTelHarness, instrument: Instrument
) -> None:
    handler = OpenTelemetryCallbackHandler(tracer_provider=otel.tracer_provider)
    LISettings.callback_manager = CallbackManager([handler])
    idx = VectorStoreIndex.from_documents(DOCS)
    idx.set_index_id("capitals")
    engine = idx.as_query_engine(similarity_top_k=2)
    instrument()
    otel.clear()
    engine.query("capital of France?")
    assert shape(otel.tree(attributes=False)) == [QUERY_SHAPE]


def _all_strings(otel: OTelHarness) -> str:
    parts = []
    for span in otel.spans():
        parts.append(json.dumps(dict(span.attributes or {}), default=str))
        for event in span.events:
            parts.append(json.dumps(dict(event.attributes or {}), default=str))
    parts.extend(str(record.body) for record in otel.logs())
    return "\n".join(parts)


def test_content_is_off_by_default_everywhere(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument()
    index.as_query_engine(similarity_top_k=2).query("What is the capital of France?")
    text = _all_strings(otel)
    for secret in ("capital of France", "Paris is the capital", "Answer:"):
        assert secret not in text


def test_content_is_captured_when_asked_for(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    instrument(capture_mode="SPAN_ONLY")
    index.as_query_engine(similarity_top_k=3).query("What is the capital of France?")
    spans = {d["name"]: d["attributes"] for d in otel.span_dicts()}
    assert (
        spans["retrieval capitals"]["gen_ai.retrieval.query.text"]
        == "What is the capital of France?"
    )
    docs = spans["retrieval capitals"]["gen_ai.retrieval.documents"]
    assert "Paris is the capital of France." in [d.get("content") for d in docs]
    output = spans["chat gpt-4o-mini"]["gen_ai.output.messages"]
    assert output[0]["parts"][0]["content"].startswith("Answer:")


def test_instrument_uninstrument_instrument_leaves_one_set_of_handlers(
    otel: OTelHarness, instrument: Instrument, index: VectorStoreIndex
) -> None:
    root = get_dispatcher()
    instrumentor = instrument()
    instrument()  # idempotent
    instrumentor.uninstrument()
    assert not any(isinstance(h, GenAISpanHandler) for h in root.span_handlers)
    assert not any(isinstance(h, GenAIEventHandler) for h in root.event_handlers)
    engine = index.as_query_engine(similarity_top_k=2)
    engine.query("untraced")
    assert otel.spans() == []

    instrument()
    engine.query("traced once")
    assert sum(isinstance(h, GenAISpanHandler) for h in root.span_handlers) == 1
    assert sum(isinstance(h, GenAIEventHandler) for h in root.event_handlers) == 1
    assert shape(otel.tree(attributes=False)) == [QUERY_SHAPE]
    assert LlamaIndexInstrumentor() is instrumentor


class _BadMeter(NoOpMeter):
    def create_histogram(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("meter backend down")


class _BadMeterProvider(NoOpMeterProvider):
    def get_meter(self, *args: Any, **kwargs: Any) -> Any:
        return _BadMeter("broken")


class _BadLoggerProvider(NoOpLoggerProvider):
    def get_logger(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("log backend down")


@pytest.mark.parametrize(
    "providers",
    [{"meter_provider": _BadMeterProvider()}, {"logger_provider": _BadLoggerProvider()}],
    ids=["meter", "logger"],
)
def test_instrument_with_a_provider_that_raises_never_breaks_the_app(
    otel: OTelHarness, index: VectorStoreIndex, providers: dict[str, Any]
) -> None:
    engine = index.as_query_engine(similarity_top_k=2)
    expected = str(engine.query("capital of France?"))
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=otel.tracer_provider, **providers)
    try:
        assert str(engine.query("capital of France?")) == expected
    finally:
        instrumentor.uninstrument()

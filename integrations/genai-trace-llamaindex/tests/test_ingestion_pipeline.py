"""An ``IngestionPipeline`` run, as users write it: a splitter, an LLM extractor and the
embedding model, with the real OpenAI clients over ``httpx.MockTransport`` (no network).

Each transformation may call a model (the extractor one chat per node and one per document, the
embedding model one per chunk of ``embed_batch_size`` texts), and LlamaIndex reports the run
(``IngestionPipeline.run``/``arun``) as its only common parent. Run where no span is current,
the run is one trace under an ``IngestionPipeline.<method>`` step span; it used to be one trace
per chat call plus one for the embeddings. Under the app's span, the calls nest there directly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from li_lifecycle import Lifecycle
from li_openai_wire import answer, openai_clients
from li_support import Instrument, shape
from llama_index.core import Document
from llama_index.core.extractors import TitleExtractor
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import TokenTextSplitter
from llama_index.core.schema import BaseNode
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from genai_trace_core import semconv as s
from genai_trace_core.testing import OTelHarness

MARKER = "Zanzibarquill"  # in every document, never in telemetry with capture off
DOCS = [
    Document(text=f"{MARKER} says Paris is the capital of France. " * 10, id_="doc-paris"),
    Document(text=f"{MARKER} says Berlin is the capital of Germany. " * 10, id_="doc-berlin"),
]
CHAT = ["chat gpt-4o-mini", []]
EMBEDDINGS = ["embeddings text-embedding-3-small", []]


class _Wire:
    """OpenAI's wire format, counting the chat and embeddings requests it served."""

    def __init__(self) -> None:
        self.chats = 0
        self.embeddings = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/embeddings"):
            self.embeddings += 1
        else:
            self.chats += 1
        return answer(request)


def _ingest(wire: _Wire, method: str) -> list[tuple[str, Any, Any]]:
    """The pipeline's nodes as a script gets them (``arun`` through ``asyncio.run``)."""
    llm, embed = openai_clients(wire)
    embed.embed_batch_size = 4
    pipeline = IngestionPipeline(
        transformations=[
            TokenTextSplitter(chunk_size=64, chunk_overlap=0),
            TitleExtractor(llm=llm, nodes=2),
            embed,
        ]
    )
    nodes: Sequence[BaseNode]
    if method == "arun":
        nodes = asyncio.run(pipeline.arun(documents=DOCS))
    else:
        nodes = pipeline.run(documents=DOCS)
    return [(n.get_content(), json.dumps(n.metadata, sort_keys=True), n.embedding) for n in nodes]


def _input_tokens(otel: OTelHarness) -> tuple[int, float]:
    """Chat input tokens on the spans, and on the usage counter."""
    on_spans = 0
    for sp in otel.spans():
        value = (sp.attributes or {}).get(s.GEN_AI_USAGE_INPUT_TOKENS)
        if sp.name.startswith("chat ") and isinstance(value, int):
            on_spans += value
    counted = sum(
        p["value"]
        for p in otel.metrics().get("gen_ai.client.inference.usage.input_tokens", [])
        if p["attributes"].get(s.GEN_AI_OPERATION_NAME) == "chat"
    )
    return on_spans, counted


@pytest.mark.parametrize("method", ["run", "arun"])
def test_an_ingestion_pipeline_run_is_one_trace(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle, method: str
) -> None:
    untraced = _ingest(_Wire(), method)
    instrument()
    wire = _Wire()
    assert _ingest(wire, method) == untraced  # the app's nodes, unchanged
    assert (wire.chats, wire.embeddings) == (6, 2)  # 2 docs x (2 nodes + 1 combine); 8 nodes / 4

    assert shape(otel.tree()) == [[f"IngestionPipeline.{method}", [CHAT] * 6 + [EMBEDDINGS] * 2]]
    assert len({sp.context.trace_id for sp in otel.spans() if sp.context}) == 1
    assert _input_tokens(otel) == (6 * 42, 6 * 42)  # once on the spans, once on the metric
    otlp = encode_spans(otel.spans()).SerializeToString()
    assert otel.logs() == []  # a request that does not fail emits no log record
    metric_attributes = json.dumps([p for v in otel.metrics().values() for p in v], default=str)
    for secret in (MARKER, "capital"):  # a document's text, the extractor's answer
        assert secret.encode() not in otlp
        assert secret not in metric_attributes
    lifecycle.check()


def test_under_the_apps_span_the_pipelines_calls_nest_there(
    otel: OTelHarness, instrument: Instrument, lifecycle: Lifecycle
) -> None:
    instrument()
    with trace.get_tracer("app", tracer_provider=otel.tracer_provider).start_as_current_span(
        "nightly ingest"
    ):
        _ingest(_Wire(), "run")

    assert shape(otel.tree()) == [["nightly ingest", [CHAT] * 6 + [EMBEDDINGS] * 2]]
    lifecycle.check()

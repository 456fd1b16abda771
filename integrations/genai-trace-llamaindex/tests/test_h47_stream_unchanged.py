"""A streaming query's stream is as lazy and prints the same with the instrumentor on.

We replace a ``StreamingResponse``'s ``response_gen`` (so its model call nests under the query):
the replacement is still a generator, runs nothing before it is read, and yields the same text.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from li_support import Instrument, shape
from llama_index.core import VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse

from genai_trace_core.testing import OTelHarness


def _stream_query(
    index: VectorStoreIndex, capsys: pytest.CaptureFixture[str], otel: OTelHarness
) -> list[Any]:
    response = index.as_query_engine(similarity_top_k=1, streaming=True).query("Spain?")
    assert isinstance(response, StreamingResponse)
    gen: Any = response.response_gen
    unread = (inspect.isgenerator(gen), inspect.getgeneratorstate(gen))
    called = any(name.startswith("chat") for name in (d["name"] for d in otel.span_dicts()))
    response.print_response_stream()
    return [unread, called, capsys.readouterr().out, str(response)]


def test_streaming_query_is_lazy_and_prints_the_same(
    otel: OTelHarness,
    instrument: Instrument,
    index: VectorStoreIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    without = _stream_query(index, capsys, otel)
    assert without[:2] == [(True, "GEN_CREATED"), False]
    instrument()
    assert _stream_query(index, capsys, otel) == without  # no model call before it is read
    assert shape(otel.tree(attributes=False)) == [
        [
            "RetrieverQueryEngine.query",
            [
                ["retrieval capitals", [["embeddings text-embedding-3-small", []]]],
                ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
            ],
        ]
    ]

"""The terminal tree of a LlamaIndex streaming query whose answer is read for longer than the
console's grace period (a real model streaming a long answer): the tree is printed at the end of
the grace period with the model call marked ``(open)``, and the model call, once its stream ends,
is printed as a continuation of that trace, with its tokens and cost. It used to be dropped: the
console never showed the call's duration, tokens or cost, and kept a buffer for it until exit."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import Iterator
from importlib import metadata

import pytest
from inline_snapshot import snapshot
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse
from packaging.version import Version

from genai_trace_core.export._console import ConsoleSpanProcessor
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import LlamaIndexInstrumentor
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM

GRACE = 0.2

pytestmark = pytest.mark.skipif(
    Version(metadata.version("llama-index-core")) < Version("0.13"),
    reason=(
        "written against llama-index-core 0.13+ (its streaming query tree); not verified on 0.12"
    ),
)


@pytest.fixture(autouse=True)
def _event_loop_closed_after() -> Iterator[None]:
    """llama-index-core counts prompt tokens through its own ``asyncio_run``, which runs on the
    thread's event loop, creating one if none is set and never closing it. Give it one and close
    it after the test, as ``asyncio.run`` would (not our code's loop)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def _timeless(text: str) -> str:
    """Durations (and the padding before them) vary from run to run."""
    return re.sub(r" +\d+(\.\d+)?(ms|s)\b", " T", text)


def _wait_for(out: io.StringIO, marker: str) -> None:
    deadline = time.monotonic() + 10
    while marker not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_stream_read_past_the_grace_period_is_printed_as_a_continuation(
    otel: OTelHarness,
) -> None:
    out = io.StringIO()
    console = ConsoleSpanProcessor(out, color=False, grace_seconds=GRACE)
    otel.tracer_provider.add_span_processor(console)
    with otel.instrumented(LlamaIndexInstrumentor()):
        docs = [Document(text="Parcels ship in two days.")]
        index = VectorStoreIndex.from_documents(docs, embed_model=DeterministicEmbedding())
        engine = index.as_query_engine(llm=DeterministicLLM(), streaming=True)
        response = engine.query("How fast is shipping?")
        assert isinstance(response, StreamingResponse) and response.response_gen is not None
        words = []
        for word in response.response_gen:  # a slow model: the first word, then a long pause
            words.append(word)
            if len(words) == 1:
                _wait_for(out, "(open)")
        answer = "".join(words)

    assert answer == "Answer: Query: How fast is shipping? Answer:"
    assert console.pending_traces() == 0
    assert otel.tree(attributes=False) == snapshot(
        [
            {
                "name": "embeddings text-embedding-3-small",
                "kind": "CLIENT",
                "status": "UNSET",
                "children": [],
            },
            {
                "name": "RetrieverQueryEngine.query",
                "kind": "INTERNAL",
                "status": "UNSET",
                "children": [
                    {
                        "name": "retrieval",
                        "kind": "CLIENT",
                        "status": "UNSET",
                        "children": [
                            {
                                "name": "embeddings text-embedding-3-small",
                                "kind": "CLIENT",
                                "status": "UNSET",
                                "children": [],
                            }
                        ],
                    },
                    {
                        "name": "CompactAndRefine.synthesize",
                        "kind": "INTERNAL",
                        "status": "UNSET",
                        "children": [
                            {
                                "name": "chat gpt-4o-mini",
                                "kind": "CLIENT",
                                "status": "UNSET",
                                "children": [],
                            }
                        ],
                    },
                ],
            },
        ]
    )
    assert _timeless(out.getvalue()) == snapshot("""\
trace 00000000000000000000000000000001 · unknown_service:python · 1 span · T
embeddings text-embedding-3-small T  in ≈7  $0.00000014
  model                   calls  input  cache  output         cost
  text-embedding-3-small      1      7      0       0  $0.00000014
trace 00000000000000000000000000000002 · unknown_service:python · 5 spans · T
RetrieverQueryEngine.query T
├── retrieval T  top_k 2  docs 1
│   └── embeddings text-embedding-3-small T  in ≈6  $0.00000012
└── CompactAndRefine.synthesize T  docs 1
    └── chat gpt-4o-mini (open) T
  model                   calls  input  cache  output         cost
  text-embedding-3-small      1      6      0       0  $0.00000012
trace 00000000000000000000000000000002 (continued) · unknown_service:python · 1 span · T
chat gpt-4o-mini T  [gpt-4o-mini-2024-07-18]  in 92 out 7  $0.000018
  model                   calls  input  cache  output       cost
  gpt-4o-mini-2024-07-18      1     92      0       7  $0.000018
""")

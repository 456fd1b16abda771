"""``attribution(metadata=...)`` keys are bounded like its values: every span stays small.

README ("Attribution"): the block's metadata goes on every GenAI operation in it as
``genai_trace.metadata.<key>``; values are "JSON, at most 256 characters", keys are not filtered
(``GENAI_TRACE_METADATA_KEYS`` does not apply: the developer chose them). docs/guarantees.md:
telemetry's own work is bounded on your thread, and no message is logged per lost item.

Measured before the fix with a LangChain call inside the block (the SDK's default limit of 128
attributes per span applies): a 1 MB key made every span 1 MB of OTLP (a batch of them then
exceeds the exporter's 64 MiB request limit and is lost whole); 100,000 keys (a request's
whole context passed as metadata) cost 3.5-4.3 s on the app's thread for one call and logged
99,894 "Attributes dict is full" warnings on stderr, one per attribute the SDK dropped; and
from about 100 keys on, the SDK's limit of 128 attributes per span evicts the span's own first
attributes (``gen_ai.operation.name``, ``user.id``...) to make room for the metadata.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from reliability_support import captured_logs

from genai_trace_core import attribution, semconv
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI

_PREFIX = semconv.METADATA_PREFIX


def _one_call(metadata: Mapping[str, object]) -> tuple[list[bytes], float]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    handler = OpenTelemetryCallbackHandler(tracer_provider=provider)
    FakeChatOpenAI(responses=["ok"]).invoke("warm-up", config={"callbacks": [handler]})
    exporter.clear()
    started = time.perf_counter()
    with attribution(user_id="alice", metadata=metadata):
        FakeChatOpenAI(responses=["ok"]).invoke("q", config={"callbacks": [handler]})
    took = time.perf_counter() - started
    spans = exporter.get_finished_spans()
    assert len(spans) == 1
    assert spans[0].attributes is not None
    # the span's own attributes come first: the SDK's 128-attribute limit evicts the oldest
    assert spans[0].attributes.get(semconv.USER_ID) == "alice"
    assert spans[0].attributes.get(semconv.GEN_AI_OPERATION_NAME) == "chat"
    return [encode_spans([s]).SerializeToString() for s in spans], took


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param({"k" * 1_000_000: "v", "plan": "pro"}, id="1MB-key"),
        pytest.param({f"key{i}": i for i in range(100_000)}, id="100k-keys"),
        pytest.param({f"key{i}" * 50: "v" * 300 for i in range(500)}, id="500-long-keys"),
    ],
)
def test_metadata_keys_cannot_blow_up_spans_logs_or_the_call(metadata: dict[str, object]) -> None:
    with (
        captured_logs("opentelemetry", logging.WARNING) as otel_logs,
        captured_logs("genai_trace", logging.WARNING) as ours,
    ):
        encoded, took = _one_call(metadata)
    assert max(len(b) for b in encoded) < 64 * 1024, [len(b) for b in encoded]
    assert [r.getMessage() for r in otel_logs] == []  # nothing per dropped attribute
    assert len(ours) <= 1  # at most one warning saying the metadata was cut
    assert took < 0.5, f"one call took {took:.2f} s"


def test_a_small_metadata_block_is_exported_whole() -> None:
    metadata = {f"key{i}": f"value {i}" for i in range(16)} | {"plan": "pro"}
    encoded, _ = _one_call(metadata)
    assert len(encoded) == 1
    for key, value in metadata.items():
        assert f"{_PREFIX}{key}".encode() in encoded[0]
        assert str(value).encode() in encoded[0]

"""What LlamaIndex drops of an OpenAI response, a util-genai provider instrumentation beside ours
hands back: ``OpenAIEmbedding`` drops the response model. With
``opentelemetry-instrumentation-genai-openai`` (suppressed inside our runs, it publishes what it
saw into them) our embeddings spans carry it; with OpenLLMetry's (it publishes nothing) it stays
absent, never made up. (A streamed chat, where LlamaIndex reports the id and model itself, keeps
them: ``test_provider_instrumentations.py``.)"""

from __future__ import annotations

from typing import Any

from li_openai_wire import openai_clients
from li_support import Instrument

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness, ProviderInstrumentation


def _only_span(otel: OTelHarness) -> dict[str, Any]:
    [span] = otel.span_dicts()
    return dict(span["attributes"])


def test_embeddings_get_the_response_model_llamaindex_drops(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
) -> None:
    _, embed = openai_clients()
    instrument()

    vectors = embed.get_text_embedding_batch(["Paris is in France.", "Berlin."])

    assert [len(v) for v in vectors] == [16, 16]
    a = _only_span(otel)
    assert a[semconv.GEN_AI_REQUEST_MODEL] == "text-embedding-3-small"
    if provider_instrumentation.publishes_usage:
        assert a[semconv.GEN_AI_RESPONSE_MODEL] == "text-embedding-3-small"
        assert a[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6  # the provider's count, published too
    else:
        assert semconv.GEN_AI_RESPONSE_MODEL not in a


async def test_async_embeddings_get_the_response_model_too(
    otel: OTelHarness, instrument: Instrument, provider_instrumentation: ProviderInstrumentation
) -> None:
    _, embed = openai_clients()
    instrument()

    vector = await embed.aget_query_embedding("Capital of France?")

    assert len(vector) == 16
    a = _only_span(otel)
    if provider_instrumentation.publishes_usage:
        assert a[semconv.GEN_AI_RESPONSE_MODEL] == "text-embedding-3-small"
    else:
        assert semconv.GEN_AI_RESPONSE_MODEL not in a

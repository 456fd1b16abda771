"""A chat model call is one CLIENT span: streaming with time to first chunk and usage from the final
chunk, estimated usage when the model reports none, attribution from metadata and tags, errors,
and provider spans suppressed inside the call only."""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import snapshot
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_langchain.testing import FakeChatOpenAI


def test_streaming_records_ttfc_chunk_metrics_and_usage_from_final_chunk(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(cached_tokens=2, reasoning_tokens=3)
    chunks = list(model.stream("tell me a long story", config={"callbacks": [handler]}))
    assert len(chunks) > 3
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.stream": True,
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-31331e7a7df0c1c9",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.response.time_to_first_chunk": 0.001,
                    "gen_ai.usage.cache_read.input_tokens": 2,
                    "gen_ai.usage.input_tokens": 9,
                    "gen_ai.usage.output_tokens": 9,
                    "gen_ai.usage.reasoning.output_tokens": 3,
                    "genai_trace.cost.cache_read_usd": 1.5e-07,
                    "genai_trace.cost.input_usd": 1.05e-06,
                    "genai_trace.cost.output_usd": 5.4e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 6.6e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            }
        ]
    )
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_INFERENCE_TTFC][0]["count"] == 1
    # one gap per chunk after the first (LangChain reports every chunk, the final one included)
    assert metrics[semconv.METRIC_INFERENCE_TPOC][0]["count"] == len(chunks) - 1


def test_usage_is_estimated_when_the_model_reports_none(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    model = GenericFakeChatModel(messages=iter([AIMessage("four words of output")]))
    model.invoke("two words", config={"callbacks": [handler]})
    # an unresolvable model still gets a span, named after the operation alone
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "unknown",
                    "genai_trace.usage.estimated.input_tokens": 3,
                    "genai_trace.usage.estimated.output_tokens": 5,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.estimator": "heuristic",
                    "genai_trace.usage.source": "estimated",
                },
            }
        ]
    )


def test_provider_spans_are_suppressed_inside_the_chat_call_only(
    otel: OTelHarness, make_handler: Any
) -> None:
    """A provider instrumentation that honours the suppression key (OpenLLMetry's) emits no
    second LLM span inside our chat span; outside the call it does."""
    from opentelemetry import context

    # internal: the context key a provider instrumentation reads to stay silent
    from genai_trace_core.lifecycle._suppress import SUPPRESS_LANGUAGE_MODEL_KEY

    tracer = otel.tracer_provider.get_tracer("provider")

    def provider_call() -> None:
        if not context.get_value(SUPPRESS_LANGUAGE_MODEL_KEY):
            tracer.start_span("openai.chat").end()

    class ProviderModel(FakeChatOpenAI):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            provider_call()
            return super()._generate(*args, **kwargs)

    ProviderModel().invoke("hi", config={"callbacks": [make_handler()]})
    provider_call()
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "openai.chat",
                "kind": "INTERNAL",
                "parent": None,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )
    otel.clear()
    ProviderModel().invoke(
        "hi", config={"callbacks": [make_handler(suppress_provider_spans=False)]}
    )
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
            },
            {
                "name": "openai.chat",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {},
            },
        ]
    )


def test_metadata_and_tags_attribution(otel: OTelHarness, make_handler: Any) -> None:
    handler = make_handler(metadata_keys=("tenant_plan",))
    FakeChatOpenAI().invoke(
        "hi",
        config={
            "callbacks": [handler],
            "tags": ["beta"],
            "metadata": {"thread_id": "t-1", "user_id": "u-7", "tenant_plan": "pro", "other": "x"},
        },
    )
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": None,
                "status": "UNSET",
                "attributes": {
                    "gen_ai.conversation.id": "t-1",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": "chatcmpl-8f434346648f6b96",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.cache_read.input_tokens": 0,
                    "gen_ai.usage.input_tokens": 5,
                    "gen_ai.usage.output_tokens": 2,
                    "gen_ai.usage.reasoning.output_tokens": 0,
                    "genai_trace.cost.cache_read_usd": 0.0,
                    "genai_trace.cost.input_usd": 7.5e-07,
                    "genai_trace.cost.output_usd": 1.2e-06,
                    "genai_trace.cost.source": "genai-prices",
                    "genai_trace.cost.usd": 1.95e-06,
                    "genai_trace.framework": "langchain",
                    "genai_trace.metadata.tenant_plan": "pro",
                    "genai_trace.run.tags": ["beta"],
                    "genai_trace.usage.source": "provider",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                    "user.id": "u-7",
                },
            }
        ]
    )


def test_metadata_values_are_json_absent_when_none_and_bounded(
    otel: OTelHarness, make_handler: Any
) -> None:
    handler = make_handler(metadata_keys=("plan", "flags", "gone", "note", "seats"))
    metadata = {"plan": {"tier": "pro", "seats": [1, 2]}, "flags": ["a", "b"], "gone": None}
    metadata |= {"note": "n" * 1000, "seats": 12}
    FakeChatOpenAI().invoke("hi", config={"callbacks": [handler], "metadata": metadata})
    [span] = otel.spans()
    exported = {k: v for k, v in (span.attributes or {}).items() if k.startswith("genai_trace.m")}
    assert exported == {
        "genai_trace.metadata.plan": '{"seats": [1, 2], "tier": "pro"}',
        "genai_trace.metadata.flags": '["a", "b"]',
        "genai_trace.metadata.note": "n" * 256,
        "genai_trace.metadata.seats": "12",
    }


def test_chain_error_marks_the_chain_and_model_spans(
    otel: OTelHarness, handler: OpenTelemetryCallbackHandler
) -> None:
    model = FakeChatOpenAI(fail_with=ValueError("bad request"))
    with pytest.raises(ValueError):
        (RunnableLambda(lambda x: x) | model).invoke("x", config={"callbacks": [handler]})
    assert otel.snapshot_dicts() == snapshot(
        [
            {
                "name": "invoke_workflow",
                "kind": "INTERNAL",
                "parent": None,
                "status": "ERROR",
                "attributes": {
                    "error.type": "ValueError",
                    "gen_ai.operation.name": "invoke_workflow",
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableSequence",
                },
                "status_description": "ValueError: message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "message not captured: content capture is off",
                            "exception.stacktrace": "... ValueError: "
                            "message not captured: content capture is off",
                            "exception.type": "ValueError",
                        },
                    }
                ],
            },
            {
                "name": "RunnableLambda",
                "kind": "INTERNAL",
                "parent": 0,
                "status": "UNSET",
                "attributes": {
                    "genai_trace.framework": "langchain",
                    "genai_trace.run.name": "RunnableLambda",
                    "genai_trace.run.type": "chain",
                },
            },
            {
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "parent": 0,
                "status": "ERROR",
                "attributes": {
                    "error.type": "ValueError",
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.0,
                    "genai_trace.framework": "langchain",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
                "status_description": "ValueError: message not captured: content capture is off",
                "events": [
                    {
                        "name": "exception",
                        "attributes": {
                            "exception.message": "message not captured: content capture is off",
                            "exception.stacktrace": "... ValueError: "
                            "message not captured: content capture is off",
                            "exception.type": "ValueError",
                        },
                    }
                ],
            },
        ]
    )
    assert handler.telemetry.open_count() == 0

"""A deterministic GenAI workload for the stack's end-to-end test.

It drives genai-trace core's public lifecycle API the way the LangChain and LlamaIndex
integrations do, so that every metric the dashboards and alerts read is emitted at least once:
a RAG turn (workflow, embeddings, retrieval, streamed chat), an agent turn (agent, chat, tools,
one failing), a rate-limited chat, attribution (tenant, feature, user) on the spend and
usage counters, and user feedback and an evaluator's score (record_feedback). Durations come
from explicit timestamps, so nothing sleeps.

The lead will replace the body with the real LangChain/LlamaIndex example workloads; keep the
single entry point ``run_workload(tracer_provider, meter_provider)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from genai_trace_core import (
    Document,
    Operation,
    OperationKind,
    Outcome,
    Telemetry,
    get_settings,
    record_feedback,
    semconv,
)

# Attribution keys the Cost dashboard groups by (GENAI_TRACE_METRIC_ATTRIBUTE_KEYS in real use).
ATTRIBUTION_KEYS = (semconv.TENANT_ID, semconv.FEATURE, semconv.USER_ID)

_run_ids: Iterator[int] = itertools.count(1)
_MS = 1_000_000


class RateLimitError(Exception):
    """Stands in for a provider's 429."""


class _Clock:
    """Hands out increasing timestamps: each call to ``after`` moves time forward."""

    def __init__(self) -> None:
        self.now = time.time_ns()

    def after(self, ms: float) -> int:
        self.now += int(ms * _MS)
        return self.now


def _openai_usage(
    prompt: int, completion: int, cached: int = 0, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _chat(
    tel: Telemetry,
    clock: _Clock,
    parent: int | None,
    *,
    model: str,
    usage: dict[str, Any],
    duration_ms: float,
    chunks: int = 0,
    tenant: str = "acme",
    feature: str = "support-chat",
    user: str = "user-1",
    error: BaseException | None = None,
    response_model: str | None = None,
) -> None:
    run = next(_run_ids)
    tel.start(
        run,
        Operation(
            kind=OperationKind.CHAT,
            provider=semconv.PROVIDER_OPENAI,
            request_model=model,
            framework="langchain",
            server_address="api.openai.com",
            server_port=443,
            tenant_id=tenant,
            feature=feature,
            user_id=user,
        ),
        parent_run_id=parent,
        start_time_ns=clock.now,
    )
    if chunks:
        clock.after(duration_ms * 0.3)
        for _ in range(chunks):
            tel.chunk(run, time_ns=clock.after(duration_ms * 0.7 / chunks))
    else:
        clock.after(duration_ms)
    if error is not None:
        tel.fail(run, error, end_time_ns=clock.now)
        return
    tel.end(
        run,
        Outcome(raw_usage=usage, response_model=response_model or model, finish_reasons=["stop"]),
        end_time_ns=clock.now,
    )


def _rag_turn(tel: Telemetry, clock: _Clock) -> None:
    workflow = next(_run_ids)
    tel.start(
        workflow,
        Operation(kind=OperationKind.INVOKE_WORKFLOW, name="rag-query", framework="llama_index"),
        start_time_ns=clock.now,
    )
    embed = next(_run_ids)
    tel.start(
        embed,
        Operation(
            kind=OperationKind.EMBEDDINGS,
            provider=semconv.PROVIDER_OPENAI,
            request_model="text-embedding-3-small",
            framework="llama_index",
        ),
        parent_run_id=workflow,
        start_time_ns=clock.after(2),
    )
    tel.end(
        embed,
        Outcome(raw_usage={"prompt_tokens": 12, "total_tokens": 12}, embedding_dimension=1536),
        end_time_ns=clock.after(80),
    )
    retrieve = next(_run_ids)
    tel.start(
        retrieve,
        Operation(
            kind=OperationKind.RETRIEVAL, name="docs-index", top_k=3, framework="llama_index"
        ),
        parent_run_id=workflow,
        start_time_ns=clock.after(1),
    )
    tel.end(
        retrieve,
        Outcome(documents=[Document(id=f"doc-{i}", score=0.9 - i / 10) for i in range(3)]),
        end_time_ns=clock.after(45),
    )
    _chat(
        tel,
        clock,
        workflow,
        model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        usage=_openai_usage(900, 120, cached=512),
        duration_ms=1400,
        chunks=12,
        tenant="acme",
        feature="doc-search",
        user="user-2",
    )
    tel.end(workflow, Outcome(), end_time_ns=clock.after(5))


def _agent_turn(tel: Telemetry, clock: _Clock) -> None:
    agent = next(_run_ids)
    tel.start(
        agent,
        Operation(kind=OperationKind.INVOKE_AGENT, name="travel-agent", framework="langchain"),
        start_time_ns=clock.now,
    )
    _chat(
        tel,
        clock,
        agent,
        model="gpt-4o",
        usage=_openai_usage(1500, 80, reasoning=0),
        duration_ms=2100,
        tenant="globex",
        feature="trip-planner",
    )
    for tool_name, fails in (("search_flights", False), ("book_hotel", True)):
        tool = next(_run_ids)
        tel.start(
            tool,
            Operation(
                kind=OperationKind.EXECUTE_TOOL,
                name=tool_name,
                tool_type="function",
                agent_name="travel-agent",
                framework="langchain",
            ),
            parent_run_id=agent,
            start_time_ns=clock.after(1),
        )
        if fails:
            tel.fail(tool, TimeoutError("hotel API timed out"), end_time_ns=clock.after(3000))
        else:
            tel.end(tool, Outcome(tool_result="3 flights"), end_time_ns=clock.after(350))
    _chat(
        tel,
        clock,
        agent,
        model="gpt-4o",
        response_model="gpt-4o-2024-08-06",
        usage=_openai_usage(2100, 260, cached=1024),
        duration_ms=3300,
        chunks=20,
        tenant="globex",
        feature="trip-planner",
    )
    tel.end(agent, Outcome(), end_time_ns=clock.after(3))


def _feedback(meter_provider: MeterProvider) -> None:
    """Users' thumbs on earlier answers and an evaluator's label (the feedback panels)."""
    for model, version, score in (
        ("gpt-4o-mini", "v1", 1.0),
        ("gpt-4o-mini", "v2", 0.0),
        ("gpt-4o", "v1", 1.0),
        ("o3-mini", "v2", 1.0),
    ):
        record_feedback(
            "user_feedback",
            score=score,
            label="thumbs_up" if score else "thumbs_down",
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            span_id="00f067aa0ba902b7",
            model=model,
            provider=semconv.PROVIDER_OPENAI,
            feature="support-chat",
            prompt_version=version,
            meter_provider=meter_provider,
        )
    record_feedback(
        "faithfulness",
        score=0.8,
        label="faithful",
        model="gpt-4o-mini",
        provider=semconv.PROVIDER_OPENAI,
        meter_provider=meter_provider,
    )


def run_workload(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
    """Emit one round of every signal the stack's dashboards and alerts read."""
    settings = dataclasses.replace(get_settings(), metric_attribute_keys=ATTRIBUTION_KEYS)
    tel = Telemetry(
        tracer_provider=tracer_provider, meter_provider=meter_provider, settings=settings
    )
    clock = _Clock()
    _rag_turn(tel, clock)
    _agent_turn(tel, clock)
    _chat(
        tel,
        clock,
        None,
        model="gpt-4o",
        usage={},
        duration_ms=600,
        tenant="initech",
        feature="summarise",
        error=RateLimitError("429 Too Many Requests"),
    )
    _chat(
        tel,
        clock,
        None,
        model="o3-mini",
        usage=_openai_usage(400, 900, reasoning=640),
        duration_ms=5200,
        tenant="initech",
        feature="summarise",
        user="user-3",
    )
    _feedback(meter_provider)

"""Errors: which error types, which models and tools fail, and the failing spans and their
log events, one click from the trace."""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    ABANDONED,
    ERR,
    INFERENCE_DURATION,
    SEL,
    TOOL_DURATION,
    UID_ERRORS,
    bars,
    loki_logs,
    new_dashboard,
    prom,
    row,
    single,
    traceql_table,
    ts,
)
from grafana_foundation_sdk.models.dashboard import Dashboard

SVC = 'service_name=~"$service"'
ALL_OPS = '__name__=~"gen_ai_(client_inference|client_embeddings|client_operation|execute_tool|invocation)_duration_seconds_count"'


def build() -> Dashboard:
    return (
        new_dashboard(
            UID_ERRORS,
            "GenAI / Errors",
            "Error types, failing models and tools, errored spans in Tempo and their events in Loki.",
        )
        .with_row(row("Rates"))
        .with_panel(
            ts(
                "Errors/s by type and operation",
                "reqps",
                prom(
                    f"sum by (error_type, gen_ai_operation_name) (rate({{{ALL_OPS}, {SVC}, {ERR}}}[$__rate_interval]))",
                    "{{gen_ai_operation_name}}: {{error_type}}",
                ),
            ).span(16)
        )
        .with_panel(
            single(
                "Spans ended as abandoned",
                "short",
                f"sum(increase({ABANDONED}{{{SVC}}}[$__range])) or vector(0)",
                description="Runs whose framework never reported an end; genai-trace closed them.",
                width=8,
            )
        )
        .with_panel(
            bars(
                "Failing models",
                "short",
                f"topk(10, sum by (gen_ai_request_model, error_type) (increase({INFERENCE_DURATION}_count{{{SEL}, {ERR}}}[$__range])))",
                "{{gen_ai_request_model}}: {{error_type}}",
            ).span(12)
        )
        .with_panel(
            bars(
                "Failing tools",
                "short",
                f"topk(10, sum by (gen_ai_tool_name, error_type) (increase({TOOL_DURATION}_count{{{SVC}, {ERR}}}[$__range])))",
                "{{gen_ai_tool_name}}: {{error_type}}",
            ).span(12)
        )
        .with_row(row("Drill down"))
        .with_panel(
            traceql_table(
                "Errored GenAI spans",
                '{ span.gen_ai.operation.name != nil && status = error && resource.service.name =~ "${service:regex}" }'
                " | select(span.gen_ai.operation.name, span.gen_ai.request.model, span.error.type)",
                description="From Tempo. Open a trace; its log events are one click away (Tempo -> Loki).",
            )
        )
        .with_panel(
            loki_logs(
                "GenAI error events",
                '{service_name=~"${service:regex}"} | error_type != "" or exception_type != ""',
                description=(
                    "gen_ai.client.inference.operation.details and gen_ai.client.operation.exception "
                    "events (need OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY or "
                    "SPAN_AND_EVENT). The trace_id field links to Tempo."
                ),
            )
        )
        .build()
    )

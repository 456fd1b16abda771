"""RAG and agents: retrieval latency and documents returned, embeddings, tool calls and
failures, agent runs and the steps they take, workflow runs."""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    AGENT_INFERENCE_CALLS,
    AGENT_TOOL_CALLS,
    EMBEDDINGS_DURATION,
    EMBEDDINGS_INPUT_TOKENS,
    ERR,
    INVOCATION_DURATION,
    OK,
    OPERATION_DURATION,
    SEL,
    TOOL_DURATION,
    UID_RAG,
    new_dashboard,
    prom,
    quantile,
    row,
    traceql_table,
    ts,
)
from grafana_foundation_sdk.models.dashboard import Dashboard

SVC = 'service_name=~"$service"'
RETRIEVAL = f'{SVC}, gen_ai_operation_name="retrieval"'


def build() -> Dashboard:
    return (
        new_dashboard(UID_RAG, "GenAI / RAG and agents", "Retrieval, embeddings, tools and agents.")
        .with_row(row("Retrieval"))
        .with_panel(
            ts(
                "Retrieval latency p50 / p95",
                "s",
                prom(quantile(0.5, OPERATION_DURATION, selector=RETRIEVAL), "p50", exemplar=True),
                prom(quantile(0.95, OPERATION_DURATION, selector=RETRIEVAL), "p95", exemplar=True),
            )
        )
        .with_panel(
            ts(
                "Retrievals/s",
                "reqps",
                prom(
                    f"sum by (service_name) (rate({OPERATION_DURATION}_count{{{RETRIEVAL}}}[$__rate_interval]))",
                    "{{service_name}}",
                ),
            )
        )
        .with_panel(
            traceql_table(
                "Recent retrievals and documents returned",
                '{ span.gen_ai.operation.name = "retrieval" && resource.service.name =~ "${service:regex}" }'
                " | select(span.gen_ai.data_source.id, span.genai_trace.documents.count, span.gen_ai.retrieval.top_k)",
                description="From Tempo: one row per retrieval span; click a trace id to open it.",
            )
        )
        .with_row(row("Embeddings"))
        .with_panel(
            ts(
                "Embedding calls/s",
                "reqps",
                prom(
                    f"sum by (gen_ai_request_model) (rate({EMBEDDINGS_DURATION}_count{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}}",
                ),
            ).span(8)
        )
        .with_panel(
            ts(
                "Embedding p95 latency",
                "s",
                prom(
                    quantile(0.95, EMBEDDINGS_DURATION, "gen_ai_request_model"),
                    "{{gen_ai_request_model}}",
                ),
            ).span(8)
        )
        .with_panel(
            ts(
                "Embedding input tokens per call",
                "short",
                prom(
                    f"sum by (gen_ai_request_model) (rate({EMBEDDINGS_INPUT_TOKENS}_sum{{{SEL}, {OK}}}[$__rate_interval]))"
                    f" / sum by (gen_ai_request_model) (rate({EMBEDDINGS_INPUT_TOKENS}_count{{{SEL}, {OK}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}}",
                ),
                description="Provider-reported counts per successful call (a failed call"
                " records 0, left out here); offline estimates only with"
                " GENAI_TRACE_ESTIMATE_USAGE=true. LangChain and LlamaIndex drop the"
                " provider's embeddings usage; a util-genai provider instrumentation"
                " (opentelemetry-instrumentation-genai-openai) beside genai-trace hands it back.",
            ).span(8)
        )
        .with_row(row("Tools"))
        .with_panel(
            ts(
                "Tool calls/s by tool",
                "reqps",
                prom(
                    f"sum by (gen_ai_tool_name) (rate({TOOL_DURATION}_count{{{SVC}}}[$__rate_interval]))",
                    "{{gen_ai_tool_name}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Tool failures/s by tool and error",
                "reqps",
                prom(
                    f"sum by (gen_ai_tool_name, error_type) (rate({TOOL_DURATION}_count{{{SVC}, {ERR}}}[$__rate_interval]))",
                    "{{gen_ai_tool_name}}: {{error_type}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Tool p95 duration",
                "s",
                prom(
                    quantile(0.95, TOOL_DURATION, "gen_ai_tool_name", selector=SVC),
                    "{{gen_ai_tool_name}}",
                ),
            )
        )
        .with_row(row("Agents and workflows"))
        .with_panel(
            ts(
                "Agent and workflow runs/s",
                "reqps",
                prom(
                    f'sum by (gen_ai_agent_name) (rate({INVOCATION_DURATION}_count{{{SVC}, gen_ai_agent_name!=""}}[$__rate_interval]))',
                    "agent {{gen_ai_agent_name}}",
                ),
                prom(
                    f'sum by (gen_ai_workflow_name) (rate({INVOCATION_DURATION}_count{{{SVC}, gen_ai_workflow_name!=""}}[$__rate_interval]))',
                    "workflow {{gen_ai_workflow_name}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Agent steps per run",
                "short",
                prom(
                    f"sum by (gen_ai_agent_name) (rate({AGENT_INFERENCE_CALLS}_sum{{{SVC}}}[$__rate_interval]))"
                    f" / sum by (gen_ai_agent_name) (rate({AGENT_INFERENCE_CALLS}_count{{{SVC}}}[$__rate_interval]))",
                    "model calls {{gen_ai_agent_name}}",
                ),
                prom(
                    f"sum by (gen_ai_agent_name) (rate({AGENT_TOOL_CALLS}_sum{{{SVC}}}[$__rate_interval]))"
                    f" / sum by (gen_ai_agent_name) (rate({AGENT_TOOL_CALLS}_count{{{SVC}}}[$__rate_interval]))",
                    "tool calls {{gen_ai_agent_name}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Invocation p95 duration",
                "s",
                prom(
                    quantile(
                        0.95,
                        INVOCATION_DURATION,
                        "gen_ai_agent_name, gen_ai_workflow_name",
                        selector=SVC,
                    ),
                    "{{gen_ai_agent_name}}{{gen_ai_workflow_name}}",
                ),
            )
        )
        .build()
    )

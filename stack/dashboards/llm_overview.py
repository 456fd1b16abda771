"""LLM overview: is the LLM traffic healthy, how fast, how many tokens, what does it cost."""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    COST,
    ERR,
    INFERENCE_DURATION,
    SEL,
    TPOC,
    TTFC,
    UID_OVERVIEW,
    USAGE_CACHE_READ,
    USAGE_CACHE_WRITE,
    USAGE_INPUT,
    USAGE_OUTPUT,
    USAGE_REASONING,
    bars,
    new_dashboard,
    prom,
    quantile,
    row,
    single,
    tokens_in_out,
    ts,
)
from grafana_foundation_sdk.models.dashboard import Dashboard

CALLS = f"{INFERENCE_DURATION}_count"


def build() -> Dashboard:
    return (
        new_dashboard(
            UID_OVERVIEW,
            "GenAI / LLM overview",
            "Model calls, errors, latency, time to first token, tokens and spend, from genai-trace metrics.",
        )
        .with_row(row("Now"))
        .with_panel(single("Model calls", "short", f"sum(increase({CALLS}{{{SEL}}}[$__range]))"))
        .with_panel(
            single(
                "Error %",
                "percentunit",
                f"(sum(increase({CALLS}{{{SEL}, {ERR}}}[$__range])) or vector(0))"
                f" / sum(increase({CALLS}{{{SEL}}}[$__range]))",
                description="Share of model calls that ended with an error.type.",
            )
        )
        .with_panel(
            single("p95 latency", "s", quantile(0.95, INFERENCE_DURATION, window="$__range"))
        )
        .with_panel(single("p95 time to first token", "s", quantile(0.95, TTFC, window="$__range")))
        .with_panel(single("Tokens (in + out)", "short", tokens_in_out("increase", "$__range")))
        .with_panel(
            single(
                "Estimated spend",
                "currencyUSD",
                f"sum(increase({COST}{{{SEL}}}[$__range]))",
                description="Client-side estimate from genai-trace's price table (genai_trace.client.cost).",
            )
        )
        .with_row(row("Traffic and latency"))
        .with_panel(
            ts(
                "Calls/s by model and operation",
                "reqps",
                prom(
                    f"sum by (gen_ai_request_model, gen_ai_operation_name) (rate({CALLS}{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}} {{gen_ai_operation_name}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Latency p50 / p95 / p99",
                "s",
                prom(quantile(0.5, INFERENCE_DURATION), "p50", exemplar=True),
                prom(quantile(0.95, INFERENCE_DURATION), "p95", exemplar=True),
                prom(quantile(0.99, INFERENCE_DURATION), "p99", exemplar=True),
                description="Exemplars (dots) open the trace in Tempo.",
            )
        )
        .with_panel(
            ts(
                "Time to first token and time per output chunk",
                "s",
                prom(quantile(0.5, TTFC), "TTFT p50"),
                prom(quantile(0.95, TTFC), "TTFT p95"),
                prom(quantile(0.95, TPOC), "per chunk p95"),
                description="Streaming calls only.",
            )
        )
        .with_panel(
            ts(
                "Tokens/s by type",
                "short",
                prom(f"sum(rate({USAGE_INPUT}{{{SEL}}}[$__rate_interval]))", "input"),
                prom(f"sum(rate({USAGE_OUTPUT}{{{SEL}}}[$__rate_interval]))", "output"),
                prom(f"sum(rate({USAGE_CACHE_READ}{{{SEL}}}[$__rate_interval]))", "cache read"),
                prom(f"sum(rate({USAGE_CACHE_WRITE}{{{SEL}}}[$__rate_interval]))", "cache write"),
                prom(f"sum(rate({USAGE_REASONING}{{{SEL}}}[$__rate_interval]))", "reasoning"),
                description="Cache read/write are part of input; reasoning is part of output.",
            )
        )
        .with_row(row("Spend"))
        .with_panel(
            ts(
                "Spend rate by model (USD/h)",
                "currencyUSD",
                prom(
                    f"sum by (gen_ai_request_model) (rate({COST}{{{SEL}}}[$__rate_interval])) * 3600",
                    "{{gen_ai_request_model}}",
                ),
            )
        )
        .with_panel(
            bars(
                "Spend by service",
                "currencyUSD",
                f"sum by (service_name) (increase({COST}{{{SEL}}}[$__range]))",
                "{{service_name}}",
            )
        )
        .with_panel(
            bars(
                "Spend by model",
                "currencyUSD",
                f"sum by (gen_ai_request_model) (increase({COST}{{{SEL}}}[$__range]))",
                "{{gen_ai_request_model}}",
            )
        )
        .build()
    )

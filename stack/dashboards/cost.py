"""Cost: what did we spend today/this week/this month, on which model, for whom, and how fast
are we burning the budget. Spend is genai-trace's client-side estimate (genai_trace.client.cost).
"""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    BUDGET_DAY,
    BUDGET_HOUR,
    COST,
    INFERENCE_DURATION,
    SEL,
    UID_COST,
    USAGE_CACHE_READ,
    USAGE_INPUT,
    bars,
    new_dashboard,
    prom,
    row,
    single,
    ts,
)
from grafana_foundation_sdk.builders import bargauge
from grafana_foundation_sdk.models.dashboard import Dashboard

SPEND = f"sum(increase({COST}{{{SEL}}}[$__range]))"
ATTRIBUTION_NOTE = "Needs GENAI_TRACE_METRIC_ATTRIBUTE_KEYS to include {key} (opt-in: it adds one series per value)."


def _by(label: str, title: str, key: str) -> bargauge.Panel:
    return bars(
        title,
        "currencyUSD",
        f'topk(10, sum by ({label}) (increase({COST}{{{SEL}, {label}!=""}}[$__range])))',
        f"{{{{{label}}}}}",
        description=ATTRIBUTION_NOTE.format(key=key),
    )


def build() -> Dashboard:
    return (
        new_dashboard(
            UID_COST,
            "GenAI / Cost",
            "LLM spend by period, model, tenant, feature and user; cache savings; budget burn.",
        )
        .with_row(row("Spend"))
        .with_panel(single("Today", "currencyUSD", SPEND, width=6).time_from("now/d"))
        .with_panel(single("This week", "currencyUSD", SPEND, width=6).time_from("now/w"))
        .with_panel(single("This month", "currencyUSD", SPEND, width=6).time_from("now/M"))
        .with_panel(
            single(
                "Average cost per model call",
                "currencyUSD",
                f'sum(increase({COST}{{{SEL}, gen_ai_operation_name=~"chat|text_completion|generate_content"}}[$__range]))'
                f" / sum(increase({INFERENCE_DURATION}_count{{{SEL}}}[$__range]))",
                description="Spend on model calls (chat, completions) over their number; embeddings spend is left out of both.",
                width=6,
            )
        )
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
                "Spend by model",
                "currencyUSD",
                f"sum by (gen_ai_request_model) (increase({COST}{{{SEL}}}[$__range]))",
                "{{gen_ai_request_model}}",
            ).span(12)
        )
        .with_row(row("Who spends"))
        .with_panel(_by("genai_trace_tenant_id", "Top tenants", "genai_trace.tenant.id"))
        .with_panel(_by("genai_trace_feature", "Top features", "genai_trace.feature"))
        .with_panel(_by("user_id", "Top users", "user.id"))
        .with_row(row("Cache savings and budget"))
        .with_panel(
            ts(
                "Input tokens served from cache",
                "percentunit",
                prom(
                    f"sum by (gen_ai_request_model) (rate({USAGE_CACHE_READ}{{{SEL}}}[$__rate_interval]))"
                    f" / sum by (gen_ai_request_model) (rate({USAGE_INPUT}{{{SEL}}}[$__rate_interval]))",
                    "{{gen_ai_request_model}}",
                ),
                description=(
                    "Cache-read share of input tokens. Providers bill cached input at a discount "
                    "(OpenAI 50-90%, Anthropic 90%), so this share is the lever on input spend."
                ),
            )
        )
        .with_panel(
            ts(
                "Budget burn (rolling hour and day)",
                "percentunit",
                prom(
                    f"sum(increase({COST}[1h])) / on() {BUDGET_HOUR}", "last hour / hourly budget"
                ),
                prom(f"sum(increase({COST}[1d])) / on() {BUDGET_DAY}", "last 24h / daily budget"),
                description=(
                    "All services. Budgets are the recording rules in "
                    "stack/prometheus/rules/budgets.rules.yml; alerts fire above 100%."
                ),
            )
        )
        .build()
    )

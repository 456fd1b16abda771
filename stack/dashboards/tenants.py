"""Tenants and users: per-tenant and per-user spend, tokens, errors and latency, with links from
every tenant or user to its traces in Tempo and its events in Loki.

Needs GENAI_TRACE_METRIC_ATTRIBUTE_KEYS to include genai_trace.tenant.id and user.id (opt-in:
one series per value; keep it to bounded sets such as tenants and internal user ids).
"""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import (
    COST,
    ERR,
    INFERENCE_DURATION,
    PROMETHEUS,
    SEL,
    UID_TENANTS,
    explore_link,
    new_dashboard,
    prom,
    prom_table,
    quantile,
    row,
    tokens_in_out,
    ts,
)
from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models.dashboard import Dashboard, VariableRefresh, VariableSort

TENANT = "genai_trace_tenant_id"
USER = "user_id"
WHO = f'{SEL}, {TENANT}=~"$tenant", {USER}=~"$user"'
NOTE = "Needs GENAI_TRACE_METRIC_ATTRIBUTE_KEYS with genai_trace.tenant.id and user.id."


def _variable(name: str, label: str, title: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(title)
        .datasource(PROMETHEUS)
        .query(f"label_values({COST}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def _links(label: str, span_attribute: str) -> list[dashboard.DashboardLink]:
    value = f"${{__field.labels.{label}}}"
    return [
        explore_link(
            f"Traces of this {span_attribute.split('.')[-2]}",
            "tempo",
            f'{{ span.{span_attribute} = "{value}" }}',
        ),
        explore_link(
            f"Log events of this {span_attribute.split('.')[-2]}",
            "loki",
            f'{{service_name=~".+"}} | {label} = "{value}"',
        ),
    ]


def build() -> Dashboard:
    spend = f"sum by ({TENANT}) (rate({COST}{{{WHO}}}[$__rate_interval])) * 3600"
    calls = f"{INFERENCE_DURATION}_count{{{WHO}}}"
    return (
        new_dashboard(
            UID_TENANTS,
            "GenAI / Tenants and users",
            "Spend, tokens, errors and latency per tenant and per user, linked to their traces and log events.",
        )
        .with_variable(_variable("tenant", TENANT, "Tenant"))
        .with_variable(_variable("user", USER, "User"))
        .with_row(row("Tenants"))
        .with_panel(
            ts(
                "Spend rate by tenant (USD/h)",
                "currencyUSD",
                prom(spend, f"{{{{{TENANT}}}}}"),
                description=NOTE,
            ).data_links(_links(TENANT, "genai_trace.tenant.id"))
        )
        .with_panel(
            ts(
                "Tokens/s by tenant (input + output)",
                "short",
                prom(
                    tokens_in_out("rate", "$__rate_interval", TENANT).replace(SEL, WHO),
                    f"{{{{{TENANT}}}}}",
                ),
            ).data_links(_links(TENANT, "genai_trace.tenant.id"))
        )
        .with_panel(
            ts(
                "Error ratio by tenant",
                "percentunit",
                prom(
                    f"sum by ({TENANT}) (rate({INFERENCE_DURATION}_count{{{WHO}, {ERR}}}[$__rate_interval]))"
                    f" / sum by ({TENANT}) (rate({calls}[$__rate_interval]))",
                    f"{{{{{TENANT}}}}}",
                ),
            ).data_links(_links(TENANT, "genai_trace.tenant.id"))
        )
        .with_panel(
            ts(
                "p95 model latency by tenant",
                "s",
                prom(quantile(0.95, INFERENCE_DURATION, TENANT, WHO), f"{{{{{TENANT}}}}}"),
            ).data_links(_links(TENANT, "genai_trace.tenant.id"))
        )
        .with_row(row("Users"))
        .with_panel(
            prom_table(
                "Users: spend, calls, errors, p95 latency",
                (f"sum by ({TENANT}, {USER}) (increase({COST}{{{WHO}}}[$__range]))", "Spend (USD)"),
                (f"sum by ({TENANT}, {USER}) (increase({calls}[$__range]))", "Model calls"),
                (
                    f"sum by ({TENANT}, {USER}) (increase({INFERENCE_DURATION}_count{{{WHO}, {ERR}}}[$__range]))",
                    "Failed calls",
                ),
                (
                    quantile(0.95, INFERENCE_DURATION, f"{TENANT}, {USER}", WHO, "$__range"),
                    "p95 latency (s)",
                ),
                description=NOTE + " Click a row for the user's traces or log events.",
            ).data_links(
                [
                    explore_link(
                        "Traces of this user",
                        "tempo",
                        '{ span.user.id = "${__data.fields.user_id}" }',
                    ),
                    explore_link(
                        "Log events of this user",
                        "loki",
                        '{service_name=~".+"} | user_id = "${__data.fields.user_id}"',
                    ),
                ]
            )
        )
        .with_panel(
            ts(
                "Spend rate by user (USD/h), top 10",
                "currencyUSD",
                prom(
                    f"topk(10, sum by ({USER}) (rate({COST}{{{WHO}}}[$__rate_interval]))) * 3600",
                    f"{{{{{USER}}}}}",
                ),
            ).data_links(_links(USER, "user.id"))
        )
        .with_panel(
            ts(
                "Model calls/s by user, top 10",
                "reqps",
                prom(
                    f"topk(10, sum by ({USER}) (rate({calls}[$__rate_interval])))",
                    f"{{{{{USER}}}}}",
                ),
            ).data_links(_links(USER, "user.id"))
        )
        .build()
    )

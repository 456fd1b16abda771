"""Shared pieces of the genai-trace dashboards: datasources, variables, metric names, panels.

Metric names are the OTel GenAI names genai-trace emits, as Prometheus stores them (dots to
underscores, ``_seconds`` for seconds histograms, ``_total`` for counters, ``{token}`` dropped);
tests/stack/test_stack_e2e.py proves them against a real Prometheus.
"""

# PromQL/TraceQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

import json
from urllib.parse import quote

from _namings import CALLS_EITHER_NAMING, both_namings
from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    logs,
    loki,
    prometheus,
    stat,
    table,
    tempo,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_model
from grafana_foundation_sdk.models.common import DataSourceRef
from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort
from grafana_foundation_sdk.models.prometheus import PromQueryFormat
from grafana_foundation_sdk.models.tempo import SearchTableType

# --- datasources (uids fixed in grafana/provisioning/datasources/datasources.yaml) ----------------
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
TEMPO = DataSourceRef(type_val="tempo", uid="tempo")
LOKI = DataSourceRef(type_val="loki", uid="loki")

# --- metric names -------------------------------------------------------------------------------
INFERENCE_DURATION = "gen_ai_client_inference_duration_seconds"
TTFC = "gen_ai_client_inference_time_to_first_chunk_seconds"
TPOC = "gen_ai_client_inference_time_per_output_chunk_seconds"
OP_INPUT_TOKENS = "gen_ai_client_inference_operation_input_tokens"
OP_OUTPUT_TOKENS = "gen_ai_client_inference_operation_output_tokens"
EMBEDDINGS_DURATION = "gen_ai_client_embeddings_duration_seconds"
EMBEDDINGS_INPUT_TOKENS = "gen_ai_client_embeddings_operation_input_tokens"
OPERATION_DURATION = "gen_ai_client_operation_duration_seconds"
TOOL_DURATION = "gen_ai_execute_tool_duration_seconds"
INVOCATION_DURATION = "gen_ai_invocation_duration_seconds"
AGENT_INFERENCE_CALLS = "gen_ai_invoke_agent_inference_calls"
AGENT_TOOL_CALLS = "gen_ai_invoke_agent_tool_calls"
USAGE_INPUT = "gen_ai_client_inference_usage_input_tokens_total"
USAGE_OUTPUT = "gen_ai_client_inference_usage_output_tokens_total"
USAGE_CACHE_READ = "gen_ai_client_inference_usage_cache_read_input_tokens_total"
USAGE_CACHE_WRITE = "gen_ai_client_inference_usage_cache_write_input_tokens_total"
USAGE_REASONING = "gen_ai_client_inference_usage_reasoning_output_tokens_total"
COST = "genai_trace_client_cost_total"
ABANDONED = "genai_trace_spans_abandoned_total"
EVAL_SCORE = "genai_trace_evaluation_score"  # histogram: _sum/_count/_bucket
EVAL_COUNT = "genai_trace_evaluation_count_total"
BUDGET_HOUR = "genai_trace:budget_usd:per_hour"
BUDGET_DAY = "genai_trace:budget_usd:per_day"

# Label selector every panel applies: the dashboard variables.
SEL = 'service_name=~"$service", gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model"'
ERR = 'error_type!=""'
# Successful calls only: a failed model call records 0 input tokens (with error_type) on the
# per-operation token histograms, which would drag averages and percentiles over them down.
OK = 'error_type=""'

# Dashboard uids, for links between dashboards.
UID_OVERVIEW = "genai-llm-overview"
UID_COST = "genai-cost"
UID_MODELS = "genai-model-comparison"
UID_RAG = "genai-rag-agents"
UID_ERRORS = "genai-errors"
UID_TENANTS = "genai-tenants"
UID_STACK = "genai-stack-health"


def _label_variable(
    name: str, label: str, title: str, all_value: str = ".*"
) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(title)
        .datasource(PROMETHEUS)
        .query(f"label_values({CALLS_EITHER_NAMING}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(all_value)
    )


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """A dashboard with the service/provider/model variables and links to its siblings."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["genai", "genai-trace", "llm"])
        .editable()
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .tooltip(dashboard_model.DashboardCursorSync.CROSSHAIR)
        # ".+", not ".*": Loki rejects a stream selector whose only matcher matches "" (the
        # Errors dashboard's log panel under "All"); every GenAI series has a service_name.
        .with_variable(_label_variable("service", "service_name", "Service", ".+"))
        .with_variable(_label_variable("provider", "gen_ai_provider_name", "Provider"))
        .with_variable(_label_variable("model", "gen_ai_request_model", "Model"))
        .link(
            dashboard.DashboardLink("GenAI dashboards")
            .type(dashboard_model.DashboardLinkType.DASHBOARDS)
            .tags(["genai-trace"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def prom(
    expr: str,
    legend: str = "",
    *,
    instant: bool = False,
    exemplar: bool = False,
    as_table: bool = False,
) -> prometheus.Dataquery:
    q = (
        prometheus.Dataquery()
        .expr(both_namings(expr))
        .datasource(PROMETHEUS)
        .legend_format(legend or "__auto")
    )
    q = q.instant() if instant else q.range()
    if as_table:
        q = q.format(PromQueryFormat.TABLE)
    if exemplar:
        q = q.exemplar(True)
    return q


_TOKEN_HISTOGRAMS = (OP_INPUT_TOKENS, OP_OUTPUT_TOKENS, EMBEDDINGS_INPUT_TOKENS)


def quantile(
    q: float, metric: str, by: str = "", selector: str = SEL, window: str = "$__rate_interval"
) -> str:
    """A percentile of a histogram; of a token histogram, over successful calls only."""
    labels = f"le, {by}" if by else "le"
    if metric in _TOKEN_HISTOGRAMS:
        selector = f"{selector}, {OK}"
    return f"histogram_quantile({q}, sum by ({labels}) (rate({metric}_bucket{{{selector}}}[{window}])))"


def tokens_in_out(fn: str, window: str, by: str = "") -> str:
    """Input + output tokens. Two selectors, not a ``__name__`` regex: rate() drops the name and
    the two counters share label sets, which Prometheus rejects. ``or`` keeps label sets that
    only one counter has (failed calls report input only)."""
    group = f"sum by ({by})" if by else "sum"
    a = f"{group} ({fn}({USAGE_INPUT}{{{SEL}}}[{window}]))"
    b = f"{group} ({fn}({USAGE_OUTPUT}{{{SEL}}}[{window}]))"
    return f"({a} + {b} or {a} or {b})"


def ts(
    title: str, unit: str, *queries: prometheus.Dataquery, description: str = ""
) -> timeseries.Panel:
    p = timeseries.Panel().title(title).datasource(PROMETHEUS).unit(unit).height(8).span(12)
    if description:
        p = p.description(description)
    for ref, q in zip("ABCDEFGH", queries, strict=False):
        p = p.with_target(q.ref_id(ref))
    return p


def single(
    title: str, unit: str, expr: str, *, description: str = "", width: int = 4
) -> stat.Panel:
    p = (
        stat.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(4)
        .span(width)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .with_target(prom(expr, instant=True).ref_id("A"))
    )
    if description:
        p = p.description(description)
    return p


def bars(title: str, unit: str, expr: str, legend: str, *, description: str = "") -> bargauge.Panel:
    p = (
        bargauge.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(8)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .with_target(prom(expr, legend, instant=True).ref_id("A"))
    )
    if description:
        p = p.description(description)
    return p


def prom_table(title: str, *queries: tuple[str, str], description: str = "") -> table.Panel:
    """A table joining instant queries by label (one column per query, named by the tuple)."""
    p = table.Panel().title(title).datasource(PROMETHEUS).height(8).span(24)
    if description:
        p = p.description(description)
    for ref, (expr, _name) in zip("ABCDEFGH", queries, strict=False):
        p = p.with_target(prom(expr, instant=True, as_table=True).ref_id(ref))
    p = p.with_transformation(dashboard_model.DataTransformerConfig(id_val="merge", options={}))
    renames = {
        f"Value #{ref}": name for ref, (_expr, name) in zip("ABCDEFGH", queries, strict=False)
    }
    return p.with_transformation(
        dashboard_model.DataTransformerConfig(
            id_val="organize", options={"excludeByName": {"Time": True}, "renameByName": renames}
        )
    )


def traceql_table(title: str, query: str, *, description: str = "", limit: int = 50) -> table.Panel:
    q = (
        tempo.TempoQuery()
        .ref_id("A")
        .datasource(TEMPO)
        .query_type("traceql")
        .query(query)
        .limit(limit)
        .table_type(SearchTableType.SPANS)
    )
    p = table.Panel().title(title).datasource(TEMPO).height(10).span(24).with_target(q)
    return p.description(description) if description else p


def loki_logs(title: str, expr: str, *, description: str = "") -> logs.Panel:
    q = loki.Dataquery().ref_id("A").datasource(LOKI).expr(expr)
    p = (
        logs.Panel()
        .title(title)
        .datasource(LOKI)
        .height(10)
        .span(24)
        .show_time(True)
        .enable_log_details(True)
        .sort_order(common.LogsSortOrder.DESCENDING)
        .with_target(q)
    )
    return p.description(description) if description else p


def explore_link(title: str, datasource_uid: str, query: str) -> dashboard.DashboardLink:
    """A data link opening ``query`` in Explore on ``datasource_uid`` over the panel's time range.

    The Explore state is URL-encoded JSON; Grafana's ``${...}`` variables stay raw so Grafana can
    fill them in (the clicked series' labels, the time range)."""
    kind = {"tempo": "traceql", "loki": "range"}[datasource_uid]
    pane = {
        "datasource": datasource_uid,
        "queries": [
            {
                "refId": "A",
                "datasource": {"type": datasource_uid, "uid": datasource_uid},
                "queryType": kind,
                ("query" if datasource_uid == "tempo" else "expr"): query,
            }
        ],
        "range": {"from": "${__from}", "to": "${__to}"},
    }
    state = quote(json.dumps({"a": pane}, separators=(",", ":")), safe="${}:,._")
    return (
        dashboard.DashboardLink(title)
        .type(dashboard_model.DashboardLinkType.LINK)
        .url(f"/explore?schemaVersion=1&panes={state}")
        .target_blank(True)
    )


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)

"""Stack health: is the telemetry pipeline itself healthy? Collector intake, refusals, export
failures and queues; what Loki and Tempo discard; rule evaluation and alert delivery;
Prometheus storage against its cap. The same signals the stack.rules.yml alerts read.

Its data comes from the stack's own components (scraped by Prometheus in compose.yaml), none of
which run in this repository's tests: tests check that every query parses (promtool), not that
it returns data.
"""

# PromQL strings read best unbroken.
# ruff: noqa: E501

from __future__ import annotations

from _common import UID_STACK, bars, new_dashboard, prom, row, single, ts
from grafana_foundation_sdk.models.dashboard import Dashboard


def _signal(kind: str) -> str:
    return " or ".join(
        f'label_replace(sum by (receiver) (rate(otelcol_receiver_{kind}_{signal}_total[$__rate_interval])), "signal", "{signal}", "", "")'
        for signal in ("spans", "metric_points", "log_records")
    )


def build() -> Dashboard:
    return (
        new_dashboard(
            UID_STACK,
            "GenAI / Stack health",
            "The telemetry pipeline itself: collector, Loki, Tempo, Prometheus rules and storage, alert delivery.",
        )
        .with_row(row("Up"))
        .with_panel(
            bars(
                "Components up (1 = scraped)",
                "short",
                'max by (job) (up{job=~"otel-collector|tempo|loki|prometheus|alertmanager|grafana"})',
                "{{job}}",
            ).span(24)
        )
        .with_row(row("Collector"))
        .with_panel(
            ts(
                "Accepted items/s by signal",
                "short",
                prom(_signal("accepted"), "{{signal}} ({{receiver}})"),
            )
        )
        .with_panel(
            ts(
                "Refused items/s by signal",
                "short",
                prom(_signal("refused"), "{{signal}} ({{receiver}})"),
                description="Refusals are memory_limiter shedding load (GenAICollectorRefusingData).",
            )
        )
        .with_panel(
            ts(
                "Export failures/s by exporter",
                "short",
                prom(
                    "sum by (exporter) (rate(otelcol_exporter_send_failed_spans_total[$__rate_interval]))",
                    "{{exporter}} spans",
                ),
                prom(
                    "sum by (exporter) (rate(otelcol_exporter_send_failed_metric_points_total[$__rate_interval]))",
                    "{{exporter}} metric points",
                ),
                prom(
                    "sum by (exporter) (rate(otelcol_exporter_send_failed_log_records_total[$__rate_interval]))",
                    "{{exporter}} log records",
                ),
            )
        )
        .with_panel(
            ts(
                "Sending queue fill",
                "percentunit",
                prom(
                    "max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                    "{{exporter}}",
                ),
                description="A queue near 100% drops new data (enqueue failures).",
            )
        )
        .with_panel(
            ts(
                "Spans applications could not export/s by reason",
                "short",
                prom(
                    "sum by (service_name, error_type) (rate(genai_trace_export_spans_dropped_total[$__rate_interval]))",
                    "{{service_name}}: {{error_type}}",
                ),
                description="genai-trace's own count of spans its exporter gave up on (queue_full, a backend down or refusing, already_shutdown); reaches Prometheus only when the app's metric export works.",
            )
        )
        .with_row(row("Backends"))
        .with_panel(
            ts(
                "Loki: discarded log records/s by reason",
                "short",
                prom(
                    "sum by (reason) (rate(loki_discarded_samples_total[$__rate_interval]))",
                    "{{reason}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Tempo: discarded spans/s by reason",
                "short",
                prom(
                    "sum by (reason) (rate(tempo_discarded_spans_total[$__rate_interval]))",
                    "{{reason}}",
                ),
            )
        )
        .with_row(row("Alerting and storage"))
        .with_panel(
            ts(
                "Rule evaluation failures/s by group",
                "short",
                prom(
                    "sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total[$__rate_interval]))",
                    "{{rule_group}}",
                ),
            )
        )
        .with_panel(
            ts(
                "Notifications failed or dropped/s",
                "short",
                prom(
                    "sum by (integration) (rate(alertmanager_notifications_failed_total[$__rate_interval]))",
                    "Alertmanager -> {{integration}}",
                ),
                prom(
                    "sum(rate(prometheus_notifications_dropped_total[$__rate_interval]))",
                    "Prometheus -> Alertmanager",
                ),
            )
        )
        .with_panel(
            single(
                "Prometheus storage used of its size cap",
                "percentunit",
                "max((prometheus_tsdb_storage_blocks_bytes + prometheus_tsdb_wal_storage_size_bytes) / (prometheus_tsdb_retention_limit_bytes > 0))",
                width=12,
            )
        )
        .with_panel(
            single(
                "Oldest data Prometheus still holds",
                "s",
                "max(time() - prometheus_tsdb_lowest_timestamp_seconds)",
                description="Below 31 days, the month-to-date cost panels miss days (retention is 35 days).",
                width=12,
            )
        )
        .build()
    )

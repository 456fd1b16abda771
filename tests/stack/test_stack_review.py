"""The smaller findings of the stack review (issue 17), each checked where it lives: Tempo's
streaming over HTTP with the datasource's streaming, service-graph peers for LLM providers, the
tail-sampling buffer against the collector's memory, one quantity per panel axis, and the average
cost per model call computed by promtool on series of both metric namings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_dashboard_queries import dashboard_files, load, panels, runnable_promql
from stack_support import STACK, load_yaml, promql_value_is

SPAN_BYTES = 8 * 1024  # a genai-trace span, content opted in (1-2 KB without, ~64 KB at the cap)
SPANS_PER_TRACE = 5


def test_tempo_streams_over_http_and_grafana_asks_for_streams() -> None:
    assert load_yaml(STACK / "tempo" / "tempo.yaml")["stream_over_http_enabled"] is True
    sources = load_yaml(STACK / "grafana" / "provisioning" / "datasources" / "datasources.yaml")
    [tempo] = [d for d in sources["datasources"] if d["uid"] == "tempo"]
    assert tempo["jsonData"]["streamingEnabled"] == {"search": True, "metrics": True}


def test_the_service_graph_names_llm_providers_as_peers() -> None:
    graphs = load_yaml(STACK / "tempo" / "tempo.yaml")["metrics_generator"]["processor"]
    peers = graphs["service_graphs"]["peer_attributes"]
    assert peers[:2] == ["gen_ai.provider.name", "server.address"]


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)(ms|s|m)", duration).groups()  # type: ignore[union-attr]
    return int(value) * {"ms": 0.001, "s": 1, "m": 60}[unit]


def _bytes(quantity: str) -> int:
    value, unit = re.fullmatch(r"(\d+)(M|Mi|G|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(value) * {"M": 1024**2, "Mi": 1024**2, "G": 1024**3, "Gi": 1024**3}[unit]


def sampling_fits(processors: dict[str, Any], memory: str) -> list[str]:
    """The tail-sampling buffer against memory_limiter's soft limit (limit - spike)."""
    sampling, limiter = processors["tail_sampling"], processors["memory_limiter"]
    soft = _bytes(memory) * (limiter["limit_percentage"] - limiter["spike_limit_percentage"]) / 100
    held = sampling["num_traces"] * SPANS_PER_TRACE * SPAN_BYTES
    in_flight = sampling["expected_new_traces_per_sec"] * _seconds(sampling["decision_wait"])
    problems = []
    cache = sampling.get("decision_cache") or {}
    if not (cache.get("sampled_cache_size", 0) > 0 and cache.get("non_sampled_cache_size", 0) > 0):
        problems.append("no decision cache: late spans of a decided trace start a partial one")
    if held > soft:
        problems.append(f"{sampling['num_traces']} traces need {held / 2**20:.0f} MiB > soft limit")
    if sampling["num_traces"] < in_flight:
        problems.append(f"{sampling['num_traces']} traces < {in_flight:.0f} in flight")
    return problems


def test_the_tail_sampling_buffer_fits_the_collectors_memory() -> None:
    single = {
        **load_yaml(STACK / "otelcol" / "config.yaml")["processors"],
        **load_yaml(STACK / "otelcol" / "tail-sampling-on.yaml")["processors"],
    }
    compose = load_yaml(STACK / "compose.yaml")["services"]["otel-collector"]
    assert sampling_fits(single, compose["deploy"]["resources"]["limits"]["memory"]) == []
    docs = list(yaml.safe_load_all((STACK / "k8s" / "collector-gateway.yaml").read_text()))
    [configmap] = [d for d in docs if d and d["kind"] == "ConfigMap"]
    [statefulset] = [d for d in docs if d and d["kind"] == "StatefulSet"]
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    gateway = yaml.safe_load(configmap["data"]["config.yaml"])["processors"]
    assert sampling_fits(gateway, container["resources"]["limits"]["memory"]) == []
    # The setting the review found: 50,000 traces in a 512M collector.
    assert sampling_fits(
        {**single, "tail_sampling": {**single["tail_sampling"], "num_traces": 50_000}}, "512M"
    )


def test_no_time_series_panel_puts_latency_and_rates_on_one_axis() -> None:
    """A panel has one unit; a quantile (seconds) next to a rate (per second) would share it."""
    for path in dashboard_files():
        for panel in panels(load(path)):
            exprs = [t.get("expr", "") for t in panel.get("targets", []) if t.get("expr")]
            if panel["type"] != "timeseries" or len(exprs) < 2:
                continue
            kinds = {"histogram_quantile" in e for e in exprs}
            assert len(kinds) == 1, f"{path.name}: {panel['title']} mixes quantiles and rates"


def _expr(dashboard: str, title: str) -> str:
    [panel] = [p for p in panels(load(STACK / "dashboards" / dashboard)) if p["title"] == title]
    return runnable_promql(panel["targets"][0]["expr"].replace("$__range", "1h"))


@pytest.mark.stack
@pytest.mark.parametrize(
    ("calls", "embedding_calls"),
    [
        (
            "gen_ai_client_inference_duration_seconds_count",
            "gen_ai_client_embeddings_duration_seconds_count",
        ),
        (
            "gen_ai_client_operation_duration_seconds_count",
            "gen_ai_client_operation_duration_seconds_count",
        ),
    ],
    ids=["newest-naming", "v1.41-naming"],
)
def test_average_cost_per_model_call_leaves_embeddings_out(
    calls: str, embedding_calls: str, tmp_path: Path
) -> None:
    """600 chat calls cost $6 in the hour; 3,000 embedding calls cost $60 more. The panel says
    $0.01 a model call: not $66 / 600 (the old panel), nor $66 / 3,600."""
    labels = 'service_name="rag", gen_ai_provider_name="openai", gen_ai_request_model="m"'
    panel = _expr("cost.json", "Average cost per model call")
    series = {
        f'genai_trace_client_cost_total{{{labels}, gen_ai_operation_name="chat"}}': "0+0.1x120",
        f'genai_trace_client_cost_total{{{labels}, gen_ai_operation_name="embeddings"}}': "0+1x120",
        f'{calls}{{{labels}, gen_ai_operation_name="chat"}}': "0+10x120",
        f'{embedding_calls}{{{labels}, gen_ai_operation_name="embeddings"}}': "0+50x120",
    }
    result = promql_value_is(tmp_path, series, panel, 0.01, "{}", "90m")
    assert result.returncode == 0, result.stdout + result.stderr

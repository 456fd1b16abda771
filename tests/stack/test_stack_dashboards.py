"""Dashboards as code: regenerate byte-identical, only provisioned datasources, valid PromQL."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from stack_dashboard_queries import (
    DASHBOARD_DIR,
    dashboard_files,
    load,
    panels,
    queries,
    runnable_promql,
    with_all_selected,
)
from stack_support import STACK, binary, load_yaml, promql_value_is

EXPECTED = {
    "llm-overview.json",
    "cost.json",
    "model-comparison.json",
    "rag-agents.json",
    "errors.json",
    "tenants.json",
    "stack-health.json",
}


def test_the_seven_dashboards_are_committed() -> None:
    assert {p.name for p in dashboard_files()} == EXPECTED


def test_dashboards_regenerate_byte_identical_from_code() -> None:
    pytest.importorskip(
        "grafana_foundation_sdk",
        reason="grafana-foundation-sdk==1769699241 is not installed (it needs Python >= 3.11)",
    )
    spec = importlib.util.spec_from_file_location(
        "stack_dashboards_build", DASHBOARD_DIR / "build.py"
    )
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rendered = build.render_all()
    assert set(rendered) == EXPECTED
    for name, text in rendered.items():
        assert (DASHBOARD_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run stack/dashboards/build.py"
        )


def test_every_datasource_a_dashboard_uses_is_provisioned_with_that_type() -> None:
    provisioned = {
        d["uid"]: d["type"]
        for d in load_yaml(STACK / "grafana" / "provisioning" / "datasources" / "datasources.yaml")[
            "datasources"
        ]
    }
    used = set()
    for path in dashboard_files():
        dash = load(path)
        refs = [p.get("datasource") for p in panels(dash)]
        refs += [t.get("datasource") for p in panels(dash) for t in p.get("targets", [])]
        refs += [v.get("datasource") for v in dash["templating"]["list"]]
        for ref in filter(None, refs):
            assert provisioned.get(ref["uid"]) == ref["type"], f"{path.name}: {ref}"
            used.add(ref["uid"])
    assert used == {"prometheus", "tempo", "loki"}


def test_dashboards_have_unique_uids_panel_ids_and_a_query_in_every_panel() -> None:
    uids = [load(p)["uid"] for p in dashboard_files()]
    assert len(set(uids)) == len(uids)
    for path in dashboard_files():
        dash = load(path)
        ids = [p["id"] for p in panels(dash)]
        assert len(set(ids)) == len(ids), path.name
        assert dash["schemaVersion"] >= 41, "Grafana 12+ schema"
        for panel in panels(dash):
            if panel["type"] != "row":
                assert panel.get("targets"), f"{path.name}: {panel['title']} has no query"


def test_errors_dashboard_drills_into_tempo_and_loki() -> None:
    by_type = {(q.dashboard, q.datasource["uid"]) for q in queries()}
    assert ("errors.json", "tempo") in by_type and ("errors.json", "loki") in by_type
    errors = [q for q in queries() if q.dashboard == "errors.json"]
    [traceql] = [q.expr for q in errors if q.datasource["uid"] == "tempo"]
    assert "status = error" in traceql and "span.gen_ai.operation.name" in traceql
    [logql] = [q.expr for q in errors if q.datasource["uid"] == "loki"]
    assert logql.startswith('{service_name=~"${service:regex}"}')


@pytest.mark.stack
def test_every_dashboard_promql_parses_under_promtool(tmp_path: Path) -> None:
    prom_queries = [q for q in queries() if q.datasource["uid"] == "prometheus"]
    assert len(prom_queries) > 40
    rules = [
        {"record": f"dashboard:query{i}", "expr": runnable_promql(q.expr)}
        for i, q in enumerate(prom_queries)
    ]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [binary("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _matches_empty(op: str, value: str) -> bool:
    if op == "=":
        return value == ""
    if op == "=~":
        return re.fullmatch(value, "") is not None
    return True  # != and !~ match a stream without the label


def loki_selector_errors(expr: str) -> list[str]:
    """Loki refuses a stream selector in which every matcher matches the empty string."""
    selector = re.match(r"\s*\{([^}]*)\}", expr)
    if selector is None:
        return [f"no stream selector in {expr}"]
    matchers = re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', selector.group(1))
    if not matchers or all(_matches_empty(op, value) for _, op, value in matchers):
        return [f"every matcher matches the empty string: {selector.group(0)}"]
    return []


def test_every_loki_query_has_a_non_empty_matcher_with_all_selected() -> None:
    loki_queries = [q for q in queries() if q.datasource["uid"] == "loki"]
    assert loki_queries
    for q in loki_queries:
        assert loki_selector_errors(with_all_selected(q.expr)) == [], (q.dashboard, q.panel)
    # The check catches the selector the Errors dashboard once shipped.
    assert loki_selector_errors('{service_name=~".*"} | error_type != ""') != []


def _explore_state(url: str) -> dict[str, Any]:
    assert url.startswith("/explore?schemaVersion=1&panes="), url
    state: dict[str, Any] = json.loads(unquote(url.split("panes=", 1)[1]))
    return state


def test_tenant_and_user_panels_link_to_their_traces_and_log_events() -> None:
    dash = load(DASHBOARD_DIR / "tenants.json")
    assert {v["name"] for v in dash["templating"]["list"]} >= {"tenant", "user"}
    linked = 0
    for panel in panels(dash):
        links = (panel.get("fieldConfig") or {}).get("defaults", {}).get("links") or []
        if panel["type"] == "row":
            continue
        assert len(links) == 2, panel["title"]
        kinds = set()
        for link in links:
            [pane] = _explore_state(link["url"]).values()
            [query] = pane["queries"]
            kinds.add(query["datasource"]["uid"])
            text = query.get("query") or query.get("expr")
            assert "${__" in text, text  # filled in by Grafana from the clicked series or row
            if query["datasource"]["uid"] == "loki":
                assert loki_selector_errors(text) == []
        assert kinds == {"tempo", "loki"}
        linked += 1
    assert linked >= 6


# A failed model call records 0 input tokens, with error.type, on these per-call histograms.
TOKEN_HISTOGRAMS = (
    "gen_ai_client_inference_operation_input_tokens",
    "gen_ai_client_inference_operation_output_tokens",
    "gen_ai_client_embeddings_operation_input_tokens",
)


def test_every_panel_over_a_token_histogram_leaves_failed_calls_out() -> None:
    """Percentiles and per-call averages of the token histograms are of successful calls: every
    selector of one carries ``error_type=""``, or failed calls' zeros would drag them down."""
    selectors = [
        (q.dashboard, q.panel, sel)
        for q in queries()
        if q.datasource["uid"] == "prometheus"
        for sel in re.findall(r"\{[^{}]*\}", q.expr)
        if any(h in sel for h in TOKEN_HISTOGRAMS)
    ]
    assert len(selectors) >= 4  # _sum and _count of the two "tokens per call" panels
    for where in selectors:
        assert 'error_type=""' in where[2], where


def _panel_expr(dashboard: str, title: str, metric: str) -> str:
    [panel] = [p for p in panels(load(DASHBOARD_DIR / dashboard)) if p["title"] == title]
    [expr] = [t["expr"] for t in panel["targets"] if metric in t.get("expr", "")]
    for macro in ("$__range", "$__rate_interval"):
        expr = expr.replace(macro, "10m")
    return runnable_promql(expr)


@pytest.mark.stack
@pytest.mark.parametrize(
    ("dashboard", "title", "metric", "operation"),
    [
        (
            "rag-agents.json",
            "Embedding input tokens per call",
            "gen_ai_client_embeddings_operation_input_tokens",
            "embeddings",
        ),
        (
            "model-comparison.json",
            "Models",
            "gen_ai_client_inference_operation_output_tokens",
            "chat",
        ),
    ],
)
def test_tokens_per_call_panels_are_not_dragged_down_by_failed_calls(
    dashboard: str, title: str, metric: str, operation: str, tmp_path: Path
) -> None:
    """10 successful calls a minute of 100 tokens each, and 10 failed ones recording 0: the
    panel says 100 tokens a call, not 50."""
    panel = _panel_expr(dashboard, title, metric)
    labels = (
        'service_name="rag", gen_ai_provider_name="openai", gen_ai_request_model="m", '
        f'gen_ai_operation_name="{operation}"'
    )
    failed = f'{labels}, error_type="openai.InternalServerError"'
    series = {
        f"{metric}_sum{{{labels}}}": "0+1000x120",
        f"{metric}_count{{{labels}}}": "0+10x120",
        f"{metric}_sum{{{failed}}}": "0+0x120",
        f"{metric}_count{{{failed}}}": "0+10x120",
    }
    result = promql_value_is(tmp_path, series, panel, 100, '{gen_ai_request_model="m"}', "60m")
    assert result.returncode == 0, result.stdout + result.stderr

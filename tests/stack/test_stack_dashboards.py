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
from stack_support import STACK, binary, load_yaml

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
        "grafana_foundation_sdk", reason="pip install grafana-foundation-sdk==1769699241"
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

"""Reading the generated dashboards: every query with its datasource, and PromQL made runnable
outside Grafana (dashboard variables and Grafana's $__ macros replaced)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack_support import STACK

DASHBOARD_DIR = STACK / "dashboards"
# What Grafana would substitute for a run over the last few minutes with "All" selected.
MACROS = {
    "$__rate_interval": "30s",
    "$__interval": "5s",
    "$__range": "10m",
}


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    panel_type: str
    datasource: dict[str, str]
    target: dict[str, Any]

    @property
    def expr(self) -> str:
        return str(self.target.get("expr") or self.target.get("query") or "")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARD_DIR.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    dash: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return dash


def panels(dash: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dash.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries() -> Iterator[Query]:
    for path in dashboard_files():
        dash = load(path)
        for panel in panels(dash):
            for target in panel.get("targets", []):
                source: dict[str, str] = target.get("datasource") or panel["datasource"]
                yield Query(path.name, panel["title"], panel["type"], source, target)


def all_values() -> dict[str, str]:
    """Each dashboard variable's value under "All" (its allValue), as the dashboards define it."""
    out: dict[str, str] = {}
    for path in dashboard_files():
        for variable in load(path).get("templating", {}).get("list", []):
            value = variable.get("allValue", ".*")
            assert out.setdefault(variable["name"], value) == value, variable["name"]
    return out


def with_all_selected(expr: str) -> str:
    """``expr`` with every multi-value variable set to "All" (its allValue)."""
    values = all_values()
    return re.sub(
        r"\$\{?(\w+)(:regex)?\}?",
        lambda m: values[m.group(1)] if m.group(1) in values else m.group(0),
        expr,
    )


def runnable_promql(expr: str) -> str:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    expr = with_all_selected(expr)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr

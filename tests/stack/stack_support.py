"""Shared helpers for the stack/ tests: paths, YAML loading, binaries, free ports.

Tests marked ``stack`` need Debian's ``prometheus`` package (prometheus, promtool) and
``prometheus-alertmanager`` (amtool); they skip, saying which binary is missing, only when it is
absent. CI installs both (see stack/README.md, "Tests").
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "stack"
RULES = STACK / "prometheus" / "rules"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def binary(name: str) -> str:
    """Path of ``name`` on PATH, or skip the test with a reason naming the package to install."""
    found = shutil.which(name)
    if found is None:
        package = "prometheus-alertmanager" if name == "amtool" else "prometheus"
        pytest.skip(f"{name} not on PATH: apt-get install -y --no-install-recommends {package}")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in sorted(RULES.glob("*.rules.yml")):
        for group in load_yaml(path)["groups"]:
            rules.extend(r for r in group["rules"] if "alert" in r)
    return rules


def prometheus3_only_stripped(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Prometheus 3 config that Prometheus/promtool 2.42 accept: the `otlp:` block
    and 3.x-only global keys removed. Everything else (scrapes, rules, alerting) is kept."""
    out = {k: v for k, v in config.items() if k != "otlp"}
    glob = dict(out.get("global") or {})
    for key in (
        "scrape_native_histograms",
        "metric_name_validation_scheme",
        "metric_name_escaping_scheme",
    ):
        glob.pop(key, None)
    out["global"] = glob
    return out

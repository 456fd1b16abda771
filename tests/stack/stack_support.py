"""Shared helpers for the stack/ tests: paths, YAML loading, binaries, free ports.

Tests marked ``stack`` need Debian's ``prometheus`` package (prometheus, promtool) and
``prometheus-alertmanager`` (amtool); they skip, saying which binary is missing, only when it is
absent. CI installs both (see stack/README.md, "Tests").
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
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
        package = (
            "prometheus-alertmanager"
            if "alertmanager" in name or name == "amtool"
            else "prometheus"
        )
        pytest.skip(f"{name} not on PATH: apt-get install -y --no-install-recommends {package}")
    return found


def promql_value_is(
    tmp_path: Path, series: dict[str, str], expr: str, value: float, labels: str, eval_time: str
) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` over ``series`` (samples 1m apart): it passes when, at
    ``eval_time``, ``expr`` has one series, ``labels``, whose value is ``value`` within float
    rounding (0.1%)."""
    low, high = value * 0.999, value * 1.001
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "promql_expr_test": [
                    {
                        "expr": f"(({expr}) > bool {low}) * (({expr}) < bool {high})",
                        "eval_time": eval_time,
                        "exp_samples": [{"labels": labels, "value": 1}],
                    }
                ],
            }
        ],
    }
    (tmp_path / "expr.test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    return subprocess.run(
        [binary("promtool"), "test", "rules", "expr.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


_LOW_PORTS = range(20000, 32000)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range when it can: ``bind(0)`` hands out
    an ephemeral port, which an outgoing connection (Prometheus scraping, the load job's
    clients) can take before the server meant for it binds it ("Address already in use")."""
    if _ephemeral_start() > _LOW_PORTS.stop:
        for port in random.sample(_LOW_PORTS, 64):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
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


DEPRECATED_COMPONENTS = {
    "otlphttp",
    "spanmetrics",
    "servicegraph",
    "resourcedetection",
    "hostmetrics",
}


def pipeline_errors(config: dict[str, Any]) -> list[str]:
    """Every problem a collector would refuse at startup, or that would silently drop data."""
    errors = []
    connectors = set(config.get("connectors") or {})
    pipelines = config["service"]["pipelines"]
    used_as_exporter: set[str] = set()
    used_as_receiver: set[str] = set()
    for name, pipe in pipelines.items():
        for kind, section in (
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ):
            for comp in pipe.get(kind) or []:
                defined = set(config.get(section) or {})
                if kind != "processors":
                    defined |= connectors
                if comp not in defined:
                    errors.append(f"{name}: {kind[:-1]} {comp!r} is not defined")
        used_as_receiver |= set(pipe.get("receivers") or []) & connectors
        used_as_exporter |= set(pipe.get("exporters") or []) & connectors
        processors = pipe.get("processors") or []
        if not processors or processors[0] != "memory_limiter":
            errors.append(f"{name}: memory_limiter must be the first processor")
        if processors and processors[-1] != "batch":
            errors.append(f"{name}: batch must be the last processor")
    for conn in connectors:
        if conn not in used_as_exporter or conn not in used_as_receiver:
            errors.append(
                f"connector {conn!r} must be an exporter in one pipeline and a receiver in another"
            )
    for section in ("receivers", "processors", "exporters", "connectors", "extensions"):
        for comp in config.get(section) or {}:
            if comp.split("/")[0] in DEPRECATED_COMPONENTS or (
                section == "exporters" and comp.split("/")[0] == "otlp"
            ):
                errors.append(f"{section}: {comp!r} uses a pre-v0.144 component name")
    return errors

"""Prometheus alert rules: promtool check + unit tests, coverage of every alert, runbooks, and
the Prometheus/Alertmanager configs as the 2.42 tools can check them."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_support import RULES, STACK, alert_rules, binary, load_yaml, prometheus3_only_stripped

RULE_FILES = sorted(RULES.glob("*.rules.yml"))
UNIT_TESTS = RULES / "genai.rules.test.yml"
REQUIRED_ALERTS = {
    "GenAIHighErrorRatio",
    "GenAIHighLatencyP95",
    "GenAISlowTimeToFirstChunkP95",
    "GenAITokenBurnAboveYesterday",
    "GenAICostBudgetHourlyExceeded",
    "GenAICostBudgetDailyExceeded",
    "GenAIPipelineNoData",
    "GenAICollectorDown",
    "GenAICollectorRefusingData",
    "GenAICollectorExportFailing",
    "GenAIRateLimited",
    "GenAIStackComponentDown",
    "GenAILokiDiscardingLogs",
    "GenAITempoDiscardingSpans",
    "GenAIRuleEvaluationFailing",
    "GenAIAlertDeliveryFailing",
    "GenAIStackDiskFilling",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=120)


def test_the_rule_files_define_exactly_the_alerts_the_issue_asks_for() -> None:
    assert {r["alert"] for r in alert_rules()} == REQUIRED_ALERTS


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_keeps_it_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in load_yaml(UNIT_TESTS)["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == REQUIRED_ALERTS
    assert quiet == REQUIRED_ALERTS
    assert set(load_yaml(UNIT_TESTS)["rule_files"]) == {p.name for p in RULE_FILES}


def test_every_alert_has_severity_summary_and_a_runbook_section_in_the_readme() -> None:
    readme = (STACK / "README.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", m.group(1).strip().lower()).replace(" ", "-")
        for m in re.finditer(r"^#+ (.+)$", readme, flags=re.M)
    }
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url.endswith(f"stack/README.md#{rule['alert'].lower()}"), url
        assert rule["alert"].lower() in anchors, f"README has no '### {rule['alert']}' section"


@pytest.mark.stack
def test_promtool_accepts_every_rule_file() -> None:
    result = _run(binary("promtool"), "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.stack
def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules.yml"
    broken.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "sum(rate(x[5m])"}]}]}
        )
    )
    result = _run(binary("promtool"), "check", "rules", str(broken))
    assert result.returncode != 0 and "parse" in (result.stdout + result.stderr)


@pytest.mark.stack
def test_alert_unit_tests_pass_under_promtool() -> None:
    result = _run(binary("promtool"), "test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.stack
def test_prometheus_config_passes_promtool_once_prometheus_3_keys_are_stripped(
    tmp_path: Path,
) -> None:
    # promtool 2.42 rejects `otlp:` (Prometheus 3 only); check everything else on a copy whose
    # rule_files point at this checkout instead of the container path.
    config = prometheus3_only_stripped(load_yaml(STACK / "prometheus" / "prometheus.yml"))
    config["rule_files"] = [str(RULES / "*.rules.yml")]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    result = _run(binary("promtool"), "check", "config", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout + result.stderr


def debian_alertmanager_config(config: dict[str, Any], secrets: Path) -> dict[str, Any]:
    """The shipped Alertmanager config as Debian's 0.25 reads it: secret paths moved to
    ``secrets``, and webhook ``url_file`` (0.26+) inlined as ``url`` from that file."""
    out = copy.deepcopy(config)
    for receiver in out["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = (secrets / Path(hook.pop("url_file")).name).read_text().strip()
        for slack in receiver.get("slack_configs", []):
            slack["api_url_file"] = str(secrets / Path(slack["api_url_file"]).name)
    return out


@pytest.mark.stack
def test_alertmanager_config_passes_amtool(tmp_path: Path) -> None:
    """amtool 0.25 (Debian) on the shipped route tree; url_file is 0.26+, so inlined here."""
    for name in ("oncall_webhook_url", "slack_webhook_url"):
        (tmp_path / name).write_text("http://127.0.0.1:9/hook\n")
    config = debian_alertmanager_config(
        load_yaml(STACK / "alertmanager" / "alertmanager.yml"), tmp_path
    )
    (tmp_path / "am.yml").write_text(yaml.safe_dump(config))
    result = _run(binary("amtool"), "check-config", str(tmp_path / "am.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_targets_are_mounted_secret_files_not_placeholders() -> None:
    text = (STACK / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8")
    assert ".invalid" not in text and "example." not in text
    config = load_yaml(STACK / "alertmanager" / "alertmanager.yml")
    files = [
        c.get("url_file") or c.get("api_url_file")
        for r in config["receivers"]
        for c in r.get("webhook_configs", []) + r.get("slack_configs", [])
    ]
    assert files and all(f.startswith("/etc/alertmanager/secrets/") for f in files), files
    mounts = load_yaml(STACK / "compose.yaml")["services"]["alertmanager"]["volumes"]
    assert "./alertmanager/secrets:/etc/alertmanager/secrets:ro" in mounts
    readme = (STACK / "alertmanager" / "secrets" / "README.md").read_text(encoding="utf-8")
    assert all(Path(f).name in readme for f in files)


def test_alertmanager_routes_reach_defined_receivers() -> None:
    config = load_yaml(STACK / "alertmanager" / "alertmanager.yml")
    names = {r["name"] for r in config["receivers"]}
    routes = [config["route"], *config["route"]["routes"]]
    assert {r["receiver"] for r in routes} <= names
    severities = {r["labels"]["severity"] for r in alert_rules()}
    routed = {
        m.split("=")[1].strip('"')
        for r in config["route"]["routes"]
        for m in r["matchers"]
        if m.startswith("severity")
    }
    assert severities <= routed

"""compose.yaml's images and health checks: the documented table of image bases, and no probe
that needs a binary its image lacks (the defect that kept Tempo and Loki from ever being
healthy: wget in distroless images)."""

from __future__ import annotations

import re
from typing import Any

from stack_support import REPO, STACK, load_yaml

COMPOSE = load_yaml(STACK / "compose.yaml")
SERVICES: dict[str, Any] = COMPOSE["services"]
OTELCOL_DIR = STACK / "otelcol"


def _env_file() -> dict[str, str]:
    env = {}
    for line in (STACK / ".env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


SHELL_PROBES = {"sh", "bash", "wget", "curl", "CMD-SHELL"}
NO_SHELL_BASES = ("scratch", "distroless")


def image_bases() -> dict[str, tuple[str, str, set[str]]]:
    """compose.yaml's documented table: service -> (image variable, base, probe tools)."""
    rows = {}
    for line in (STACK / "compose.yaml").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"# \| ([\w-]+) +\| (\w+_IMAGE) +\| (.+?) +\| (.+?) +\|", line)
        if m:
            tools = {t.strip() for t in m.group(4).split(",")} - {"none"}
            rows[m.group(1)] = (m.group(2), m.group(3), tools)
    return rows


def probe_errors(
    services: dict[str, Any], bases: dict[str, tuple[str, str, set[str]]]
) -> list[str]:
    """Health checks that cannot run in their image, and waits on checks that do not exist."""
    errors = []
    for name, service in services.items():
        variable, base, tools = bases[name]
        if service["image"] != f"${{{variable}}}":
            errors.append(f"{name}: table says {variable}, compose uses {service['image']}")
        test = (service.get("healthcheck") or {}).get("test") or []
        if test:
            program = test[1] if test[0] in ("CMD", "CMD-SHELL") else test[0]
            needs = {program, "sh"} if test[0] == "CMD-SHELL" else {program}
            if base.startswith(NO_SHELL_BASES) and needs & SHELL_PROBES:
                errors.append(f"{name}: {sorted(needs)} probe in a {base} image")
            elif not needs <= tools:
                errors.append(f"{name}: probe needs {sorted(needs - tools)}, image has {tools}")
        for dep, cond in (service.get("depends_on") or {}).items():
            if cond["condition"] == "service_healthy" and not services[dep].get("healthcheck"):
                errors.append(f"{name}: waits for {dep} to be healthy, which has no health check")
    return errors


def test_the_image_base_table_covers_every_service_and_each_base_matches_its_image() -> None:
    bases = image_bases()
    assert set(bases) == set(SERVICES)
    env = _env_file()
    expected_family = {
        "OTELCOL_IMAGE": ("otel/opentelemetry-collector-contrib", "scratch"),
        "TEMPO_IMAGE": ("grafana/tempo", "distroless"),
        "LOKI_IMAGE": ("grafana/loki", "distroless"),
        "PROMETHEUS_IMAGE": ("prom/prometheus", "busybox"),
        "ALERTMANAGER_IMAGE": ("prom/alertmanager", "busybox"),
        "GRAFANA_IMAGE": ("grafana/grafana", "alpine"),
    }
    for variable, base, _ in bases.values():
        repo, family = expected_family[variable]
        assert env[variable].startswith(repo + ":"), (variable, env[variable])
        assert base.startswith(family), (variable, base)


def test_no_health_check_calls_a_binary_its_image_lacks() -> None:
    assert probe_errors(SERVICES, image_bases()) == []


def test_the_probe_check_catches_wget_in_a_distroless_image_and_a_wait_on_no_check() -> None:
    """The defect the stack once shipped: Tempo and Loki probed with wget, never healthy."""
    broken = {name: dict(service) for name, service in SERVICES.items()}
    broken["tempo"]["healthcheck"] = {"test": ["CMD", "wget", "-q", "http://localhost:3200/ready"]}
    broken["loki"]["healthcheck"] = {"test": ["CMD-SHELL", "true"]}
    broken["grafana"]["depends_on"] = {"otel-collector": {"condition": "service_healthy"}}
    errors = probe_errors(broken, image_bases())
    assert errors == [
        "tempo: ['wget'] probe in a distroless (gcr.io/distroless) image",
        "loki: ['sh', 'true'] probe in a distroless (gcr.io/distroless) image",
        "grafana: waits for otel-collector to be healthy, which has no health check",
    ]


def test_services_have_memory_limits_and_named_volumes() -> None:
    declared_volumes = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (STACK / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared_volumes, f"{name}: volume {source} not declared"
    assert "health_check" in load_yaml(OTELCOL_DIR / "config.yaml")["service"]["extensions"]
    # Every image that has a probe tool is health-checked.
    for name, (_, _, tools) in image_bases().items():
        assert bool(tools) == ("healthcheck" in SERVICES[name]), name


def test_the_env_file_names_no_missing_document() -> None:
    text = (STACK / ".env").read_text(encoding="utf-8")
    for ref in re.findall(r"[\w./-]+\.md", text):
        assert (REPO / ref).exists() or (STACK / ref).exists(), ref

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


# Compose's interpolation (compose-spec "Interpolation"): `$$` escapes, `${VAR}`,
# `${VAR:-default}` and `${VAR-default}`, `${VAR:?error}` and `${VAR?error}` (compose refuses to
# start), `${VAR:+alt}`.
# No `docker compose` here (no Docker engine); this is that grammar, applied the way compose does:
# to every string value of the parsed file, with the shell's variables over `.env`'s.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


class ComposeRefusesToStart(Exception):
    """A `${VAR:?message}` whose variable is unset (or empty, with the colon)."""


def interpolate(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: interpolate(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, variables) for value in node]
    if not isinstance(node, str):
        return node

    def substitute(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name, op, arg = m["name"] or m["bare"], m["op"] or "", m["arg"] or ""
        value = variables.get(name)
        missing = not value if op.startswith(":") else value is None
        if op.endswith("-"):
            return arg if missing else str(value)
        if op.endswith("?"):
            if missing:
                raise ComposeRefusesToStart(f"required variable {name} is missing a value: {arg}")
            return str(value)
        if op.endswith("+"):
            return "" if missing else arg
        return value or ""

    return _INTERPOLATION.sub(substitute, node)


def resolved(shell: dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = interpolate(COMPOSE, {**_env_file(), **shell})
    return config


def test_compose_refuses_to_start_without_a_grafana_admin_password() -> None:
    for shell in ({}, {"GRAFANA_ADMIN_PASSWORD": ""}):
        try:
            resolved(shell)
        except ComposeRefusesToStart as refused:
            assert "GRAFANA_ADMIN_PASSWORD" in str(refused)
            assert "stack/README.md" in str(refused)  # the message says where to read why
        else:
            raise AssertionError(f"compose would start with {shell}")
    assert "GRAFANA_ADMIN_PASSWORD" not in _env_file()  # no shipped password, `admin` or other
    grafana = resolved({"GRAFANA_ADMIN_PASSWORD": "s3cret-from-the-shell"})["services"]["grafana"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "s3cret-from-the-shell"


def test_grafana_is_closed_to_guests_unless_switched_on_and_then_read_only() -> None:
    env = resolved({"GRAFANA_ADMIN_PASSWORD": "x"})["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    opened = resolved({"GRAFANA_ADMIN_PASSWORD": "x", "GRAFANA_ANONYMOUS_VIEWER": "true"})
    env = opened["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_every_other_variable_resolves_from_the_env_file() -> None:
    config = resolved({"GRAFANA_ADMIN_PASSWORD": "x"})
    for name, service in config["services"].items():
        assert ":" in service["image"] and not service["image"].startswith(":"), name
    assert "${" not in str(config)


def test_the_interpolation_check_sees_a_default_and_a_required_variable() -> None:
    """The shape the stack once shipped, `${GRAFANA_ADMIN_PASSWORD:-admin}`, starts as admin."""
    shipped_before = {"password": "${GRAFANA_ADMIN_PASSWORD:-admin}", "cost": "$$5"}
    assert interpolate(shipped_before, {}) == {"password": "admin", "cost": "$5"}
    assert interpolate({"v": "${A?need A}"}, {"A": ""}) == {"v": ""}  # without colon, empty is set
    assert interpolate({"v": "${A:+on} $A"}, {"A": "1"}) == {"v": "on 1"}

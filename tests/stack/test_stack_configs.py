"""Structural checks of the stack's configuration files (no Docker here: see stack/README.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from stack_support import STACK, load_yaml, pipeline_errors

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


def _deep_merge(base: Any, overlay: Any) -> Any:
    """The collector's confmap merge: maps merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = _deep_merge(base.get(key), value) if key in base else value
        return out
    return overlay


def collector_config(profile: str) -> dict[str, Any]:
    base = load_yaml(OTELCOL_DIR / "config.yaml")
    merged: dict[str, Any] = _deep_merge(
        base, load_yaml(OTELCOL_DIR / f"tail-sampling-{profile}.yaml")
    )
    return merged


# --- compose ---------------------------------------------------------------------------------


def test_compose_file_validates_against_the_compose_spec() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(STACK / "compose.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned_in_the_env_file() -> None:
    env = _env_file()
    for name, service in SERVICES.items():
        match = re.fullmatch(r"\$\{(\w+)\}", service["image"])
        assert match, f"{name}: image must come from .env, got {service['image']!r}"
        tag = env[match.group(1)]
        repo, _, version = tag.rpartition(":")
        assert repo and version and version != "latest" and re.search(r"\d+\.\d+\.\d+", version), (
            tag
        )
    assert {k for k in env if k.endswith("_IMAGE")} == {
        "OTELCOL_IMAGE",
        "TEMPO_IMAGE",
        "LOKI_IMAGE",
        "PROMETHEUS_IMAGE",
        "ALERTMANAGER_IMAGE",
        "GRAFANA_IMAGE",
    }


def test_only_grafana_and_otlp_ports_are_published_on_the_bind_address() -> None:
    published = {}
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            published[port.rsplit(":", 1)[1]] = name
            assert port.startswith("${STACK_BIND_ADDRESS:-127.0.0.1}:"), port
    assert published == {"3000": "grafana", "4317": "otel-collector", "4318": "otel-collector"}


def test_collector_overlay_files_exist_for_both_tail_sampling_settings() -> None:
    command = SERVICES["otel-collector"]["command"]
    assert command[0] == "--config=/etc/otelcol/config.yaml"
    assert (
        command[1] == "--config=/etc/otelcol/tail-sampling-${GENAI_TRACE_TAIL_SAMPLING:-off}.yaml"
    )
    assert _env_file()["GENAI_TRACE_TAIL_SAMPLING"] == "off"
    for profile in ("on", "off"):
        assert (OTELCOL_DIR / f"tail-sampling-{profile}.yaml").is_file()


# --- collector -------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["off", "on"])
def test_collector_pipelines_reference_defined_components_in_the_right_order(profile: str) -> None:
    assert pipeline_errors(collector_config(profile)) == []


def test_pipeline_check_catches_dangling_connectors_misordered_processors_and_old_names() -> None:
    broken = {
        "receivers": {"otlp": {}},
        "processors": {"batch": {}, "memory_limiter": {}},
        "exporters": {"otlphttp/tempo": {}},
        "connectors": {"span_metrics": {}},
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch", "memory_limiter"],
                    "exporters": ["span_metrics", "otlphttp/tempo"],
                },
                "metrics": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": ["debug"],
                },
            }
        },
    }
    assert sorted(pipeline_errors(broken)) == sorted(
        [
            "traces: memory_limiter must be the first processor",
            "traces: batch must be the last processor",
            "metrics: exporter 'debug' is not defined",
            "connector 'span_metrics' must be an exporter in one pipeline "
            "and a receiver in another",
            "exporters: 'otlphttp/tempo' uses a pre-v0.144 component name",
        ]
    )


def test_tail_sampling_off_keeps_the_base_traces_processors() -> None:
    base = load_yaml(OTELCOL_DIR / "config.yaml")["service"]["pipelines"]["traces"]["processors"]
    assert collector_config("off")["service"]["pipelines"]["traces"]["processors"] == base
    assert "tail_sampling" not in collector_config("off").get("processors", {})


def test_tail_sampling_keeps_errors_slow_and_expensive_traces() -> None:
    config = collector_config("on")
    assert config["service"]["pipelines"]["traces"]["processors"] == [
        "memory_limiter",
        "transform/redact",
        "tail_sampling",
        "batch",
    ]
    policies = {p["type"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["latency"]["latency"]["threshold_ms"] > 0
    assert policies["ottl_condition"]["ottl_condition"]["span"] == [
        'attributes["genai_trace.cost.usd"] >= 0.05'
    ]
    assert 0 < policies["probabilistic"]["probabilistic"]["sampling_percentage"] < 100


def test_collector_exporters_point_at_the_compose_services_listening_ports() -> None:
    exporters = load_yaml(OTELCOL_DIR / "config.yaml")["exporters"]
    tempo = load_yaml(STACK / "tempo" / "tempo.yaml")
    loki = load_yaml(STACK / "loki" / "loki.yaml")
    tempo_http = tempo["distributor"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    expected = {
        "otlp_http/tempo": ("tempo", int(tempo_http.rsplit(":", 1)[1]), ""),
        "otlp_http/loki": ("loki", loki["server"]["http_listen_port"], "/otlp"),
        "otlp_http/prometheus": ("prometheus", 9090, "/api/v1/otlp"),
    }
    assert set(exporters) == set(expected)
    for name, (host, port, path) in expected.items():
        url = urlparse(exporters[name]["endpoint"])
        assert (url.hostname, url.port, url.path) == (host, port, path), name
        assert host in SERVICES
    assert "--web.enable-otlp-receiver" in SERVICES["prometheus"]["command"]


def test_collector_self_metrics_port_is_the_one_prometheus_scrapes() -> None:
    readers = load_yaml(OTELCOL_DIR / "config.yaml")["service"]["telemetry"]["metrics"]["readers"]
    port = readers[0]["pull"]["exporter"]["prometheus"]["port"]
    scrapes = {
        j["job_name"]: j
        for j in load_yaml(STACK / "prometheus" / "prometheus.yml")["scrape_configs"]
    }
    assert scrapes["otel-collector"]["static_configs"][0]["targets"] == [f"otel-collector:{port}"]


def _redaction_patterns() -> list[tuple[re.Pattern[str], str]]:
    group = load_yaml(OTELCOL_DIR / "config.yaml")["processors"]["transform/redact"][
        "trace_statements"
    ][0]
    out = []
    for statement in group["statements"]:
        m = re.fullmatch(r'replace_all_patterns\(attributes, "value", "(.*)", "(.*)"\)', statement)
        assert m, statement
        out.append((re.compile(m.group(1).replace("\\\\", "\\")), m.group(2)))
    return out


def _redact(text: str) -> str:
    for pattern, replacement in _redaction_patterns():
        text = pattern.sub(replacement, text)
    return text


def test_redaction_masks_emails_keys_and_card_numbers_and_keeps_ordinary_text() -> None:
    text = (
        "Mail jane.doe+llm@example.co.uk, key sk-proj-abcdefghijklmnop1234, "
        "AWS AKIAABCDEFGHIJKLMNOP, card 4111 1111 1111 1111, header Bearer eyJhbGciOiJIUzI1NiJ9abc"
    )
    assert _redact(text) == (
        "Mail <redacted:email>, key <redacted:key>, AWS <redacted:key>, card <redacted:card>, "
        "header <redacted:key>"
    )
    cards = "Amex 378282246310005, Diners 30569309025904, old Visa 4222222222222."
    assert (
        _redact(cards) == "Amex <redacted:card>, Diners <redacted:card>, old Visa <redacted:card>."
    )
    # Epoch milliseconds are 13 digits: today's start with 1, from May 2033 with 2, from 2065
    # with 3; only Visa issues 13-digit cards (starting 4), so none of these is masked.
    ordinary = (
        "Order 12345 shipped on 2026-11-22 to room 42; cost $3.50 for gpt-4o-mini; "
        "events at 1764979200000, 2208988800000 and 3155760000000 ms."
    )
    assert _redact(ordinary) == ordinary


def test_redaction_is_off_unless_switched_on_and_covers_spans_events_and_logs() -> None:
    transform = load_yaml(OTELCOL_DIR / "config.yaml")["processors"]["transform/redact"]
    groups = transform["trace_statements"] + transform["log_statements"]
    assert {g["context"] for g in groups} == {"span", "spanevent", "log"}
    for group in groups:
        assert group["conditions"] == ['"${env:GENAI_TRACE_REDACT:-off}" == "on"']
    assert _env_file()["GENAI_TRACE_REDACT"] == "off"
    assert (
        SERVICES["otel-collector"]["environment"]["GENAI_TRACE_REDACT"]
        == "${GENAI_TRACE_REDACT:-off}"
    )


# --- Tempo, Loki, Prometheus -----------------------------------------------------------------


def test_tempo_config_uses_the_tempo_3_layout_with_genai_span_metrics() -> None:
    tempo = load_yaml(STACK / "tempo" / "tempo.yaml")
    for removed in ("ingester", "ingester_client", "compactor", "metrics_generator_client"):
        assert removed not in tempo, f"{removed} was removed in Tempo 3"
    processors = tempo["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert processors == ["service-graphs", "span-metrics"]
    dims = tempo["metrics_generator"]["processor"]["span_metrics"]["dimensions"]
    assert {"gen_ai.operation.name", "gen_ai.request.model", "gen_ai.provider.name"} <= set(dims)
    [remote] = tempo["metrics_generator"]["storage"]["remote_write"]
    assert remote == {"url": "http://prometheus:9090/api/v1/write", "send_exemplars": True}
    assert "--web.enable-remote-write-receiver" in SERVICES["prometheus"]["command"]
    assert "--enable-feature=exemplar-storage" in SERVICES["prometheus"]["command"]


def test_loki_uses_tsdb_schema_v13_with_structured_metadata() -> None:
    loki = load_yaml(STACK / "loki" / "loki.yaml")
    [schema] = loki["schema_config"]["configs"]
    assert (schema["store"], schema["schema"]) == ("tsdb", "v13")
    assert loki["limits_config"]["allow_structured_metadata"] is True
    assert loki["auth_enabled"] is False
    # A GenAI event's content (65,536 characters per message list, up to 4 UTF-8 bytes each)
    # must fit; Loki's 64KB default refused it and the collector dropped the whole batch.
    size = loki["limits_config"]["max_structured_metadata_size"]
    assert size.endswith("MB") and int(size[:-2]) * 1024 * 1024 >= 65_536 * 4
    assert loki["limits_config"]["max_line_size"] == size
    # Retention lines up with Tempo's, so trace-to-logs links stay filled.
    tempo = load_yaml(STACK / "tempo" / "tempo.yaml")["overrides"]["defaults"]
    assert loki["limits_config"]["retention_period"] == tempo["compaction"]["block_retention"]


def test_prometheus_promotes_resource_attributes_and_loads_the_rule_files() -> None:
    prom = load_yaml(STACK / "prometheus" / "prometheus.yml")
    assert "service.name" in prom["otlp"]["promote_resource_attributes"]
    # Per-deploy attributes would start new series on every restart; they stay on target_info.
    assert not {"service.instance.id", "host.name", "k8s.pod.name"} & set(
        prom["otlp"]["promote_resource_attributes"]
    )
    # LangChain and LlamaIndex emit the same names from one process: the scope keeps them apart.
    assert prom["otlp"]["promote_scope_metadata"] is True
    assert prom["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]
    assert "./prometheus:/etc/prometheus:ro" in SERVICES["prometheus"]["volumes"]
    [am] = prom["alerting"]["alertmanagers"]
    assert am["static_configs"][0]["targets"] == ["alertmanager:9093"]


# --- Grafana provisioning --------------------------------------------------------------------

DATASOURCES_FILE = STACK / "grafana" / "provisioning" / "datasources" / "datasources.yaml"


def test_datasources_have_fixed_uids_and_cross_links_to_each_other() -> None:
    sources = {d["uid"]: d for d in load_yaml(DATASOURCES_FILE)["datasources"]}
    assert {uid: d["type"] for uid, d in sources.items()} == {
        "prometheus": "prometheus",
        "tempo": "tempo",
        "loki": "loki",
        "alertmanager": "alertmanager",
    }
    prom, tempo, loki = (
        sources["prometheus"]["jsonData"],
        sources["tempo"]["jsonData"],
        sources["loki"]["jsonData"],
    )
    assert prom["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert tempo["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"
    assert tempo["lokiSearch"]["datasourceUid"] == "loki"
    [derived] = loki["derivedFields"]
    assert (derived["datasourceUid"], derived["matcherType"], derived["matcherRegex"]) == (
        "tempo",
        "label",
        "trace_id",
    )
    for uid, d in sources.items():
        host = urlparse(d["url"]).hostname
        assert host in SERVICES, uid


def test_every_grafana_variable_in_provisioning_is_escaped_with_double_dollar() -> None:
    text = DATASOURCES_FILE.read_text(encoding="utf-8")
    assert re.findall(r"(?<!\$)\$(?!\$)\{?\w", text) == []
    assert "$${__trace.traceId}" in text and "$${__value.raw}" in text and "$$__tags" in text


def test_dashboard_provider_reads_the_folder_compose_mounts() -> None:
    [provider] = load_yaml(STACK / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml")[
        "providers"
    ]
    mounts = dict(v.split(":")[:2] for v in SERVICES["grafana"]["volumes"])
    assert mounts["./dashboards"] == provider["options"]["path"]
    assert provider["type"] == "file" and provider["folder"] == "GenAI"


# --- smoke script ----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "code"), [([], 0), (["--require-docker"], 1)])
def test_smoke_script_says_plainly_it_was_skipped_without_a_docker_engine(
    tmp_path: Path, args: list[str], code: int
) -> None:
    result = subprocess.run(
        [sys.executable, str(STACK / "smoke.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},  # no docker CLI on this PATH
        timeout=60,
    )
    assert result.returncode == code, result.stderr
    assert result.stdout == (
        "stack smoke test SKIPPED: no Docker engine answered (no docker CLI on PATH).\n"
    )

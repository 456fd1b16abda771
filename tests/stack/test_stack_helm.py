"""The Helm values in stack/k8s/helm/, rendered offline with the charts themselves.

Helm runs in-process: helm-python-sdk binds Helm 4's Go SDK (libhelm_c, shipped in its wheel; no
`helm` binary, no cluster, no network). The charts are vendored in tests/stack/helm-charts/
(grafana-community/helm-charts: tempo-distributed 3.3.0 for Tempo 3.0.3, loki 18.11.0 for Loki
3.7; their dependencies, all disabled by these values, are left out). Each render is checked
three ways: the chart accepts the values (its `fail` guards and, for Loki, its values.schema.json),
every value we set is a key the chart reads (a misspelt key is silently ignored by Helm), and the
rendered Tempo/Loki configuration carries the single-machine stack's settings. Every rendered
manifest then goes through the Kubernetes 1.33 schemas in strict mode.

Not rendered: grafana/mimir-distributed (stack/README.md, "Outgrowing one machine", says why).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from stack_support import STACK, load_yaml

CHARTS = Path(__file__).parent / "helm-charts"
VALUES = STACK / "k8s" / "helm"
KUBERNETES_VERSION = "1.33.0"
TEMPO = (CHARTS / "tempo-distributed-3.3.0.tgz", "tempo")
LOKI = (CHARTS / "loki-18.11.0.tgz", "loki")

# Values the chart reads although its values.yaml has no default for them (templates pass these
# subtrees through with toYaml, or read them only for a non-default backend).
FREE_FORM = {
    "tempo": {
        ("storage", "trace", "s3"),  # templates/configmap-tempo.yaml: storage.trace.s3
        ("metricsGenerator", "config", "processor"),  # Tempo's processor config, verbatim
    },
    "loki": {
        ("loki", "limits_config"),  # merged into Loki's limits_config
        ("loki", "compactor"),
        ("loki", "server"),
        ("loki", "storage", "bucketNames"),  # templates/_helpers.tpl: dig "bucketNames"
    },
}


def values(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(VALUES / f"{name}.values.yaml")
    return loaded


def render(chart: Path, release: str, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """`helm template <release> <chart> -n <release> -f values`, as parsed manifests."""
    with helm.Chart.load(str(chart)) as loaded:
        files = loaded.render(overrides, name=release, namespace=release)
    return [
        doc
        for path, text in sorted(files.items())
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def chart_defaults(chart: Path) -> dict[str, Any]:
    with helm.Chart.load(str(chart)) as loaded:
        defaults: dict[str, Any] = loaded.values
    return defaults


def unread_keys(
    ours: dict[str, Any], defaults: dict[str, Any], free: set[tuple[str, ...]]
) -> list[str]:
    """Paths we set that the chart's values.yaml does not have (and no template reads)."""
    out = []

    def walk(node: dict[str, Any], default: Any, path: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*path, key)
            if here in free:
                continue
            if not isinstance(default, dict) or key not in default:
                out.append(".".join(here))
                continue
            child = default[key]
            # An empty map or null default is a pass-through ({} resources, overrides.defaults).
            if isinstance(value, dict) and isinstance(child, dict) and child:
                walk(value, child, here)

    walk(ours, defaults, ())
    return out


def config_in(docs: list[dict[str, Any]], name: str, key: str) -> dict[str, Any]:
    [configmap] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
    config: dict[str, Any] = yaml.safe_load(configmap["data"][key])
    return config


def workloads(docs: list[dict[str, Any]]) -> dict[str, int]:
    return {
        d["metadata"]["name"]: d["spec"].get("replicas", 1)
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
    }


@pytest.fixture(scope="module")
def tempo_docs() -> list[dict[str, Any]]:
    return render(*TEMPO, values("tempo-distributed"))


@pytest.fixture(scope="module")
def loki_docs() -> list[dict[str, Any]]:
    return render(*LOKI, values("loki"))


def test_every_value_set_is_a_key_the_chart_reads() -> None:
    for (chart, release), name in ((TEMPO, "tempo-distributed"), (LOKI, "loki")):
        assert unread_keys(values(name), chart_defaults(chart), FREE_FORM[release]) == [], name
    # The key the Tempo values once used, which Helm ignored without a word: retention, trace
    # size and the generator's processors never reached Tempo.
    old = {"global_overrides": {"defaults": {}}, "distributor": {"replicas": 3, "replica": 1}}
    assert unread_keys(old, chart_defaults(TEMPO[0]), FREE_FORM["tempo"]) == [
        "global_overrides",
        "distributor.replica",
    ]


def test_the_charts_refuse_what_they_must() -> None:
    """The renders are the charts' own: Tempo 3 will not render without Kafka, and Loki's
    values.schema.json rejects a value of the wrong type."""
    without_kafka = values("tempo-distributed")
    without_kafka["ingest"]["kafka"]["address"] = ""
    with pytest.raises(helm.HelmError, match=r"ingest\.kafka\.address is required"):
        render(*TEMPO, without_kafka)
    with helm.Chart.load(str(LOKI[0])) as chart:
        chart.validate_schema(values("loki"))
        with pytest.raises(helm.HelmError):
            chart.validate_schema({**values("loki"), "write": {"replicas": "three"}})


def test_tempo_renders_with_the_stacks_settings(tempo_docs: list[dict[str, Any]]) -> None:
    config = config_in(tempo_docs, "tempo-config", "tempo.yaml")
    single = load_yaml(STACK / "tempo" / "tempo.yaml")
    assert config["stream_over_http_enabled"] is True is single["stream_over_http_enabled"]
    assert config["storage"]["trace"]["backend"] == "s3"
    assert config["storage"]["trace"]["s3"]["bucket"] == "genai-tempo-traces"
    generator = config["metrics_generator"]
    assert (
        generator["processor"]["service_graphs"]["peer_attributes"]
        == (single["metrics_generator"]["processor"]["service_graphs"]["peer_attributes"])
    )
    assert (
        generator["processor"]["span_metrics"]["dimensions"]
        == (single["metrics_generator"]["processor"]["span_metrics"]["dimensions"])
    )
    assert generator["storage"]["remote_write"][0]["send_exemplars"] is True
    retention = single["overrides"]["defaults"]["compaction"]["block_retention"]
    scheduler = config["backend_scheduler"]["provider"]["compaction"]["compaction"]
    assert (
        scheduler["block_retention"]
        == config["backend_worker"]["compaction"]["block_retention"]
        == (retention)
    )
    overrides = config["overrides"]["defaults"]
    assert overrides["compaction"]["block_retention"] == retention
    assert overrides["metrics_generator"]["processors"] == ["service-graphs", "span-metrics"]
    assert overrides["global"]["max_bytes_per_trace"] == 20_000_000
    # Tempo 3's Kafka write path: one block-builder and one live-store per partition.
    partitions = config["ingest"]["kafka"]["auto_create_topic_default_partitions"]
    replicas = workloads(tempo_docs)
    assert replicas["tempo-block-builder"] == replicas["tempo-live-store"] == partitions


def test_loki_renders_with_the_stacks_limits(loki_docs: list[dict[str, Any]]) -> None:
    config = config_in(loki_docs, "loki", "config.yaml")
    single = load_yaml(STACK / "loki" / "loki.yaml")["limits_config"]
    for key in ("retention_period", "max_structured_metadata_size", "allow_structured_metadata"):
        assert config["limits_config"][key] == single[key], key
    assert config["limits_config"]["max_structured_metadata_entries_count"] == 512
    assert {(c["store"], c["schema"]) for c in config["schema_config"]["configs"]} == {
        ("tsdb", "v13")
    }
    assert config["common"]["storage"]["s3"]["bucketnames"] == "genai-loki-chunks"
    assert config["compactor"]["retention_enabled"] is True
    assert set(workloads(loki_docs)) >= {"loki-write", "loki-read", "loki-backend"}


def test_the_collector_gateway_exports_to_services_the_charts_create(
    tempo_docs: list[dict[str, Any]], loki_docs: list[dict[str, Any]]
) -> None:
    gateway = [
        d
        for d in yaml.safe_load_all((STACK / "k8s" / "collector-gateway.yaml").read_text())
        if d and d["kind"] == "ConfigMap"
    ]
    exporters = yaml.safe_load(gateway[0]["data"]["config.yaml"])["exporters"]
    services = {
        (d["metadata"]["name"], d["metadata"]["namespace"]): {p["port"] for p in d["spec"]["ports"]}
        for d in [*tempo_docs, *loki_docs]
        if d["kind"] == "Service"
    }
    for exporter in ("otlp_http/tempo", "otlp_http/loki"):
        host = exporters[exporter]["endpoint"].split("//")[1].split("/")[0]
        name_ns, _, port = host.partition(":")
        name, namespace = name_ns.split(".")
        assert int(port or 80) in services[(name, namespace)], exporter


def test_every_rendered_manifest_passes_the_kubernetes_schemas_offline(
    tempo_docs: list[dict[str, Any]],
    loki_docs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError(f"validation tried the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    docs = [*tempo_docs, *loki_docs]
    assert len(docs) > 60
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)

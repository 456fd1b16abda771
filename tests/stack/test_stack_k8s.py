"""The scale-out layout in stack/k8s/, checked offline: every manifest against the Kubernetes
schemas (kubernetes-validate, strict: unknown fields fail), the collector configs inside them
structurally, and the Helm values for consistency with the single-machine stack.

The Helm values are rendered with the charts in test_stack_helm.py. Not run here: a cluster
(stack/README.md, "What was run here").
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from stack_support import STACK, load_yaml, pipeline_errors

K8S = STACK / "k8s"
KUBERNETES_VERSION = "1.33.0"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in documents(path):
            out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


def collector_config(name: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(manifests()[("ConfigMap", name)]["data"]["config.yaml"])
    return config


def test_every_manifest_validates_against_the_kubernetes_schemas_strictly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kubernetes-validate ships the schemas in its wheel: no network (a connect would fail)."""

    def no_network(*args: object) -> None:
        raise AssertionError(f"validation tried the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    docs = manifests()
    assert len(docs) >= 14
    for doc in docs.values():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    broken = dict(docs[("DaemonSet", "otel-agent")])
    broken["spec"] = {**broken["spec"], "replicas": 3}  # a DaemonSet has no replica count
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_collector_pipelines_in_both_tiers_are_complete() -> None:
    for name in ("otel-agent", "otel-gateway"):
        assert pipeline_errors(collector_config(name)) == [], name


def test_agent_routes_traces_by_trace_id_to_the_gateway_pods_it_may_resolve() -> None:
    agent = collector_config("otel-agent")
    lb = agent["exporters"]["loadbalancing"]
    assert lb["routing_key"] == "traceID"
    service, namespace = lb["resolver"]["k8s"]["service"].split(".")
    docs = manifests()
    headless = docs[("Service", service)]
    assert (
        headless["metadata"]["namespace"] == namespace and headless["spec"]["clusterIP"] == "None"
    )
    assert agent["service"]["pipelines"]["traces"]["exporters"] == ["loadbalancing"]
    # The resolver watches endpoints in that namespace: the agent's service account may.
    [binding] = [
        d
        for (kind, _), d in docs.items()
        if kind == "RoleBinding" and d["metadata"]["namespace"] == namespace
    ]
    assert {"kind": "ServiceAccount", "name": "otel-agent", "namespace": namespace} in binding[
        "subjects"
    ]
    rules = docs[("Role", binding["roleRef"]["name"])]["rules"]
    granted = {
        (g, r, v)
        for rule in rules
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    for verb in ("get", "list", "watch"):
        assert ("", "endpoints", verb) in granted
        assert ("discovery.k8s.io", "endpointslices", verb) in granted
    daemonset = docs[("DaemonSet", "otel-agent")]
    assert daemonset["spec"]["template"]["spec"]["serviceAccountName"] == "otel-agent"


def test_gateway_keeps_the_stacks_sampling_and_redaction_and_queues_on_disk() -> None:
    gateway = collector_config("otel-gateway")
    base = load_yaml(STACK / "otelcol" / "config.yaml")
    sampling = load_yaml(STACK / "otelcol" / "tail-sampling-on.yaml")
    assert gateway["processors"]["transform/redact"] == base["processors"]["transform/redact"]
    # Same policies, wait and decision cache; the buffer is sized to each collector's memory
    # (test_stack_review.py: 5,000 traces in the 512M compose collector, 10,000 in a 2Gi pod).
    same = {k: v for k, v in gateway["processors"]["tail_sampling"].items() if k != "num_traces"}
    assert same == {
        k: v for k, v in sampling["processors"]["tail_sampling"].items() if k != "num_traces"
    }
    storage = gateway["extensions"]["file_storage/queue"]["directory"]
    for name, exporter in gateway["exporters"].items():
        assert exporter["sending_queue"]["storage"] == "file_storage/queue", name
    statefulset = manifests()[("StatefulSet", "otel-gateway")]
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    assert mounts[storage] in claims


def test_helm_values_use_object_storage_and_the_stacks_retention_and_limits() -> None:
    tempo = load_yaml(K8S / "helm" / "tempo-distributed.values.yaml")
    loki = load_yaml(K8S / "helm" / "loki.values.yaml")
    mimir = load_yaml(K8S / "helm" / "mimir-distributed.values.yaml")
    assert tempo["storage"]["trace"]["backend"] == "s3"
    assert loki["loki"]["storage"]["type"] == "s3" and loki["minio"]["enabled"] is False
    assert mimir["mimir"]["structuredConfig"]["common"]["storage"]["backend"] == "s3"
    single_loki = load_yaml(STACK / "loki" / "loki.yaml")["limits_config"]
    limits = loki["loki"]["limits_config"]
    for key in ("retention_period", "max_structured_metadata_size", "allow_structured_metadata"):
        assert limits[key] == single_loki[key], key
    single_tempo = load_yaml(STACK / "tempo" / "tempo.yaml")["overrides"]["defaults"]
    assert (
        tempo["overrides"]["defaults"]["compaction"]["block_retention"]
        == single_tempo["compaction"]["block_retention"]
        == limits["retention_period"]
    )
    retention = mimir["mimir"]["structuredConfig"]["limits"]["compactor_blocks_retention_period"]
    assert (
        f"--storage.tsdb.retention.time={retention}"
        in load_yaml(STACK / "compose.yaml")["services"]["prometheus"]["command"]
    )

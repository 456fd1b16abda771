"""Alerts on real servers: Debian's Prometheus 2.42 and Alertmanager 0.25 on 127.0.0.1.

``examples/load.py``'s four scenarios run under both metric namings (``latest`` and
``GENAI_TRACE_METRICS_NAMING=v1.41``), each in its own process (alert_load.py) scraped by its own
Prometheus, which evaluates a copy of the shipped rules with ``for:`` shortened to 5s (nothing
else changed). Each scenario must trip exactly its intended alerts and the ordinary mixed load
none. All eight Prometheus servers send to one Alertmanager running the shipped route tree and
receivers, whose secret URLs point at a webhook receiver this test runs: every firing alert must
arrive there (delivery proven, not configured).

What differs from the shipped stack, and why: Prometheus 2.42 has no OTLP receiver, so it scrapes
the SDK's Prometheus endpoints (same metric names; README "What was run here"); the static
``service_name`` label stands in for ``promote_resource_attributes``. Alertmanager 0.25 has no
webhook ``url_file`` (0.26+), so the URL is inlined; the Slack receivers' ``api_url_file`` is kept
and the file names a local URL. The rule files of the pipeline and stack health
(stack.rules.yml) are left out: their inputs (collector, Loki, Tempo) do not run here, and
``promtool test rules`` covers them.
"""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest
import yaml
from alert_support import Hooks, alertmanager_test_config, stop, wait_ready
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from stack_dashboard_queries import queries, runnable_promql
from stack_support import RULES, binary, free_port, load_yaml

pytestmark = [
    pytest.mark.stack,
    # alert_load.py gives each integration its own registry (PrometheusMetricReader(registry=),
    # 0.66b2+); the lowest-dependency sessions pin an older exporter, the latest ones run this.
    pytest.mark.skipif(
        "registry" not in inspect.signature(PrometheusMetricReader.__init__).parameters,
        reason="this opentelemetry-exporter-prometheus has no PrometheusMetricReader(registry=)",
    ),
]

HERE = Path(__file__).resolve().parent
FOR = "5s"
# scenario: (requests per second, seconds, alerts it must trip and no other)
SCENARIOS: dict[str, tuple[float, float, frozenset[str]]] = {
    "mixed": (5, 16, frozenset()),
    "error-burst": (5, 16, frozenset({"GenAIHighErrorRatio", "GenAIRateLimited"})),
    "cost-spike": (
        4,
        16,
        frozenset({"GenAICostBudgetHourlyExceeded", "GenAICostBudgetDailyExceeded"}),
    ),
    "latency-spike": (
        2,
        4,
        frozenset({"GenAIHighLatencyP95", "GenAISlowTimeToFirstChunkP95"}),
    ),
}
NAMINGS = ("latest", "v1.41")
# Panels a v1.41 service cannot fill: the released v1.41 conventions have no metric for them.
V141_HAS_NO_METRIC = {
    "cost.json / Input tokens served from cache",
    "model-comparison.json / Reasoning share of output tokens",
}
DEADLINE_S = 150


@pytest.fixture(scope="module")
def hooks() -> Iterator[tuple[Hooks, int]]:
    store = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            store.add(self.path, json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield store, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def alertmanager(
    tmp_path_factory: pytest.TempPathFactory, hooks: tuple[Hooks, int]
) -> Iterator[int]:
    exe = binary("prometheus-alertmanager")  # Debian's name for the alertmanager binary
    work = tmp_path_factory.mktemp("alertmanager")
    (work / "am.yml").write_text(yaml.safe_dump(alertmanager_test_config(hooks[1], work)))
    port = free_port()
    log = work / "am.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                exe,
                f"--config.file={work / 'am.yml'}",
                f"--storage.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_ready(client, proc, log)
        yield port
    finally:
        client.close()
        stop(proc)


def shortened_rule_files(work: Path) -> list[str]:
    """genai.rules.yml with every ``for:`` set to 5s, and budgets.rules.yml unchanged."""
    rules = load_yaml(RULES / "genai.rules.yml")
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FOR
    (work / "genai.rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    return [str(work / "genai.rules.yml"), str(RULES / "budgets.rules.yml")]


@dataclass
class Run:
    """One scenario under one naming: its load (a child of alert_load.py) and its Prometheus."""

    scenario: str
    naming: str
    ports: tuple[int, int]
    prometheus: subprocess.Popen[bytes]
    client: httpx.Client
    work: Path
    summary: dict[str, Any] | None = None

    def firing_or_pending(self) -> dict[str, str]:
        """alertname -> "firing" if any of its instances fires, else "pending"."""
        alerts = self.client.get("/api/v1/alerts").json()["data"]["alerts"]
        states: dict[str, str] = {}
        for a in alerts:
            name = a["labels"]["alertname"]
            if states.get(name) != "firing":
                states[name] = a["state"]
        return states


def _start(scenario: str, naming: str, am_port: int, root: Path) -> Run:
    work = root / f"{scenario}-{naming}"
    work.mkdir()
    ports = (free_port(), free_port())
    config = {
        "global": {
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "evaluation_interval": "1s",
            "external_labels": {"scenario": scenario, "naming": naming},
        },
        "rule_files": shortened_rule_files(work),
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]
        },
        "scrape_configs": [
            {
                "job_name": "genai-app",
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{p}" for p in ports],
                        "labels": {"service_name": f"{scenario}-{naming}"},
                    }
                ],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (work / "prometheus.log").open("w") as out:
        prometheus = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    return Run(scenario, naming, ports, prometheus, client, work)


def _read_summaries(runs: dict[tuple[str, str], Run], stdout: TextIO) -> None:
    for line in stdout:
        if line.startswith("{"):
            summary = json.loads(line)
            runs[(summary["scenario"], summary["naming"])].summary = summary


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, alertmanager: int) -> Iterator[list[Run]]:
    root = tmp_path_factory.mktemp("alerts")
    started = [_start(s, n, alertmanager, root) for s in SCENARIOS for n in NAMINGS]
    jobs = [
        {
            "scenario": r.scenario,
            "naming": r.naming,
            "rate": SCENARIOS[r.scenario][0],
            "duration": SCENARIOS[r.scenario][1],
            "ports": r.ports,
        }
        for r in started
    ]
    with (root / "load.log").open("w") as load_log:
        load = subprocess.Popen(
            [sys.executable, str(HERE / "alert_load.py"), json.dumps(jobs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=load_log,
            text=True,
        )
    assert load.stdin is not None and load.stdout is not None
    reader = threading.Thread(
        target=_read_summaries, args=({(r.scenario, r.naming): r for r in started}, load.stdout)
    )
    reader.start()
    try:
        for run in started:
            wait_ready(run.client, run.prometheus, run.work / "prometheus.log")
        yield started
    finally:
        load.stdin.close()
        try:
            load.wait(timeout=30)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait(timeout=10)
        reader.join(timeout=5)
        load.stdout.close()
        for run in started:
            run.client.close()
            stop(run.prometheus)
        if load.returncode != 0:
            pytest.fail((root / "load.log").read_text()[-3000:])


def _settled(runs: list[Run]) -> dict[tuple[str, str], dict[str, str]]:
    """Wait until every load finished and every intended alert fires, then a little longer (two
    ``for:`` periods) so an unintended alert has time to show up too."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        done = all(r.summary is not None for r in runs)
        states = {(r.scenario, r.naming): r.firing_or_pending() for r in runs}
        fired = all(
            all(states[(r.scenario, r.naming)].get(a) == "firing" for a in SCENARIOS[r.scenario][2])
            for r in runs
        )
        if done and fired:
            break
        if time.monotonic() > deadline:
            log = (runs[0].work.parent / "load.log").read_text()[-3000:]
            pytest.fail(f"not settled in {DEADLINE_S}s: {states}\n{log}")
        time.sleep(1)
    time.sleep(11)
    return {(r.scenario, r.naming): r.firing_or_pending() for r in runs}


@pytest.fixture(scope="module")
def settled(runs: list[Run]) -> dict[tuple[str, str], dict[str, str]]:
    return _settled(runs)


def test_each_scenario_trips_exactly_its_alerts_under_both_namings(
    runs: list[Run], settled: dict[tuple[str, str], dict[str, str]]
) -> None:
    assert {r.summary["naming"] for r in runs if r.summary} == set(NAMINGS)
    got = {key: set(states) for key, states in settled.items()}
    want = {(s, n): set(SCENARIOS[s][2]) for s in SCENARIOS for n in NAMINGS}
    assert got == want
    # ... and they fire, not only pend.
    for states in settled.values():
        assert set(states.values()) <= {"firing"}, states


def test_the_load_really_injected_what_each_scenario_is_about(runs: list[Run]) -> None:
    summaries = {(r.scenario, r.naming): r.summary for r in runs}
    for naming in NAMINGS:
        burst, mixed = summaries[("error-burst", naming)], summaries[("mixed", naming)]
        assert burst is not None and mixed is not None
        assert burst["errors"] / burst["requests"] > 0.2
        # The ordinary mix fails some requests too (timeouts and final 429s) and still pages no one.
        assert 0 < mixed["errors"] / mixed["requests"] < 0.1
        assert mixed["by_failure"].get("rate_limit_retried", 0) > 0


def test_every_firing_alert_reaches_the_local_receiver_through_the_shipped_routes(
    settled: dict[tuple[str, str], dict[str, str]], hooks: tuple[Hooks, int]
) -> None:
    store, _ = hooks
    want = {
        (scenario, naming, alert)
        for (scenario, naming), states in settled.items()
        for alert, state in states.items()
        if state == "firing"
    }
    assert len(want) == 2 * sum(len(s[2]) for s in SCENARIOS.values())
    deadline = time.monotonic() + 30
    while not want <= store.received and time.monotonic() < deadline:
        time.sleep(0.5)
    assert want - store.received == set()
    # Both kinds of integration carried alerts: the on-call webhook (critical) and Slack.
    assert {"/oncall", "/slack-llm", "/slack-finance"} <= store.paths


def _panels_with_data(client: httpx.Client) -> set[str]:
    with_data = set()
    now = time.time()
    for q in queries():
        if q.datasource["uid"] != "prometheus":
            continue
        params = {"query": runnable_promql(q.expr), "start": now - 300, "end": now, "step": 5}
        body = client.get("/api/v1/query_range", params=params).json()
        assert body["status"] == "success", (q.panel, body)
        for series in body["data"]["result"]:
            if any(not math.isnan(float(v[1])) for v in series["values"]):
                with_data.add(f"{q.dashboard} / {q.panel}")
    return with_data


def test_dashboards_show_a_v141_service_except_the_panels_v141_has_no_metric_for(
    runs: list[Run], settled: dict[tuple[str, str], dict[str, str]]
) -> None:
    clients = {r.naming: r.client for r in runs if r.scenario == "mixed"}
    latest, v141 = (_panels_with_data(clients[n]) for n in NAMINGS)
    assert len(latest) >= 30
    assert latest - v141 == V141_HAS_NO_METRIC
    assert v141 <= latest

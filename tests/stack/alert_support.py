"""Helpers of test_stack_alerts.py: the local alert receiver's store, the Alertmanager test
config derived from the shipped one, and waiting for and stopping servers."""

from __future__ import annotations

import copy
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from stack_support import STACK, load_yaml


class Hooks:
    """What the local receiver got: (scenario, naming, alertname) of every firing alert."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: set[tuple[str, str, str]] = set()
        self.paths: set[str] = set()

    def add(self, path: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.paths.add(path)
            if "alerts" in body:  # webhook_configs: Alertmanager's JSON
                for alert in body["alerts"]:
                    if alert["status"] == "firing":
                        labels = alert["labels"]
                        self.received.add(
                            (labels["scenario"], labels["naming"], labels["alertname"])
                        )
            for attachment in body.get("attachments", []):  # slack_configs
                if "(firing)" in attachment.get("title", ""):
                    for found in re.findall(
                        r"\[([^/\]]+)/([^/\]]+)/([^\]]+)\]", attachment["text"]
                    ):
                        self.received.add(found)


def alertmanager_test_config(hook_port: int, secrets: Path) -> dict[str, Any]:
    """The shipped config with its secret URLs pointing here; waits shortened; Slack text lists
    each alert's (scenario/naming/alertname) so the receiver can tell them apart."""
    config = copy.deepcopy(load_yaml(STACK / "alertmanager" / "alertmanager.yml"))
    config["route"].update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook.pop("url_file")
            hook["url"] = f"http://127.0.0.1:{hook_port}/{receiver['name']}"
        for slack in receiver.get("slack_configs", []):
            secret = secrets / f"{receiver['name']}_{Path(slack['api_url_file']).name}"
            secret.write_text(f"http://127.0.0.1:{hook_port}/{receiver['name']}\n")
            slack["api_url_file"] = str(secret)
            slack["text"] += (
                "{{ range .Alerts }}[{{ .Labels.scenario }}/{{ .Labels.naming }}"
                "/{{ .Labels.alertname }}]{{ end }}"
            )
    return config


def wait_ready(client: httpx.Client, proc: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if client.get("/-/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not ready in 30s: {log.read_text()[-2000:]}"
        time.sleep(0.2)


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)

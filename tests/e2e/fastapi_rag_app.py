"""The FastAPI RAG example app run under uvicorn in a subprocess for the e2e test
(``test_fastapi_rag.py``), and the views of the spans it exports: the cross-process tree of names
and the pipeline's own spans, whole."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.trace import SpanKind

from genai_trace_core.testing import normalised_attributes

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "fastapi_rag" / "app.py"
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
QUESTION = "How long do I have to return an item?"
LI_QUESTION = "How much does express shipping cost?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the app did not start in 60s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, then providers flush
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_app(tmp_path: Path, endpoint: str, client_calls: Any) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    env.pop("OPENAI_API_KEY", None)
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVICE_NAME="fastapi-rag-e2e",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_BLRP_SCHEDULE_DELAY="100",
        OTEL_METRIC_EXPORT_INTERVAL="60000",
        PYTHONHASHSEED="0",
    )
    if "TIKTOKEN_CACHE_DIR" not in env and TIKTOKEN_CACHE.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE)
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(APP), "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc, log)
            client_calls(f"http://127.0.0.1:{port}")
        finally:
            stop(proc)
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def tree(spans: list[dict[str, Any]], parent: str | None, concurrent: bool = False) -> list[Any]:
    """Children in start order, except under RunnableParallel: it runs its branches on a thread
    pool, so they may start in either order and are compared in name order."""
    children = sorted((s for s in spans if s["parent_id"] == parent), key=lambda s: s["start"])
    rows = [
        [s["name"], tree(spans, s["span_id"], s["name"].startswith("RunnableParallel"))]
        for s in children
    ]
    return sorted(rows, key=str) if concurrent else rows


def pipeline(remote: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app's spans from our integrations (scope ``genai_trace_*``), whole: name, kind, parent
    (index in this list; None under the HTTP server span), attributes as ``snapshot_dicts`` shows
    them; depth first, RunnableParallel's branches in name order (they run on a thread pool)."""
    ours = [s for s in remote if s["scope"].startswith("genai_trace")]
    ids = {s["span_id"] for s in ours}
    out: list[dict[str, Any]] = []

    def visit(parent_id: str | None, parent: int | None, concurrent: bool) -> None:
        kids = sorted(
            (s for s in ours if (s["parent_id"] if s["parent_id"] in ids else None) == parent_id),
            key=lambda s: s["start"],
        )
        if concurrent:
            kids.sort(key=lambda s: s["name"])
        for s in kids:
            out.append(
                {
                    "name": s["name"],
                    "kind": SpanKind(s["kind"] - 1).name,  # OTLP counts from UNSPECIFIED = 0
                    "parent": parent,
                    "attributes": normalised_attributes(s["attributes"]),
                }
            )
            visit(s["span_id"], len(out) - 1, s["name"].startswith("RunnableParallel"))

    visit(None, None, False)
    return out

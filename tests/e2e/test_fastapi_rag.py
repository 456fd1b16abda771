"""The FastAPI RAG example across two processes: the app runs under uvicorn in a subprocess on
127.0.0.1 and exports OTLP/HTTP to a receiver in this test; an instrumented httpx client calls it
under a client span. One trace id spans both processes, with the parents client span -> httpx
span -> HTTP server span -> workflow -> retrieval (embeddings) and chat, the attribution headers
on every GenAI span, and the feedback event attached to the span the answer named. The same holds
for ``/ask-llamaindex`` (HTTP server span -> query -> retrieval (embeddings), synthesize (chat))."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("opentelemetry.instrumentation.httpx")

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from otlp_receiver import Received, otlp_receiver

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "fastapi_rag" / "app.py"
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
QUESTION = "How long do I have to return an item?"
LI_QUESTION = "How much does express shipping cost?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, then providers flush
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _run_app(tmp_path: Path, endpoint: str, client_calls: Any) -> None:
    port = _free_port()
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
            _wait_ready(f"http://127.0.0.1:{port}", proc, log)
            client_calls(f"http://127.0.0.1:{port}")
        finally:
            _stop(proc)
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def _tree(spans: list[dict[str, Any]], parent: str | None, concurrent: bool = False) -> list[Any]:
    """Children in start order, except under RunnableParallel: it runs its branches on a thread
    pool, so they may start in either order and are compared in name order."""
    children = sorted((s for s in spans if s["parent_id"] == parent), key=lambda s: s["start"])
    rows = [
        [s["name"], _tree(spans, s["span_id"], s["name"].startswith("RunnableParallel"))]
        for s in children
    ]
    return sorted(rows, key=str) if concurrent else rows


def test_one_trace_spans_client_server_and_rag_pipeline_with_attribution_and_feedback(
    tmp_path: Path, otel: OTelHarness
) -> None:
    answers: list[dict[str, Any]] = []
    client_ids: list[tuple[str, str]] = []

    def ask(client: httpx.Client, path: str, question: str) -> None:
        tracer = otel.tracer_provider.get_tracer("e2e-client")
        with tracer.start_as_current_span(f"{path[1:]}-client") as span:
            sc = span.get_span_context()
            client_ids.append((f"{sc.trace_id:032x}", f"{sc.span_id:016x}"))
            r = client.post(
                path,
                json={"question": question},
                headers={"x-user-id": "u-42", "x-tenant-id": "acme"},
            )
            assert r.status_code == 200, r.text
            answers.append(r.json())

    def calls(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            HTTPXClientInstrumentor.instrument_client(client, tracer_provider=otel.tracer_provider)
            ask(client, "/ask", QUESTION)
            ask(client, "/ask-llamaindex", LI_QUESTION)
            body = answers[0]
            fb = client.post(
                "/feedback",
                json={"trace_id": body["trace_id"], "span_id": body["span_id"], "score": 1},
            )
            assert fb.status_code == 202, fb.text
            HTTPXClientInstrumentor.uninstrument_client(client)

    with otlp_receiver() as (endpoint, received):
        _run_app(tmp_path, endpoint, calls)
        _check(otel, received, client_ids[0], answers[0])
        _check_llamaindex(otel, received, client_ids[1], answers[1])


def _check(
    otel: OTelHarness, received: Received, client: tuple[str, str], answer: dict[str, Any]
) -> None:
    trace_id, client_span_id = client
    assert "30 days" in answer["answer"]
    local = [s for s in otel.span_dicts() if s["trace_id"] == trace_id]
    remote = [s for s in received.spans if s["trace_id"] == trace_id]
    assert {s["service"] for s in remote} == {"fastapi-rag-e2e"}
    # Both processes' spans of the /ask call, one tree under the test's client span.
    spans = [{k: s[k] for k in ("name", "span_id", "parent_id", "start")} for s in local + remote]
    retrieval = ["retrieval InMemoryVectorStore", [["embeddings text-embedding-3-small", []]]]
    context = ["RunnableSequence", [retrieval, ["format_docs", []]]]
    workflow = [
        "invoke_workflow support_rag",
        [
            ["RunnableParallel<context,question>", [["RunnablePassthrough", []], context]],
            ["support-answer", []],
            ["chat gpt-4o-mini", []],
            ["StrOutputParser", []],
        ],
    ]
    assert _tree(spans, None) == [["ask-client", [["POST", [["POST /ask", [workflow]]]]]]]
    [server] = [s for s in remote if s["name"] == "POST /ask"]
    assert (answer["trace_id"], answer["span_id"]) == (trace_id, server["span_id"])
    assert server["parent_id"] != client_span_id  # the httpx client span sits in between
    genai = [s for s in remote if semconv.GEN_AI_OPERATION_NAME in s["attributes"]]
    assert {s["attributes"][semconv.GEN_AI_OPERATION_NAME] for s in genai} == {
        "invoke_workflow",
        "retrieval",
        "embeddings",
        "chat",
    }
    for s in genai:
        a = s["attributes"]
        assert (a[semconv.USER_ID], a[semconv.TENANT_ID], a[semconv.FEATURE]) == (
            "u-42",
            "acme",
            "support-ask",
        ), s["name"]
    [feedback] = [r for r in received.logs if r["event_name"] == semconv.EVENT_EVALUATION_RESULT]
    assert (feedback["trace_id"], feedback["span_id"]) == (trace_id, server["span_id"])
    assert feedback["attributes"] == {
        semconv.GEN_AI_EVALUATION_NAME: "user_feedback",
        semconv.GEN_AI_EVALUATION_SCORE_VALUE: 1.0,
        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "thumbs_up",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.FEATURE: "support-ask",
        semconv.GEN_AI_PROMPT_VERSION: "v1",
    }


def _check_llamaindex(
    otel: OTelHarness, received: Received, client: tuple[str, str], answer: dict[str, Any]
) -> None:
    trace_id, _ = client
    assert answer["answer"]
    local = [s for s in otel.span_dicts() if s["trace_id"] == trace_id]
    remote = [s for s in received.spans if s["trace_id"] == trace_id]
    assert {s["service"] for s in remote} == {"fastapi-rag-e2e"}
    spans = [{k: s[k] for k in ("name", "span_id", "parent_id", "start")} for s in local + remote]
    query = [
        "RetrieverQueryEngine.query",
        [
            ["retrieval support-docs", [["embeddings text-embedding-3-small", []]]],
            ["CompactAndRefine.synthesize", [["chat gpt-4o-mini", []]]],
        ],
    ]
    assert _tree(spans, None) == [
        ["ask-llamaindex-client", [["POST", [["POST /ask-llamaindex", [query]]]]]]
    ]
    [server] = [s for s in remote if s["name"] == "POST /ask-llamaindex"]
    assert (answer["trace_id"], answer["span_id"]) == (trace_id, server["span_id"])
    genai = [s for s in remote if semconv.GEN_AI_OPERATION_NAME in s["attributes"]]
    assert sorted(s["attributes"][semconv.GEN_AI_OPERATION_NAME] for s in genai) == [
        "chat",
        "embeddings",
        "retrieval",
    ]
    for s in genai:
        a = s["attributes"]
        assert (a[semconv.USER_ID], a[semconv.TENANT_ID], a[semconv.FEATURE]) == (
            "u-42",
            "acme",
            "support-ask",
        ), s["name"]
    [chat] = [s for s in genai if s["name"] == "chat gpt-4o-mini"]
    assert chat["attributes"][semconv.USAGE_SOURCE] == "provider"
    assert chat["attributes"][semconv.COST_USD] > 0

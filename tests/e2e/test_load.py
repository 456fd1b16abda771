"""The traffic generator (``examples/load.py``): a 2-second offline run produces the promised mix
(several models and providers, LangChain and LlamaIndex RAG, agents and plain chat, streaming,
retries, failures) and a
summary that matches the spans; the alert scenarios plan the traffic that trips each alert."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from genai_trace_core import semconv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TENANTS = {"acme", "globex", "initech"}
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"

pytest.importorskip("langgraph")


def _run(tmp_path: Path, *args: str) -> tuple[str, list[dict[str, Any]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    env.pop("OPENAI_API_KEY", None)
    env.update(NO_COLOR="1", PYTHONHASHSEED="0", GENAI_TRACE_JSONL=str(tmp_path / "t.jsonl"))
    if "TIKTOKEN_CACHE_DIR" not in env and TIKTOKEN_CACHE.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "load.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert re.search(r"\[mixed\] done 40/40 in \d+\.\ds", proc.stderr), proc.stderr[-500:]
    lines = (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()
    return proc.stdout, [json.loads(line) for line in lines]


def test_two_seconds_of_mixed_load_cover_models_streaming_agents_failures_and_summary(
    tmp_path: Path,
) -> None:
    stdout, spans = _run(tmp_path, "--rate", "20", "--duration", "2", "--seed", "7")
    ops = Counter(s["attributes"].get(semconv.GEN_AI_OPERATION_NAME) for s in spans)
    assert {"chat", "embeddings", "retrieval", "invoke_workflow", "invoke_agent"} <= set(ops)
    assert ops["execute_tool"] > 0
    chats = [s for s in spans if s["attributes"].get(semconv.GEN_AI_OPERATION_NAME) == "chat"]
    providers = {s["attributes"][semconv.GEN_AI_PROVIDER_NAME] for s in chats}
    assert providers == {"openai", "anthropic", "mistral_ai"}
    models = {s["attributes"][semconv.GEN_AI_REQUEST_MODEL] for s in chats}
    assert len(models) >= 5, models
    streamed = [s for s in chats if s["attributes"].get(semconv.GEN_AI_REQUEST_STREAM)]
    assert streamed and all(
        semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in s["attributes"]
        for s in streamed
        if s["status"]["code"] != "ERROR"
    )
    errors = Counter(
        s["attributes"][semconv.ERROR_TYPE] for s in chats if semconv.ERROR_TYPE in s["attributes"]
    )
    assert set(errors) >= {"RateLimitError", "ProviderTimeoutError"}, errors
    # The LlamaIndex share: its own query -> retrieval (embeddings), synthesize (chat) traces.
    li_ops = Counter(
        s["attributes"].get(semconv.GEN_AI_OPERATION_NAME)
        for s in spans
        if s["attributes"].get(semconv.FRAMEWORK) == "llama_index"
    )
    assert {"chat", "embeddings", "retrieval"} <= set(li_ops), li_ops
    li_chats = [s for s in chats if s["attributes"].get(semconv.FRAMEWORK) == "llama_index"]
    assert all(s["attributes"][semconv.TENANT_ID] in TENANTS for s in li_chats)
    assert any(semconv.COST_USD in s["attributes"] for s in li_chats)
    roots = [s for s in spans if s["parent_id"] is None and s["name"].startswith("request ")]
    assert len(roots) == 40
    assert {s["attributes"][semconv.TENANT_ID] for s in chats} == {"acme", "globex", "initech"}
    # The summary: the request mix, then tokens and cost per response model from the spans.
    m = re.search(
        r"Requests: 40 \(agent (\d+), chat (\d+), rag (\d+), rag_llamaindex (\d+)\); "
        r"streamed (\d+); failed (\d+)",
        stdout,
    )
    assert m is not None, stdout
    agent, chat, rag, rag_li, n_streamed, failed = (int(g) for g in m.groups())
    assert agent + chat + rag + rag_li == 40 and min(agent, chat, rag, rag_li) > 0
    assert n_streamed > 0 and 0 < failed < 40
    assert sum(r["status"]["code"] == "ERROR" for r in roots) == failed
    calls = Counter(
        s["attributes"].get(semconv.GEN_AI_RESPONSE_MODEL)
        for s in chats
        if semconv.COST_USD in s["attributes"]
    )
    table = {
        row[0]: int(row[1])
        for row in (line.split() for line in stdout.splitlines())
        if len(row) == 6 and row[0] in calls
    }
    assert table == dict(calls)


def test_alert_scenarios_plan_the_traffic_that_trips_each_alert() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import load
    finally:
        sys.path.remove(str(EXAMPLES))
    rng = random.Random(1)
    cost = [load.make_plan(rng, "cost-spike") for _ in range(50)]
    assert {(p.model, p.reasoning_tokens) for p in cost} == {("o1", 20_000)}  # ~$1.20 a call
    slow = [load.make_plan(rng, "latency-spike") for _ in range(50)]
    assert all(p.stream and p.kind == "chat" and p.delay_s > 5.12 for p in slow)  # TTFT > 5 s
    burst = [load.make_plan(rng, "error-burst") for _ in range(400)]
    share = sum(p.failure in ("rate_limit", "timeout") for p in burst) / len(burst)
    assert 0.2 < share < 0.45  # far above the 5% error-ratio threshold
    mixed = [load.make_plan(rng, "mixed") for _ in range(400)]
    assert sum(p.failure is not None for p in mixed) / len(mixed) < 0.12

"""The LlamaIndex examples, end to end: each runs offline in a subprocess (fresh interpreter, tmp
cwd), exits 0, prints its answers, the trace trees (on stderr) and a cost summary, and writes the
spans to ``./.genai-trace/traces.jsonl`` with usage and cost on every inference span."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from genai_trace_core import Usage, compute_cost, semconv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"

pytest.importorskip("llama_index.core")
pytest.importorskip("opentelemetry.sdk")


def _run(script: str, tmp_path: Path) -> tuple[str, str, list[dict[str, Any]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    env.pop("OPENAI_API_KEY", None)
    if TIKTOKEN_CACHE.is_dir():
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (tmp_path / ".genai-trace" / "traces.jsonl").read_text().splitlines()
    return proc.stdout, proc.stderr, [json.loads(line) for line in lines]


def _check_costs(spans: list[dict[str, Any]]) -> int:
    """Every chat/embeddings span carries provider-style usage and the genai-prices cost of it."""
    checked = 0
    for span in spans:
        a = span["attributes"]
        if a.get(semconv.GEN_AI_OPERATION_NAME) not in ("chat", "embeddings"):
            continue
        usage = Usage(
            # an offline estimate (embeddings) is under our name unless the user opts in
            input_tokens=a.get(
                semconv.GEN_AI_USAGE_INPUT_TOKENS, a.get(semconv.USAGE_ESTIMATED_INPUT_TOKENS)
            ),
            output_tokens=a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
        )
        model = a.get(semconv.GEN_AI_RESPONSE_MODEL) or a[semconv.GEN_AI_REQUEST_MODEL]
        cost = compute_cost(model, a.get(semconv.GEN_AI_PROVIDER_NAME), usage)
        assert cost is not None
        assert a[semconv.COST_USD] == pytest.approx(cost.total_usd)
        assert semconv.GEN_AI_INPUT_MESSAGES not in a  # content is off by default
        checked += 1
    return checked


def test_llamaindex_rag_example_answers_from_context_and_traces_each_query(
    tmp_path: Path,
) -> None:
    stdout, stderr, spans = _run("llamaindex_rag.py", tmp_path)
    assert "A: Items can be returned within 30 days of delivery" in stdout
    assert "A (streamed): Express shipping takes 1 to 2 business days and costs 9 EUR." in stdout
    assert "Cost summary" in stdout
    # both queries, the streamed one included, print their whole tree with the chat span
    assert stderr.count("└── chat gpt-4o-mini") == 2
    assert stderr.count("retrieval support-docs") == 2
    names = [s["name"] for s in spans]
    assert names.count("chat gpt-4o-mini") == 2
    trace_ids = {s["trace_id"] for s in spans if s["name"] == "chat gpt-4o-mini"}
    assert len(trace_ids) == 2
    assert _check_costs(spans) >= 4  # 2 chats + query embeddings (+ indexing)


def test_llamaindex_agent_example_is_one_agent_trace_with_tool_and_two_chats(
    tmp_path: Path,
) -> None:
    stdout, stderr, spans = _run("llamaindex_agent.py", tmp_path)
    assert "A: The result is 14.99." in stdout
    agent = [s for s in spans if s["name"].startswith("invoke_agent ")]
    assert [s["name"] for s in agent] == ["invoke_agent shop-assistant"]
    children = sorted(s["name"] for s in spans if s["parent_id"] == agent[0]["span_id"])
    assert children == ["chat gpt-4o-mini", "chat gpt-4o-mini", "execute_tool shipping_price"]
    assert "execute_tool shipping_price" in stderr
    assert _check_costs(spans) == 2

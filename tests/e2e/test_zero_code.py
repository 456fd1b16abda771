"""Zero-code: ``opentelemetry-instrument`` (with ``opentelemetry-distro``) on an app with no tracing
code, ``OTEL_TRACES_EXPORTER=genai_trace``: the terminal tree on stderr and the JSONL file, as
``configure()`` gives, from the installed entry points alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"


def test_opentelemetry_instrument_with_the_genai_trace_exporter_prints_trees_and_writes_jsonl(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    env |= {
        "OTEL_TRACES_EXPORTER": "genai_trace",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code-rag",
    }
    if TIKTOKEN_CACHE.is_dir():
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    done = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(ROOT / "examples" / "zero_code.py"), "Refunds?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Q: Refunds?\nA: ")
    assert "Traceback" not in done.stderr and "Failed" not in done.stderr
    tree = done.stderr
    assert "· zero-code-rag · 10 spans ·" in tree
    assert "invoke_workflow support_rag" in tree
    assert "retrieval " in tree and "top_k 2  docs 2" in tree
    assert "embeddings text-embedding-3-small" in tree and "in ≈" in tree
    assert "chat gpt-4o-mini" in tree and "[gpt-4o-mini-2024-07-18]" in tree
    records = [
        json.loads(line)
        for line in (tmp_path / ".genai-trace" / "traces.jsonl").read_text().splitlines()
    ]
    names = sorted(r["name"] for r in records)
    assert names.count("invoke_workflow support_rag") == 1
    assert names.count("embeddings text-embedding-3-small") == 2  # indexing + the query
    (chat,) = [r for r in records if r["name"] == "chat gpt-4o-mini"]
    assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert chat["attributes"]["genai_trace.cost.usd"] > 0
    root = next(r for r in records if r["name"] == "invoke_workflow support_rag")
    assert chat["parent_id"] == root["span_id"] and chat["trace_id"] == root["trace_id"]

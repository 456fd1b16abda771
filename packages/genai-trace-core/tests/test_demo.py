"""`genai-trace demo` runs a traced RAG pipeline offline and prints trees and costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_prints_trace_trees_and_writes_jsonl(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "genai_trace_core.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "A: According to our handbook: Items can be returned within 30 days" in proc.stdout
    err = proc.stderr
    assert err.count("invoke_workflow support-rag") == 2
    assert "└── embeddings text-embedding-3-small" in err
    assert "└── chat gpt-4o-mini" in err
    records = [
        json.loads(line)
        for line in (tmp_path / ".genai-trace" / "traces.jsonl").read_text().splitlines()
    ]
    names = sorted(r["name"] for r in records)
    assert names == sorted(
        [
            "invoke_workflow support-rag",
            "retrieval handbook",
            "embeddings text-embedding-3-small",
            "chat gpt-4o-mini",
        ]
        * 2
    )
    chats = [r for r in records if r["name"] == "chat gpt-4o-mini"]
    for chat in chats:
        a = chat["attributes"]
        assert a["gen_ai.usage.input_tokens"] > 0
        assert a["genai_trace.cost.usd"] > 0
        assert "gen_ai.input.messages" not in a  # content is off by default

"""`genai-trace demo` runs a traced RAG pipeline offline and prints trees and costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _demo(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "genai_trace_core.cli", "demo"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_prints_trace_trees_and_writes_jsonl(tmp_path: Path) -> None:
    proc = _demo(tmp_path)
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


def test_demo_with_the_sdk_disabled_says_so_instead_of_pointing_at_a_file(tmp_path: Path) -> None:
    proc = _demo(tmp_path, OTEL_SDK_DISABLED="true")
    assert proc.returncode == 0, proc.stderr
    assert "A: According to our handbook: Items can be returned within 30 days" in proc.stdout
    assert proc.stderr == (
        "Tracing is disabled by OTEL_SDK_DISABLED=true: no spans were recorded "
        "(unset OTEL_SDK_DISABLED to see the traces)\n"
    )
    assert not (tmp_path / ".genai-trace").exists()

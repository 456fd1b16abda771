"""Every ``python`` block of the README is a complete program: each runs in a fresh interpreter
(tmp cwd, offline) and exits 0 without a traceback or an export error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIKTOKEN_CACHE = ROOT.parent / "shared" / "tiktoken-cache"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
SNIPPETS = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_the_snippets_of_its_sections() -> None:
    joined = "\n".join(SNIPPETS)
    for name in ("attribution(", "record_feedback(", "BudgetTracker(", "configure("):
        assert name in joined, name


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"block{i}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs(code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    if TIKTOKEN_CACHE.is_dir():
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Failed to export" not in done.stderr
    if ".invoke(" in code:  # the embedded default: a tree on stderr, spans in the JSONL file
        assert "trace " in done.stderr
        assert (tmp_path / ".genai-trace" / "traces.jsonl").stat().st_size > 0

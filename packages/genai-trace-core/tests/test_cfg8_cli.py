"""``genai-trace view`` on the files a user really has: the JSONL ``configure()`` writes is read;
a file with no span at all in it (the SDK's ``console`` exporter output, ``OTEL_TRACES_EXPORTER=
console``, saved by mistake) fails with exit status 1 and one line saying what was expected,
no traceback (it used to print ``0 traces, 19 unreadable lines skipped`` and exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAM = """
from genai_trace_core import attribution, configure
providers = configure(service_name="support-bot")
tracer = providers.tracer_provider.get_tracer("support-app")
with attribution(user_id="alice"), tracer.start_as_current_span("handle_question"):
    pass
providers.shutdown()
"""


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    return subprocess.run(
        args,
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def view(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "genai_trace_core.cli", "view", str(path), "--no-color"]
    return run(command, path.parent)


def test_view_reads_the_jsonl_file_and_refuses_a_file_without_any_span(tmp_path: Path) -> None:
    jsonl = tmp_path / "traces.jsonl"
    assert (
        run([sys.executable, "-c", PROGRAM], tmp_path, GENAI_TRACE_JSONL=str(jsonl)).returncode == 0
    )
    console = run([sys.executable, "-c", PROGRAM], tmp_path, OTEL_TRACES_EXPORTER="console")
    assert console.returncode == 0 and '"name": "handle_question"' in console.stdout
    saved = tmp_path / "console.json"
    saved.write_text(console.stdout, encoding="utf-8")
    lines = len(console.stdout.splitlines())

    good, wrong = view(jsonl), view(saved)

    assert (good.returncode, good.stderr) == (0, "")
    header, step, blank, total = good.stdout.splitlines()
    assert header.split(" · ")[1:3] == ["support-bot", "1 span"]  # then the duration
    assert (step.split()[0], blank, total) == ("handle_question", "", "1 trace")
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr == (
        f"genai-trace view: no span in {saved}: {lines} unreadable lines"
        " (expected the JSONL file configure() writes, one span per line)\n"
    )

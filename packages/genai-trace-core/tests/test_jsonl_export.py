"""The JSONL file: a bad value costs that value, never the batch; a file that cannot be written is
reported once.

Each program below is what a user writes (``configure()``, an application span around a
genai-trace span, flushes) and runs in a fresh interpreter, so its whole stderr is observed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import sys
from genai_trace_core import Operation, OperationKind, Telemetry, configure

providers = configure(service_name="jsonl", console=False, jsonl_path=sys.argv[1])
telemetry = Telemetry(tracer_provider=providers.tracer_provider)
tracer = providers.tracer_provider.get_tracer("app")
for i, note in enumerate(["fine", "bad \\ud800 text", "pair \\ud83d\\ude00 ok", "fine again"]):
    with tracer.start_as_current_span(f"handle {i}") as span:
        span.set_attribute("app.note", note)
        telemetry.start(i, Operation(OperationKind.CHAT, request_model="gpt-4o-mini"))
        telemetry.end(i)
    providers.force_flush()
providers.shutdown()
print("done")
"""


def _run(tmp_path: Path, jsonl: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GENAI_TRACE_"))}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, str(jsonl)],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_lone_surrogate_in_an_app_attribute_costs_that_character_not_the_batch(
    tmp_path: Path,
) -> None:
    jsonl = tmp_path / "traces.jsonl"
    done = _run(tmp_path, jsonl)
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")
    records = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert [r["name"] for r in records] == [
        name for i in range(4) for name in ("chat gpt-4o-mini", f"handle {i}")
    ]
    notes = [r["attributes"]["app.note"] for r in records if r["name"].startswith("handle")]
    assert notes == ["fine", "bad \ufffd text", "pair \U0001f600 ok", "fine again"]


def test_a_jsonl_path_that_cannot_be_written_is_reported_once(tmp_path: Path) -> None:
    jsonl = tmp_path / "traces.jsonl"
    jsonl.mkdir()  # a directory in the way: every batch fails
    done = _run(tmp_path, jsonl)
    assert (done.returncode, done.stdout) == (0, "done\n")
    assert done.stderr.splitlines() == [
        f"genai-trace: cannot write spans to {jsonl} "
        f"(IsADirectoryError: [Errno 21] Is a directory: '{jsonl}'); they are dropped"
    ]

"""``python app.py > app.log 2>&1``: the app's output and the trees share one regular file. The
README promises that a tree costs an empty line there only when the app wrote to the file since
the previous tree; every tree used to be preceded by one (a batch of 8 requests: 8 empty lines,
the log's first line among them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = """
import sys
from genai_trace_core import configure
providers = configure(service_name="shared", jsonl_path="")
tracer = providers.tracer_provider.get_tracer("app")
for name in ("first", "second"):  # back to back, nothing printed in between
    with tracer.start_as_current_span(f"invoke_workflow {name}"):
        pass
print("A (streamed): forty", end="")  # a partial line on stdout, still in its buffer
with tracer.start_as_current_span("invoke_workflow third"):
    pass
print(" two")
with tracer.start_as_current_span("invoke_workflow fourth"):
    pass
providers.shutdown()
"""


def test_in_a_log_shared_with_stdout_a_tree_breaks_the_line_only_after_app_output(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app.log"
    with log.open("w") as fh:
        done = subprocess.run(
            [sys.executable, "-c", APP],
            stdout=fh,
            stderr=subprocess.STDOUT,  # 2>&1
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    text = log.read_text("utf-8")
    assert done.returncode == 0, text
    shape = [
        "trace" if line.startswith("trace ") and " · shared · 1 span · " in line
        else line.split("    ")[0]
        for line in text.splitlines()
    ]  # fmt: skip
    assert shape == [
        "trace",  # the log was empty: no break
        "invoke_workflow first",
        "trace",  # nothing written since the previous tree: no break
        "invoke_workflow second",
        "A (streamed): forty",  # stdout flushed first, then the tree on a line of its own
        "trace",
        "invoke_workflow third",
        " two",
        "",  # the app closed its line after the tree: the file grew, a break to be sure
        "trace",
        "invoke_workflow fourth",
    ]

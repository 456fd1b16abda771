"""The terminal tree starts on a line of its own when the app left one open where the tree goes:
stderr on a file or a terminal of its own, the app streaming its answer there chunk by chunk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = """
import sys
from genai_trace_core import configure
providers = configure(service_name="midline", jsonl_path="")
tracer = providers.tracer_provider.get_tracer("app")
print("stdout line", flush=True)
sys.stderr.write("A (streamed): forty")  # a partial line, as a streamed answer leaves it
with tracer.start_as_current_span("invoke_workflow first"):
    pass
sys.stderr.write(" two\\n")
with tracer.start_as_current_span("invoke_workflow second"):
    pass
with tracer.start_as_current_span("invoke_workflow third"):
    pass
providers.shutdown()
"""


def _run_with_stderr_on_a_file(tmp_path: Path) -> tuple[str, str]:
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err:
        done = subprocess.run(
            [sys.executable, "-c", APP],
            stdout=subprocess.PIPE,  # stdout elsewhere: only stderr shares the tree's file
            stderr=err,
            cwd=tmp_path,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, err_path.read_text()
    return done.stdout, err_path.read_text()


def _run_with_stderr_on_a_terminal(tmp_path: Path) -> tuple[str, str]:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", APP],
            stdout=subprocess.PIPE,
            stderr=slave,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
        )
        os.close(slave)
        slave = -1
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert proc.returncode == 0
    return out.decode(), b"".join(chunks).decode().replace("\r\n", "\n")


def _shape(err: str) -> list[str]:
    """The lines of stderr, a tree's header as ``trace`` and a span's line without its duration."""
    return [
        "trace" if line.startswith("trace ") and " · midline · 1 span · " in line
        else line.split("    ")[0]
        for line in err.splitlines()
    ]  # fmt: skip


def test_on_a_file_of_its_own_the_tree_starts_a_line_and_follows_the_previous_tree(
    tmp_path: Path,
) -> None:
    out, err = _run_with_stderr_on_a_file(tmp_path)
    assert out == "stdout line\n"
    assert _shape(err) == [
        "A (streamed): forty",
        "trace",
        "invoke_workflow first",
        " two",
        "",  # the app closed its line after the tree: the file grew, a break to be sure
        "trace",
        "invoke_workflow second",
        "trace",  # nothing written since the previous tree: no empty line
        "invoke_workflow third",
    ]


def test_on_a_terminal_of_its_own_the_tree_starts_a_line(tmp_path: Path) -> None:
    out, err = _run_with_stderr_on_a_terminal(tmp_path)
    assert out == "stdout line\n"
    assert _shape(err) == [
        "A (streamed): forty",
        "trace",
        "invoke_workflow first",
        " two",
        "",  # the cursor's column cannot be seen on a terminal: always a break
        "trace",
        "invoke_workflow second",
        "",
        "trace",
        "invoke_workflow third",
    ]

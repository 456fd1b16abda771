"""``genai-trace view`` and ``price`` when their output cannot be written: stdout closed
(``>&-``) or a full disk (``> /dev/full``). Each used to end in a traceback (``AttributeError``
on ``None``, ``OSError: No space left on device``); now one line on stderr and status 1, as
``cat`` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from genai_trace_core import semconv as S
from genai_trace_core.export._jsonl import JsonlSpanExporter
from genai_trace_core.testing import IncrementalIdGenerator

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
CLI = [sys.executable, "-m", "genai_trace_core.cli"]


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    """One model call, written by the JSONL exporter ``configure()`` uses."""
    path = tmp_path / "traces.jsonl"
    tp = TracerProvider(
        resource=Resource.create({S.SERVICE_NAME: "shop"}),
        id_generator=IncrementalIdGenerator(),
        shutdown_on_exit=False,
    )
    tp.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(path)))
    attrs: dict[str, AttributeValue] = {
        S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
        S.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        S.GEN_AI_USAGE_INPUT_TOKENS: 10,
        S.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
    }
    span = tp.get_tracer("test").start_span(
        "chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs, start_time=T0
    )
    span.end(end_time=T0 + 200 * MS)
    tp.shutdown()
    return path


def _run(shell_redirect: str, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        ["sh", "-c", f'"$@" {shell_redirect}', "sh", *CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_view_and_price_into_a_full_disk_say_so_in_one_line(traces: Path) -> None:
    full = "genai-trace: cannot write the output: No space left on device\n"
    assert _run("> /dev/full", "view", str(traces)) == (1, "", full)
    assert _run("> /dev/full", "price", "gpt-4o-mini") == (1, "", full)


def test_view_and_price_with_stdout_closed_say_so_in_one_line(traces: Path) -> None:
    closed = "genai-trace: cannot write the output: stdout is closed\n"
    assert _run(">&-", "view", str(traces)) == (1, "", closed)
    assert _run(">&-", "price", "gpt-4o-mini") == (1, "", closed)


def test_view_into_a_pipe_still_prints_the_tree_and_totals(traces: Path) -> None:
    code, out, err = _run("", "view", str(traces), "--no-color")
    assert (code, err) == (0, "")
    assert out == (
        "trace 00000000000000000000000000000001 · shop · 1 span · 200ms\n"
        "chat gpt-4o-mini    200ms  in 10 out 5\n"
        "  model        calls  input  cache  output  cost\n"
        "  gpt-4o-mini      1     10      0       5     -\n"
        "\n"
        "1 trace\n"
        "\n"
        "totals by model\n"
        "  model        calls  input  cache  output  cost\n"
        "  gpt-4o-mini      1     10      0       5     -\n"
        "\n"
        "totals by user\n"
        "  user       calls  input  cache  output  cost\n"
        "  (unknown)      1     10      0       5     -\n"
        "\n"
        "totals by tenant\n"
        "  tenant     calls  input  cache  output  cost\n"
        "  (unknown)      1     10      0       5     -\n"
    )

"""The ``genai-trace`` command: view a JSONL file, price a model, run the demo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Span, SpanKind, Tracer, set_span_in_context

from genai_trace_core import semconv as S
from genai_trace_core.cli._main import main
from genai_trace_core.export._jsonl import JsonlSpanExporter
from genai_trace_core.testing import IncrementalIdGenerator

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def _chat(
    tracer: Tracer, parent: Span, model: str, at_ms: int, usage: tuple[int, int, float]
) -> None:
    tokens_in, tokens_out, cost = usage
    span = tracer.start_span(
        f"chat {model}",
        context=set_span_in_context(parent),
        kind=SpanKind.CLIENT,
        start_time=T0 + at_ms * MS,
        attributes={
            S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
            S.GEN_AI_REQUEST_MODEL: model,
            S.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
            S.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out,
            S.COST_USD: cost,
        },
    )
    span.end(end_time=T0 + (at_ms + 200) * MS)


@pytest.fixture
def traces_file(tmp_path: Path) -> Iterator[Path]:
    """Three traces written through the real JSONL exporter: alice@acme, bob@globex, anonymous."""
    path = tmp_path / "traces.jsonl"
    tp = TracerProvider(
        resource=Resource.create({S.SERVICE_NAME: "shop"}),
        id_generator=IncrementalIdGenerator(),
        shutdown_on_exit=False,
    )
    tp.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(path)))
    tracer = tp.get_tracer("test")
    for user, tenant, calls in (
        ("alice", "acme", [("gpt-4o", (1000, 100, 0.0035))]),
        ("bob", "globex", [("gpt-4o-mini", (2000, 500, 0.0006)), ("gpt-4o", (500, 50, 0.00175))]),
        (None, None, [("gpt-4o-mini", (10, 5, 0.0000045))]),
    ):
        attrs = {S.GEN_AI_OPERATION_NAME: S.OP_INVOKE_AGENT}
        if user and tenant:
            attrs |= {S.USER_ID: user, S.TENANT_ID: tenant}
        root = tracer.start_span("invoke_agent shopper", start_time=T0, attributes=attrs)
        for i, (model, usage) in enumerate(calls):
            _chat(tracer, root, model, 10 + 300 * i, usage)
        root.end(end_time=T0 + 700 * MS)
    tp.shutdown()
    yield path


EXPECTED_VIEW = """\
trace 00000000000000000000000000000001 · shop · 2 spans · 700ms
invoke_agent shopper    700ms
└── chat gpt-4o         200ms  in 1,000 out 100  $0.0035
  model   calls  input  cache  output     cost
  gpt-4o      1  1,000      0     100  $0.0035

trace 00000000000000000000000000000002 · shop · 3 spans · 700ms
invoke_agent shopper    700ms
├── chat gpt-4o-mini    200ms  in 2,000 out 500  $0.0006
└── chat gpt-4o         200ms  in 500 out 50  $0.00175
  model        calls  input  cache  output      cost
  gpt-4o           1    500      0      50  $0.00175
  gpt-4o-mini      1  2,000      0     500   $0.0006
  total            2  2,500      0     550  $0.00235

trace 00000000000000000000000000000003 · shop · 2 spans · 700ms
invoke_agent shopper    700ms
└── chat gpt-4o-mini    200ms  in 10 out 5  $0.0000045
  model        calls  input  cache  output        cost
  gpt-4o-mini      1     10      0       5  $0.0000045

3 traces

totals by model
  model        calls  input  cache  output        cost
  gpt-4o           2  1,500      0     150    $0.00525
  gpt-4o-mini      2  2,010      0     505  $0.0006045
  total            4  3,510      0     655  $0.0058545

totals by user
  user       calls  input  cache  output        cost
  alice          1  1,000      0     100     $0.0035
  bob            2  2,500      0     550    $0.00235
  (unknown)      1     10      0       5  $0.0000045
  total          4  3,510      0     655  $0.0058545

totals by tenant
  tenant     calls  input  cache  output        cost
  acme           1  1,000      0     100     $0.0035
  globex         2  2,500      0     550    $0.00235
  (unknown)      1     10      0       5  $0.0000045
  total          4  3,510      0     655  $0.0058545
"""


def test_view_prints_every_trace_as_a_tree_then_totals_per_model_user_and_tenant(
    traces_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["view", str(traces_file), "--no-color"]) == 0
    assert capsys.readouterr().out == EXPECTED_VIEW


def test_view_trace_option_selects_one_trace_by_id_prefix(
    traces_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["view", str(traces_file), "--no-color", "--trace", "00000000000000000000000000000001"]
        )
        == 0
    )
    out = capsys.readouterr().out
    first_trace = EXPECTED_VIEW.split("\n\n", maxsplit=1)[0]
    assert out.startswith(first_trace + "\n\n1 trace\n\ntotals by model\n")
    assert [line for line in out.splitlines() if line.startswith("trace ")] == [
        "trace 00000000000000000000000000000001 · shop · 2 spans · 700ms"
    ]


def test_view_reports_unknown_trace_missing_file_and_skips_unreadable_lines(
    traces_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["view", str(traces_file), "--trace", "ffff"]) == 1
    assert capsys.readouterr().err == f"genai-trace view: no trace ffff in {traces_file}\n"

    assert main(["view", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err

    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(traces_file.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    assert main(["view", str(damaged), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert out.replace("3 traces, 1 unreadable line skipped", "3 traces") == EXPECTED_VIEW


def test_price_shows_per_million_prices_and_the_cost_of_a_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["price", "gpt-4o", "--input", "10000", "--output", "2000", "--cached", "4000"]) == 0
    )
    # gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per million tokens.
    # 6,000 uncached x 2.50 + 4,000 cached x 1.25 + 2,000 output x 10 = $0.015 + $0.005 + $0.02
    assert capsys.readouterr().out == (
        "model     gpt-4o\n"
        "per 1M tokens (USD)\n"
        "  input         $2.50\n"
        "  cached input  $1.25\n"
        "  output        $10.00\n"
        "source    genai-prices\n"
        "usage     in 10,000 (cached 4,000)  out 2,000\n"
        "cost      $0.0400  (input $0.0150, cached $0.0050, output $0.0200)\n"
    )


def test_price_without_usage_prints_only_the_prices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["price", "gpt-4o", "--provider", "openai"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "model     gpt-4o  (provider openai)",
        "per 1M tokens (USD)",
        "  input         $2.50",
        "  cached input  $1.25",
        "  output        $10.00",
        "source    genai-prices",
    ]


def test_price_of_an_unknown_model_or_inconsistent_counts_fails_with_a_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["price", "no-such-model-xyz"]) == 1
    assert capsys.readouterr().err == (
        "genai-trace price: no price known for no-such-model-xyz"
        " (name its provider: --provider openai, ...)\n"
    )
    assert main(["price", "gpt-4o", "--input", "10", "--cached", "20"]) == 2
    assert "--cached <= --input" in capsys.readouterr().err


def test_demo_without_the_sdk_extra_prints_a_one_line_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)  # as if [sdk] was not installed
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genai-trace demo: ") and err.count("\n") == 1
    assert "pip install 'genai-trace-core[sdk]'" in err


def test_demo_names_any_other_missing_module_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = types.ModuleType("genai_trace_core.cli._demo")

    def demo_main() -> int:
        raise ModuleNotFoundError("No module named 'tiktoken'", name="tiktoken")

    fake.main = demo_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "genai_trace_core.cli._demo", fake)
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == (
        "genai-trace demo: missing tiktoken: pip install 'genai-trace-core[sdk]'\n"
    )


def test_version_prints_the_installed_core_version_and_exits_0() -> None:
    from genai_trace_core import __version__

    done = subprocess.run(
        [sys.executable, "-m", "genai_trace_core.cli._main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"genai-trace (genai-trace-core) {__version__}\n")


def test_demo_runs_the_demo_module_and_returns_its_exit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    fake = types.ModuleType("genai_trace_core.cli._demo")

    def demo_main() -> int:
        calls.append("ran")
        return 3

    fake.main = demo_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "genai_trace_core.cli._demo", fake)
    assert (main(["demo"]), calls) == (3, ["ran"])


def _view_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "genai_trace_core.cli", "view", str(path), "--no-color"]


def test_view_skips_and_counts_a_line_that_is_not_utf8(traces_file: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(traces_file.read_bytes() + b"\xff\xfe not utf-8\n")
    done = subprocess.run(
        _view_command(damaged), capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == EXPECTED_VIEW.replace("3 traces", "3 traces, 1 unreadable line skipped")


def test_view_piped_into_a_reader_that_stops_early_exits_quietly(
    traces_file: Path, tmp_path: Path
) -> None:
    """``genai-trace view FILE | head -1``: no traceback, status 1 (Python's SIGPIPE recipe)."""
    records = [json.loads(line) for line in traces_file.read_text("utf-8").splitlines()]
    many = tmp_path / "many.jsonl"
    with many.open("w", encoding="utf-8") as fh:
        for k in range(2_000):  # far more output than a pipe buffers
            for record in records:
                trace_id = f"{k:08x}{record['trace_id'][8:]}"  # 3 traces per copy
                fh.write(json.dumps({**record, "trace_id": trace_id}) + "\n")
    proc = subprocess.Popen(
        _view_command(many), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read()
    proc.stderr.close()
    assert (first, proc.wait(60), err) == (EXPECTED_VIEW.splitlines(keepends=True)[0], 1, "")


def test_view_reads_a_file_that_starts_with_a_byte_order_mark(
    traces_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "saved-by-an-editor.jsonl"
    saved.write_bytes(b"\xef\xbb\xbf" + traces_file.read_bytes())
    assert main(["view", str(saved), "--no-color"]) == 0
    assert capsys.readouterr().out == EXPECTED_VIEW


@pytest.mark.parametrize(
    ("key", "value"), [(S.COST_USD, "NaN"), (S.GEN_AI_USAGE_INPUT_TOKENS, "Infinity")]
)
def test_view_shows_a_number_json_allows_but_that_is_not_finite_as_missing(
    traces_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
) -> None:
    lines = traces_file.read_text(encoding="utf-8").splitlines()
    first_chat = next(i for i, line in enumerate(lines) if key in line)
    span = json.loads(lines[first_chat])
    span["attributes"][key] = float(value.lower().replace("infinity", "inf"))
    lines[first_chat] = json.dumps(span)  # writes NaN / Infinity, as Python's json does
    odd = tmp_path / "odd.jsonl"
    odd.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert value in odd.read_text(encoding="utf-8")

    assert main(["view", str(odd), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "3 traces" in out and out.count("\n└── ") == EXPECTED_VIEW.count("\n└── ")
    assert re.search(r"\b(nan|inf)", out, re.IGNORECASE) is None

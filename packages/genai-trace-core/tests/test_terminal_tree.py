"""The terminal tree shows what a reader needs from the JSONL: estimated counts marked ``≈``,
retrieval sizes; it starts on a line of its own when the app shares the terminal; and the
``genai_trace`` span exporter (zero-code) gives the same tree and JSONL file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genai_trace_core import semconv as S
from genai_trace_core.view._render import render_trace
from genai_trace_core.view._spanview import SpanView

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def _span(span_id: str, parent: str | None, name: str, end_ms: int, **attrs: object) -> SpanView:
    return SpanView(
        trace_id="ab" * 16,
        span_id=span_id,
        parent_id=parent,
        name=name,
        start_ns=T0,
        end_ns=T0 + end_ms * MS,
        attributes=dict(attrs),
    )


def test_estimated_counts_are_marked_and_retrievals_show_top_k_and_documents() -> None:
    spans = [
        _span("01" * 8, None, "retrieval handbook", 5, **{
            S.GEN_AI_OPERATION_NAME: "retrieval",
            S.GEN_AI_RETRIEVAL_TOP_K: 3,
            S.DOCUMENT_COUNT: 2,
        }),
        _span("02" * 8, "01" * 8, "embeddings text-embedding-3-small", 1, **{
            S.GEN_AI_OPERATION_NAME: S.OP_EMBEDDINGS,
            S.GEN_AI_REQUEST_MODEL: "text-embedding-3-small",
            S.GEN_AI_USAGE_INPUT_TOKENS: 9,
            S.USAGE_SOURCE: S.USAGE_SOURCE_ESTIMATED,
        }),
        _span("03" * 8, "01" * 8, "chat gpt-4o-mini", 2, **{
            S.GEN_AI_OPERATION_NAME: S.OP_CHAT,
            S.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            S.GEN_AI_USAGE_INPUT_TOKENS: 1200,
            S.GEN_AI_USAGE_OUTPUT_TOKENS: 35,
            S.USAGE_SOURCE: S.USAGE_SOURCE_PROVIDER,
        }),
    ]  # fmt: skip
    lines = render_trace(spans).splitlines()
    assert lines[1].split() == ["retrieval", "handbook", "5.0ms", "top_k", "3", "docs", "2"]
    assert lines[2].endswith("1.0ms  in ≈9")
    assert lines[3].endswith("2.0ms  in 1,200 out 35")


APP = """
import sys
from genai_trace_core import configure
providers = configure(service_name="shared-terminal", jsonl_path="")
tracer = providers.tracer_provider.get_tracer("app")
print("A (streamed): Items can", end="", flush=True)
with tracer.start_as_current_span("invoke_workflow rag"):
    pass
print(" be returned.", flush=True)
providers.shutdown()
"""


def test_the_tree_never_continues_a_line_the_app_left_open(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", APP],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, as on a terminal
        cwd=tmp_path,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == "A (streamed): Items can"
    assert lines[1].startswith("trace ") and " · shared-terminal · 1 span · " in lines[1]
    assert lines[2].startswith("invoke_workflow rag")
    assert lines[-1] == " be returned."


def test_with_separate_destinations_the_tree_is_written_as_is(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", APP],
        capture_output=True,
        cwd=tmp_path,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "A (streamed): Items can be returned.\n"
    assert done.stderr.startswith("trace ")


@pytest.mark.parametrize("jsonl", ["off", "custom.jsonl"])
def test_the_genai_trace_span_exporter_prints_the_tree_and_follows_genai_trace_jsonl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], jsonl: str
) -> None:
    from importlib.metadata import entry_points

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENAI_TRACE_JSONL", jsonl)
    (entry,) = entry_points(group="opentelemetry_traces_exporter", name="genai_trace")
    exporter = entry.load()()  # what the SDK's auto-configuration does
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("app")
    with (
        tracer.start_as_current_span("invoke_agent helper"),
        tracer.start_as_current_span("chat gpt-4o"),
    ):
        pass
    provider.shutdown()
    err = capsys.readouterr().err
    assert "invoke_agent helper" in err and "└── chat gpt-4o" in err
    written = tmp_path / "custom.jsonl"
    if jsonl == "off":
        assert list(tmp_path.iterdir()) == []
    else:
        names = [json.loads(line)["name"] for line in written.read_text().splitlines()]
        assert names == ["chat gpt-4o", "invoke_agent helper"]

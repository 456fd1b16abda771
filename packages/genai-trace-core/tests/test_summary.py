"""cost_summary: one per-model table for any finished spans, SDK spans or JSONL records alike."""

from __future__ import annotations

import pytest

from genai_trace_core import Operation, OperationKind, Outcome, Usage, compute_cost, cost_summary
from genai_trace_core.testing import OTelHarness
from genai_trace_core.view import SpanView


def test_cost_summary_sums_inference_spans_per_model_and_skips_invocations(
    otel: OTelHarness,
) -> None:
    t = otel.telemetry()
    for i in range(2):
        t.start(("wf", i), Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
        t.start(
            ("c", i),
            Operation(OperationKind.CHAT, provider="openai", request_model="gpt-4o"),
            parent_run_id=("wf", i),
        )
        t.end(("c", i), Outcome(raw_usage=Usage(input_tokens=1000, output_tokens=100)))
        t.end(("wf", i))
    text = cost_summary(otel.spans())
    lines = text.splitlines()
    assert lines[0] == "Cost summary (2 traces, 4 spans)"
    row = next(line for line in lines if line.strip().startswith("gpt-4o "))
    cost = compute_cost("gpt-4o", "openai", Usage(input_tokens=1000, output_tokens=100))
    assert cost is not None
    assert row.split()[1:5] == ["2", "2,000", "0", "200"]
    assert float(row.split()[-1].lstrip("$")) == pytest.approx(2 * cost.total_usd)
    # the same spans as JSONL records (what `genai-trace view` reads) give the same table
    records = [SpanView.from_sdk(s).to_dict() for s in otel.spans()]
    assert cost_summary(records) == text


def test_cost_summary_without_model_calls_says_so() -> None:
    assert cost_summary([]) == "No model calls were traced."

"""Faults inside the process: a provider shut down mid-run, no tokenizer, no price, bad usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reliability_support import otlp_bytes

from genai_trace_core import Operation, OperationKind, Outcome, semconv
from genai_trace_core.testing import OTelHarness
from genai_trace_core.usage import _tokens


def _chat(model: str = "gpt-4o-mini", **kw: Any) -> Operation:
    return Operation(OperationKind.CHAT, provider="openai", request_model=model, **kw)


def test_tracer_provider_shut_down_mid_run_breaks_nothing(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("wf", Operation(OperationKind.INVOKE_WORKFLOW, name="rag"))
    t.start("chat", _chat(), parent_run_id="wf")
    otel.tracer_provider.shutdown()
    t.chunk("chat")
    t.end("chat", Outcome(raw_usage={"prompt_tokens": 1, "completion_tokens": 2}))
    t.start("tool", Operation(OperationKind.EXECUTE_TOOL, name="search"), parent_run_id="wf")
    t.fail("tool", ValueError("boom"))
    t.end("wf")
    assert t.open_count() == 0
    t.start("after", _chat())
    t.end("after")
    assert t.open_count() == 0
    assert otel.spans() == []  # the exporter is shut down: nothing is exported, nothing raises


@pytest.fixture
def no_tiktoken() -> Iterator[None]:
    def unavailable(name: str) -> Any:
        raise OSError(f"cannot download {name}: offline")

    saved = _tokens._loader
    _tokens._loader = unavailable
    _tokens._reset_for_tests()
    try:
        yield
    finally:
        _tokens._loader = saved
        _tokens._reset_for_tests()


def test_missing_tiktoken_encoding_falls_back_to_the_heuristic(
    otel: OTelHarness, no_tiktoken: None
) -> None:
    t = otel.telemetry()
    t.start("chat", _chat(estimate_input=lambda: ["x" * 10, "y" * 3]))
    t.end("chat", Outcome(estimate_output=lambda: ["z" * 9]))
    (span,) = otel.span_dicts()
    assert {k: v for k, v in span["attributes"].items() if "usage" in k} == {
        semconv.USAGE_ESTIMATED_INPUT_TOKENS: 3 + 1,  # ceil(10/4) + ceil(3/4)
        semconv.USAGE_ESTIMATED_OUTPUT_TOKENS: 3,
        semconv.USAGE_SOURCE: semconv.USAGE_SOURCE_ESTIMATED,
        semconv.USAGE_ESTIMATOR: _tokens.HEURISTIC,
    }


def test_model_unknown_to_genai_prices_gets_usage_but_no_cost(otel: OTelHarness) -> None:
    t = otel.telemetry()
    t.start("chat", _chat("no-such-model-2099"))
    t.end("chat", Outcome(raw_usage={"prompt_tokens": 10, "completion_tokens": 4}))
    (span,) = otel.span_dicts()
    assert span["status"] == "UNSET"
    attrs = span["attributes"]
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 4
    assert not [k for k in attrs if k.startswith("genai_trace.cost")]
    assert semconv.METRIC_COST not in otel.metrics()


class Raising:
    @property
    def prompt_tokens(self) -> int:
        raise RuntimeError("property exploded")


def _cyclic_usage() -> dict[str, Any]:
    d: dict[str, Any] = {"usage": {}}
    d["usage"]["usage"] = d
    return d


MALFORMED: dict[str, Any] = {
    "strings": {"prompt_tokens": "many", "completion_tokens": "7"},
    "negative": {"prompt_tokens": -3, "completion_tokens": -1},
    "huge": {"prompt_tokens": 2**80, "completion_tokens": 10**30},
    "nan and inf": {"input_tokens": float("nan"), "output_tokens": float("inf")},
    "floats": {"prompt_tokens": 2.5, "completion_tokens": 1e300},
    "bools": {"prompt_tokens": True, "completion_tokens": False},
    "raising property": Raising(),
    "cyclic": _cyclic_usage(),
    "list": [1, 2, 3],
    "nested junk": {"usage_metadata": {"input_tokens": None, "output_tokens": [1]}},
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_provider_usage_is_ignored_not_exported(otel: OTelHarness, case: str) -> None:
    t = otel.telemetry()
    t.start("chat", _chat())
    t.end("chat", Outcome(raw_usage=MALFORMED[case], response_model="gpt-4o-mini"))
    assert t.open_count() == 0
    (span,) = otel.span_dicts()
    assert span["status"] == "UNSET"
    for key, value in span["attributes"].items():
        if key.startswith("gen_ai.usage."):
            assert isinstance(value, int) and not isinstance(value, bool)
            assert 0 <= value < 2**63, (key, value)
    otlp_bytes(otel.spans())

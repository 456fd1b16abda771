"""Merging usages sums counts and modalities (None as zero) and flags a merge with an estimate as
estimated."""

from __future__ import annotations

from genai_trace_core.records import Usage
from genai_trace_core.usage import merge_usage


def test_merge_sums_counts_and_modalities_and_keeps_none_as_zero() -> None:
    a = Usage(input_tokens=10, output_tokens=1, modalities={"audio": {"input_tokens": 2}})
    b = Usage(output_tokens=4, reasoning_output_tokens=3, modalities={"audio": {"input_tokens": 5}})
    assert merge_usage(a, b) == Usage(
        input_tokens=10,
        output_tokens=5,
        reasoning_output_tokens=3,
        modalities={"audio": {"input_tokens": 7}},
    )
    assert a.modalities == {"audio": {"input_tokens": 2}}  # inputs are not mutated
    assert merge_usage(None, b) is b
    assert merge_usage(a, None) is a
    assert merge_usage(None, None) is None


def test_merge_with_an_estimate_is_flagged_estimated() -> None:
    merged = merge_usage(
        Usage(input_tokens=1),
        Usage(output_tokens=2, source="estimated", estimator="o200k_base"),
    )
    assert merged == Usage(
        input_tokens=1, output_tokens=2, source="estimated", estimator="o200k_base"
    )

"""Usage normalisation never raises: garbage gives None, malformed fields give a partial usage,
self-referencing payloads terminate."""

from __future__ import annotations

from typing import Any

import pytest

from genai_trace_core.records import Usage
from genai_trace_core.usage import normalize_usage


class _Exploding:
    @property
    def usage(self) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "prompt_tokens=5",
        b"bytes",
        42,
        3.5,
        [],
        {},
        {"total_tokens": 10},
        {"usage": None},
        {"usage": "n/a"},
        {"prompt_tokens": "12", "completion_tokens": "x"},
        {"prompt_tokens": -5, "completion_tokens": -1},
        {"input_tokens": float("nan"), "output_tokens": float("inf")},
        {"input_tokens": True, "output_tokens": False},
        object(),
        _Exploding(),
    ],
    ids=repr,
)
def test_garbage_gives_none_and_never_raises(payload: Any) -> None:
    assert normalize_usage(payload) is None


def test_malformed_fields_give_a_partial_usage() -> None:
    assert normalize_usage(
        {
            "prompt_tokens": 10,
            "completion_tokens": -3,
            "prompt_tokens_details": "oops",
            "completion_tokens_details": {"reasoning_tokens": "many"},
        }
    ) == Usage(input_tokens=10)
    assert normalize_usage({"prompt_tokens": 10.0, "completion_tokens": 2.5}) == Usage(
        input_tokens=10
    )


def test_self_referencing_payload_terminates() -> None:
    loop: dict[str, Any] = {}
    loop["usage"] = {"raw": loop}
    assert normalize_usage(loop) is None

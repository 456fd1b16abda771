"""``log_once``/``safe``: the debug line names the exception's type and where it was raised, never
its message (an exception raised over the user's objects may quote their content)."""

from __future__ import annotations

import logging

import pytest

from genai_trace_core import _safe
from genai_trace_core._safe import safe

MARKER = "the user's answer sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"


@safe(default="fallback")
def _mapping(value: dict[str, str]) -> str:
    return value[MARKER]


def test_a_failing_entry_point_logs_type_and_place_not_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _safe._logged.clear()
    caplog.set_level(logging.DEBUG, logger="genai_trace")
    assert _mapping({}) == "fallback"
    assert _mapping({}) == "fallback"  # once
    [record] = [r for r in caplog.records if r.name == "genai_trace"]
    text = caplog.text
    assert MARKER not in text and "sk-proj" not in text
    assert record.exc_info is None
    assert "builtins.KeyError (message not logged), raised at:" in record.getMessage()
    assert "test_safe_log_no_message.py" in record.getMessage()

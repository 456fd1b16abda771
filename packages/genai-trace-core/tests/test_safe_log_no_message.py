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


class _Failing(logging.Handler):
    """A log handler that raises as logging does near the recursion limit (it re-raises a
    ``RecursionError`` from ``emit``)."""

    def emit(self, record: logging.LogRecord) -> None:
        raise RecursionError("maximum recursion depth exceeded")


def test_a_log_call_that_raises_never_leaves_the_except_block() -> None:
    """With DEBUG on and a low recursion limit, the debug line of a failing entry point raised a
    ``RecursionError`` into the framework calling it (until 2026-12-07)."""
    _safe._logged.clear()
    logger = logging.getLogger("genai_trace")
    level, failing = logger.level, _Failing()
    logger.addHandler(failing)
    logger.setLevel(logging.DEBUG)
    try:
        assert _mapping({}) == "fallback"
        _safe.warn_once("test-key", "genai-trace: cannot write %s", "a file")
    finally:
        logger.removeHandler(failing)
        logger.setLevel(level)
        _safe._logged.clear()

"""The ``genai-trace`` command (``view``, ``price``, ``demo``)."""

from __future__ import annotations

from genai_trace_core.cli._main import main

__all__ = ["main"]

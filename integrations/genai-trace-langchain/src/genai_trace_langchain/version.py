from __future__ import annotations

__version__ = "0.1.0"
# The instrumentation scope of every span, metric and log record this package emits: its import
# name, as OpenTelemetry instrumentations name theirs.
SCOPE_NAME = "genai_trace_langchain"

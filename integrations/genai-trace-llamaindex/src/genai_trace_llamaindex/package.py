"""The instrumented library, for ``opentelemetry-instrumentation``'s dependency check."""

from __future__ import annotations

_instruments = ("llama-index-core >= 0.12.37",)

"""What ``LangChainInstrumentor`` instruments (checked by ``opentelemetry-instrument``)."""

from __future__ import annotations

_instruments = ("langchain-core >= 1.0.0",)

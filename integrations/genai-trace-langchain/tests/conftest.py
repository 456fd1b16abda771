from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler


@pytest.fixture
def handler(otel: OTelHarness) -> OpenTelemetryCallbackHandler:
    """A handler on the in-memory harness, content off."""
    return OpenTelemetryCallbackHandler(telemetry=otel.telemetry())


@pytest.fixture
def make_handler(otel: OTelHarness) -> Iterator[Any]:
    def make(**overrides: Any) -> OpenTelemetryCallbackHandler:
        return OpenTelemetryCallbackHandler(telemetry=otel.telemetry(**overrides))

    yield make


def shape(nodes: list[dict[str, Any]]) -> list[Any]:
    """``[name, kind, status, [children...]]`` for whole-tree assertions."""
    return [[n["name"], n["kind"], n["status"], shape(n["children"])] for n in nodes]


@pytest.fixture
def instrumented(otel: OTelHarness) -> Iterator[Any]:
    """``LangChainInstrumentor`` active on the harness; always uninstrumented afterwards."""
    from genai_trace_langchain import LangChainInstrumentor

    inst = LangChainInstrumentor()
    inst.instrument(telemetry=otel.telemetry())
    try:
        yield inst
    finally:
        inst.uninstrument()

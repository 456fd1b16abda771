from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from lifecycle_checks import Lifecycle, watch

from genai_trace_core.testing import OTelHarness
from genai_trace_langchain import OpenTelemetryCallbackHandler

if TYPE_CHECKING:
    from openai_wire import OpenAIWire


@pytest.fixture
def handler(otel: OTelHarness) -> OpenTelemetryCallbackHandler:
    """A handler on the in-memory harness, content off."""
    return OpenTelemetryCallbackHandler(telemetry=otel.telemetry())


@pytest.fixture
def make_handler(otel: OTelHarness) -> Iterator[Any]:
    def make(**overrides: Any) -> OpenTelemetryCallbackHandler:
        return OpenTelemetryCallbackHandler(telemetry=otel.telemetry(**overrides))

    yield make


@pytest.fixture(params=["handler", "instrumentor"])
def enabled(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The run config of each way to enable: a handler per call, or the instrumentor (``{}``)."""
    if request.param == "handler":
        return {"callbacks": [request.getfixturevalue("handler")]}
    request.getfixturevalue("instrumented")
    return {}


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


@pytest.fixture
async def clients() -> AsyncIterator[Any]:
    """``clients(wire)`` -> (sync, async) httpx clients on the wire; all closed afterwards."""
    opened: list[tuple[httpx.Client, httpx.AsyncClient]] = []

    def make(wire: OpenAIWire) -> tuple[httpx.Client, httpx.AsyncClient]:
        pair = (wire.client(), wire.async_client())
        opened.append(pair)
        return pair

    yield make
    for sync, async_ in opened:
        sync.close()
        await async_.aclose()


@pytest.fixture
def lifecycle(otel: OTelHarness) -> Iterator[Lifecycle]:
    """Spans started vs ended on the harness provider, and OpenTelemetry's warnings and errors."""
    life, handler = watch(otel)
    try:
        yield life
    finally:
        logging.getLogger("opentelemetry").removeHandler(handler)

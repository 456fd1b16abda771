from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from li_lifecycle import Lifecycle, watched
from li_support import DOCS, Instrument
from llama_index.core import Settings as LISettings
from llama_index.core import VectorStoreIndex

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.testing import OTelHarness
from genai_trace_llamaindex import LlamaIndexInstrumentor
from genai_trace_llamaindex.testing import DeterministicEmbedding, DeterministicLLM


@pytest.fixture(autouse=True)
def _models() -> Iterator[None]:
    LISettings.llm = DeterministicLLM()
    LISettings.embed_model = DeterministicEmbedding()
    yield
    LISettings.llm = None  # type: ignore[assignment]
    LISettings.embed_model = None  # type: ignore[assignment]
    LISettings.callback_manager = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _close_llama_index_event_loop() -> Iterator[None]:
    """LlamaIndex's sync paths create a main-thread event loop they never close; close it after
    each test so it is not reported as unclosed during a later test (not a genai-trace issue)."""
    yield
    if asyncio._get_running_loop() is not None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def index() -> VectorStoreIndex:
    """Built before instrumenting, so tests see only the query."""
    idx = VectorStoreIndex.from_documents(DOCS)
    idx.set_index_id("capitals")
    return idx


@pytest.fixture
def instrument(otel: OTelHarness) -> Iterator[Instrument]:
    instrumentor = LlamaIndexInstrumentor()

    def run(**overrides: Any) -> LlamaIndexInstrumentor:
        verbose = overrides.pop("verbose", False)
        if isinstance(overrides.get("capture_mode"), str):
            overrides["capture_mode"] = CaptureMode(overrides["capture_mode"])
        instrumentor.instrument(
            tracer_provider=otel.tracer_provider,
            meter_provider=otel.meter_provider,
            logger_provider=otel.logger_provider,
            settings=Settings().with_overrides(**overrides),
            verbose=verbose,
            clock=otel.clock,
        )
        return instrumentor

    yield run
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def lifecycle(otel: OTelHarness) -> Iterator[Lifecycle]:
    """Every span that starts must end, and OpenTelemetry must log no warning: call ``check()``."""
    yield from watched(otel)

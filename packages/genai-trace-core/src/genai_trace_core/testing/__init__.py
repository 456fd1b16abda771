"""Test helpers for every genai-trace package: in-memory exporters, deterministic ids and clock,
span trees as dicts, and a guard that fails a test on any OpenTelemetry context error.

Loaded as a pytest plugin (``-p genai_trace_core.testing``); it needs ``opentelemetry-sdk``.
Nobody copies these fixtures: import them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from genai_trace_core.testing._harness import InMemoryLogRecordExporter, OTelHarness
from genai_trace_core.testing._ids import FakeClock, IncrementalIdGenerator
from genai_trace_core.testing._provider_fixtures import (
    PROVIDER_INSTRUMENTATIONS,
    ProviderInstrumentation,
    provider_instrumentation,
    provider_instrumented,
)
from genai_trace_core.testing._snapshots import normalised_attributes, snapshot_dicts
from genai_trace_core.testing._trees import span_tree, spans_as_dicts, tree_shape, walk_tree

__all__ = [
    "InMemoryLogRecordExporter",
    "FakeClock",
    "IncrementalIdGenerator",
    "OTelHarness",
    "context_error_guard",
    "normalised_attributes",
    "otel",
    "PROVIDER_INSTRUMENTATIONS",
    "ProviderInstrumentation",
    "provider_instrumentation",
    "provider_instrumented",
    "snapshot_dicts",
    "span_tree",
    "spans_as_dicts",
    "tree_shape",
    "walk_tree",
]


class _ContextErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def otel() -> Iterator[OTelHarness]:
    """Fresh in-memory SDK providers with deterministic ids and clock."""
    harness = OTelHarness()
    try:
        yield harness
    finally:
        harness.shutdown()


@pytest.fixture(autouse=True)
def context_error_guard() -> Iterator[_ContextErrorCollector]:
    """Fail the test if OpenTelemetry logs any context error ("Failed to detach context")."""
    collector = _ContextErrorCollector()
    log = logging.getLogger("opentelemetry.context")
    log.addHandler(collector)
    try:
        yield collector
    finally:
        log.removeHandler(collector)
    if collector.records:
        msgs = "; ".join(r.getMessage() for r in collector.records)
        pytest.fail(f"OpenTelemetry context errors were logged: {msgs}")

"""Fixtures shared by core's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from genai_trace_core import semconv as S
from genai_trace_core.testing import IncrementalIdGenerator


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    tp = TracerProvider(
        resource=Resource.create({S.SERVICE_NAME: "support-bot"}),
        id_generator=IncrementalIdGenerator(),
        shutdown_on_exit=False,
    )
    yield tp
    tp.shutdown()

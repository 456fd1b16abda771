"""Provider instrumentations (OpenAI SDK) that tests run beside ours, to prove one span and one
token count per model call. Part of :mod:`genai_trace_core.testing`; needs the SDK."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from genai_trace_core.testing._harness import OTelHarness


@dataclass(frozen=True)
class ProviderInstrumentation:
    """An OpenAI provider instrumentation: where its ``OpenAIInstrumentor`` lives, the scope
    of what it emits, and the names of its chat and embeddings spans for our test models."""

    module: str
    scope: str
    chat_span: str
    embeddings_span: str
    # suppressed, it still hands what it saw of the call to our run (util-genai): usage, and the
    # response id, model and finish reasons
    publishes_usage: bool


PROVIDER_INSTRUMENTATIONS = {
    # built on opentelemetry-util-genai
    "genai-openai": ProviderInstrumentation(
        "opentelemetry.instrumentation.genai.openai",
        "opentelemetry.instrumentation.genai.openai",
        "chat gpt-4o-mini",
        "embeddings text-embedding-3-small",
        publishes_usage=True,
    ),
    # OpenLLMetry's
    "openllmetry-openai": ProviderInstrumentation(
        "opentelemetry.instrumentation.openai",
        "opentelemetry.instrumentation.openai.v1",
        "openai.chat",
        "openai.embeddings",
        publishes_usage=False,
    ),
}


def _unwrap_leftovers(module_prefix: str) -> None:
    """Undo what an instrumentation's ``uninstrument`` left wrapped on the OpenAI SDK's classes
    (OpenLLMetry 0.62 keeps ``AsyncCompletions.create`` wrapped): a later test must not send
    spans to this test's providers, long shut down."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("openai."):
            continue
        for cls in list(vars(module).values()):
            if not isinstance(cls, type) or cls.__module__ != name:
                continue
            for attr, value in list(vars(cls).items()):
                wrapper = getattr(value, "_self_wrapper", None)
                if str(getattr(wrapper, "__module__", "")).startswith(module_prefix):
                    setattr(cls, attr, value.__wrapped__)


@contextlib.contextmanager
def provider_instrumented(otel: OTelHarness, name: str) -> Iterator[ProviderInstrumentation]:
    """Instrument the named provider instrumentation on ``otel``'s providers for the block
    (the test is skipped where it is not installed)."""
    spec = PROVIDER_INSTRUMENTATIONS[name]
    with contextlib.ExitStack() as stack:
        with warnings.catch_warnings():
            # OpenLLMetry's instrument() imports pydantic v1-style config classes: its warning.
            warnings.filterwarnings("ignore", message="Support for class-based `config`")
            module = pytest.importorskip(spec.module)
            stack.callback(_unwrap_leftovers, spec.module)
            stack.enter_context(otel.instrumented(module.OpenAIInstrumentor()))
        yield spec


@pytest.fixture(params=sorted(PROVIDER_INSTRUMENTATIONS))
def provider_instrumentation(
    request: pytest.FixtureRequest, otel: OTelHarness
) -> Iterator[ProviderInstrumentation]:
    """Each known provider instrumentation in turn, on the ``otel`` harness's providers."""
    with provider_instrumented(otel, request.param) as spec:
        yield spec

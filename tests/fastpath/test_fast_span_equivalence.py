"""The fast span, driven through the OpenTelemetry API, exports what the SDK's span exports.

Any sequence of API calls on a span (attributes of every kind, re-set keys, events, exceptions,
status, renames, links, writes after end), under span limits, nested with SDK spans, exports the
same finished spans (field by field and as OTLP bytes) through SDK spans and through the fast path.
And the fast path steps aside (SDK spans) when it must: forced off, a custom sampler, a tracer its
provider disabled, ``OTEL_SDK_DISABLED``, a provider that is not the SDK's.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastpath_support import Providers, SpreadIds, assert_equivalent, both
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, StatusCode

from genai_trace_core.export import fast_tracer

KEYS: Any = st.sampled_from(["a", "b", "gen_ai.x", "", 7])  # 7: a key of the wrong type
SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
)
VALUES = st.one_of(
    SCALARS,
    st.none(),
    st.lists(st.text(max_size=4), max_size=3),
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.lists(st.text(max_size=12), max_size=3).map(tuple),  # kept as is when short enough
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, VALUES),
        st.tuples(st.just("set_many"), st.dictionaries(KEYS, VALUES, max_size=4)),
        st.tuples(st.just("event"), st.text(max_size=5), st.dictionaries(KEYS, SCALARS)),
        st.tuples(st.just("exception"), st.text(max_size=5)),
        st.tuples(st.just("status"), st.sampled_from(list(StatusCode)), st.text(max_size=5)),
        st.tuples(st.just("rename"), st.text(min_size=1, max_size=5)),
        st.tuples(st.just("link")),
        st.tuples(st.just("child")),
    ),
    max_size=12,
)
LIMITS = st.sampled_from(
    [
        None,
        SpanLimits(max_span_attributes=3, max_span_attribute_length=4, max_events=2),
        SpanLimits(max_attributes=0, max_event_attributes=1, max_links=0),
    ]
)


def _tracer(p: Providers, *, expect_fast: bool = True) -> trace_api.Tracer:
    """Our scope's tracer: the fast one unless this run forces SDK spans."""
    sdk = p.tracer_provider.get_tracer("genai_trace", "0.1.0", "https://opentelemetry.io/s")
    fast = fast_tracer(sdk)
    if fast is None:
        return sdk
    assert expect_fast
    return fast


def _apply(span: trace_api.Span, tracer: trace_api.Tracer, op: tuple[Any, ...]) -> None:
    match op:
        case ("set", key, value):
            span.set_attribute(key, value)
        case ("set_many", attributes):
            span.set_attributes(attributes)
        case ("event", name, attributes):
            span.add_event(name, attributes)
        case ("exception", message):
            span.record_exception(ValueError(message), {"extra": 1})
        case ("status", code, description):
            span.set_status(code, description)
        case ("rename", name):
            span.update_name(name)
        case ("link",):
            span.add_link(span.get_span_context(), {"why": "self"})
        case ("child",):
            ctx = trace_api.set_span_in_context(span)
            with trace_api.use_span(span), tracer.start_as_current_span("child") as child:
                child.set_attribute("k", 1)
            tracer.start_span("sibling", context=ctx, kind=SpanKind.CLIENT).end()


@settings(max_examples=60, deadline=None)
@given(ops=OPS, after_end=OPS, limits=LIMITS, initial=st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_api_calls_export_the_same_spans(
    ops: list[tuple[Any, ...]],
    after_end: list[tuple[Any, ...]],
    limits: SpanLimits | None,
    initial: dict[str, Any],
) -> None:
    def program(p: Providers) -> None:
        tracer = _tracer(p)
        with p.user_tracer().start_as_current_span("app"):
            span = tracer.start_span("ours", attributes=initial, kind=SpanKind.CLIENT)
            for op in ops:
                _apply(span, tracer, op)
            span.end()
            for op in after_end:  # ignored (and warned about) by both
                if op[0] != "child":
                    _apply(span, tracer, op)
            span.end()

    sdk, fast = both(program, limits=limits)
    assert_equivalent(sdk, fast)
    assert "FastSpan" in fast.started


class DropsChildren(Sampler):
    """A sampler that decides per span (by name): not one the fast path knows."""

    def should_sample(self, parent: Any, trace_id: int, name: str, *a: Any, **k: Any) -> Any:
        decision = Decision.DROP if name == "child" else Decision.RECORD_AND_SAMPLE
        return SamplingResult(decision, {"sampled.by": "name"})

    def get_description(self) -> str:
        return "DropsChildren"


def _nested(p: Providers) -> None:
    tracer = _tracer(p, expect_fast=True)
    for _ in range(6):  # several traces: a ratio sampler keeps some, drops others
        with tracer.start_as_current_span("root", attributes={"n": 1}) as root:
            p.inject()
            with tracer.start_as_current_span("child"):
                p.inject()
                with p.user_tracer().start_as_current_span("provider call"):
                    p.inject()
            root.set_attribute("done", True)


@pytest.mark.parametrize(
    "sampler",
    [ALWAYS_ON, ALWAYS_OFF, ParentBased(TraceIdRatioBased(0.5)), TraceIdRatioBased(0.5)],
    ids=["always_on", "always_off", "parent_based_ratio", "ratio"],
)
def test_samplers_decide_the_same_and_propagate_the_same_headers(sampler: Sampler) -> None:
    sdk, fast = both(_nested, sampler=sampler)
    assert_equivalent(sdk, fast)
    assert len(sdk.headers) == 18
    if sampler is ALWAYS_ON:
        assert fast.started.count("FastSpan") == 12
    if isinstance(sampler, ParentBased):  # some traces kept, some dropped
        assert 0 < len(fast.spans) < 18


def test_a_custom_sampler_keeps_sdk_spans() -> None:
    def program(p: Providers) -> None:
        assert fast_tracer(p.tracer_provider.get_tracer("genai_trace")) is None
        _nested(p)

    sdk, fast = both(program, sampler=DropsChildren())
    assert_equivalent(sdk, fast)
    assert "FastSpan" not in fast.started and fast.spans


def test_links_and_a_disabled_tracer_get_sdk_spans() -> None:
    def program(p: Providers) -> None:
        tracer = _tracer(p)
        with tracer.start_as_current_span("root") as root:
            link = Link(root.get_span_context(), {"k": "v"})
            tracer.start_span("linked", links=[link]).end()

    sdk, fast = both(program)
    assert_equivalent(sdk, fast)
    assert fast.started == ["FastSpan", "_Span"]


def test_the_environment_switch_and_other_providers_keep_sdk_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = TracerProvider(id_generator=SpreadIds(), shutdown_on_exit=False)
    assert fast_tracer(provider.get_tracer("genai_trace")) is not None
    monkeypatch.setenv("GENAI_TRACE_SDK_SPANS", "1")
    assert fast_tracer(provider.get_tracer("genai_trace")) is None
    monkeypatch.delenv("GENAI_TRACE_SDK_SPANS")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    disabled = TracerProvider(shutdown_on_exit=False)
    assert fast_tracer(disabled.get_tracer("genai_trace")) is None
    assert fast_tracer(trace_api.NoOpTracerProvider().get_tracer("genai_trace")) is None


def test_a_proxy_tracer_turns_fast_once_a_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", None)
    proxy = trace_api.ProxyTracer("genai_trace", "0.1.0")
    tracer = fast_tracer(proxy)
    assert tracer is not None
    assert not tracer.start_span("before").is_recording()  # no provider yet: no-op, as the proxy
    provider = TracerProvider(shutdown_on_exit=False)
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", provider)
    span = tracer.start_span("after")
    assert type(span).__name__ == "FastSpan" and span.is_recording()
    span.end()
    assert not span.is_recording()


def test_lifecycle_gets_the_fast_tracer_and_the_sdk_tracer_when_a_wrapper_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from genai_trace_core.lifecycle import _tracers

    provider = TracerProvider(shutdown_on_exit=False)
    tracer = _tracers.get_tracer("genai_trace", "0.1.0", provider, "https://opentelemetry.io/s")
    assert type(tracer).__name__ == "FastTracer"

    def broken(_: trace_api.Tracer) -> trace_api.Tracer | None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_tracers, "_wrappers", [broken, *_tracers._wrappers])
    tracer = _tracers.get_tracer("genai_trace", "0.1.0", provider, "https://opentelemetry.io/s")
    assert type(tracer).__name__ == "FastTracer"  # the next wrapper still offered the tracer
    monkeypatch.setattr(_tracers, "_wrappers", [broken])
    tracer = _tracers.get_tracer("genai_trace", "0.1.0", provider, "https://opentelemetry.io/s")
    assert type(tracer) is SdkTracer  # the provider's own tracer, as without any wrapper


def test_the_sdks_own_span_metrics_keep_sdk_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("genai_trace")
    counted = type(getattr(tracer, "_tracer_metrics", None)).__name__ == "TracerMetrics"  # >= 1.40
    assert (fast_tracer(tracer) is None) is counted

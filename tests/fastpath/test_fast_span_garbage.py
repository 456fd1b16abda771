"""What a finished fast span keeps for the garbage collector while it waits to be exported.

A span in a batch processor's queue lives until its batch is exported; each object of it the
collector tracks and that outlives a young collection is promoted, and enough promotions start a
full collection of the whole process (``python -m tests.benchmarks._gc_tail`` measures it). A
finished fast span shares its ``TraceFlags`` with every other span (the SDK makes one per span
with the random-trace-id bit) and its ended attributes share one lock (the SDK's constructor
makes one per span): two tracked objects fewer per queued span. Its attributes still behave as
an ended SDK span's.
"""

from __future__ import annotations

import copy

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from genai_trace_core.export import _fast_span, fast_tracer

# No limit read from the environment: every attribute here stays as the SDK keeps it.
_UNLIMITED = SpanLimits(
    max_span_attributes=128,
    max_span_attribute_length=SpanLimits.UNSET,
    max_attributes=128,
    max_attribute_length=SpanLimits.UNSET,
)


def _finished(limits: SpanLimits | None = None, *, fast: bool = True) -> list[ReadableSpan]:
    """A root and two children (plain attributes), ended, as the exporter received them."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=limits, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sdk = provider.get_tracer("genai_trace", "0.1.0")
    tracer = fast_tracer(sdk) if fast else sdk
    assert tracer is not None
    root = tracer.start_span("root", attributes={"gen_ai.operation.name": "chat", "n": 1})
    ctx = trace_api.set_span_in_context(root)
    for i in range(2):
        child = tracer.start_span(f"step {i}", context=ctx, attributes={"k": "value", "i": i})
        child.set_attribute("later", 2.5)
        child.end()
    root.end()
    return list(exporter.get_finished_spans())


_SDK_CONSTRUCTOR_ONLY = pytest.mark.skipif(
    not _fast_span._BOUNDED_NEW_OK,
    reason="this SDK's BoundedAttributes has other fields (older SDKs): ended attributes are "
    "built by its constructor, with a lock of their own",
)


def test_finished_spans_share_their_trace_flags() -> None:
    first, second, root = _finished(_UNLIMITED)
    assert first.context.trace_flags is second.context.trace_flags is root.context.trace_flags
    assert first.context.trace_flags.sampled


@_SDK_CONSTRUCTOR_ONLY
def test_ended_attributes_share_one_lock_and_hold_only_the_sdks_fields() -> None:
    first, second, root = _finished(_UNLIMITED)
    for span in (first, second, root):
        assert type(span._attributes) is BoundedAttributes
        assert frozenset(vars(span._attributes)) == _fast_span._BOUNDED_FIELDS
    locks = {id(span._attributes._lock) for span in (first, second, root)}  # type: ignore[union-attr]
    assert len(locks) == 1


@pytest.mark.parametrize(
    "new_ok",
    [pytest.param(True, marks=_SDK_CONSTRUCTOR_ONLY), False],
    ids=["built-directly", "sdk-constructor"],
)
@pytest.mark.parametrize(
    "limits",
    [_UNLIMITED, SpanLimits(max_span_attributes=5, max_span_attribute_length=10)],
    ids=["default-limits", "tight-limits"],
)
def test_ended_attributes_behave_as_the_sdks(
    monkeypatch: pytest.MonkeyPatch, new_ok: bool, limits: SpanLimits
) -> None:
    monkeypatch.setattr(_fast_span, "_BOUNDED_NEW_OK", new_ok)
    ours, theirs = _finished(limits), _finished(limits, fast=False)
    for fast, sdk in zip(ours, theirs, strict=True):
        a, b = fast._attributes, sdk._attributes
        assert type(a) is type(b)
        assert dict(a) == dict(b)  # type: ignore[arg-type]
        fields = ("maxlen", "max_value_len", "dropped")
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        if "__deepcopy__" in vars(type(a)):  # SDK >= 1.40 (older ones cannot copy their lock)
            copied = copy.deepcopy(a)
            assert dict(copied) == dict(a) and copied._immutable  # type: ignore[arg-type,union-attr]
        # immutable, as the SDK's own ended attributes are (1.39 leaves them mutable, unused)
        with pytest.raises(TypeError):
            a["x"] = 1  # type: ignore[index]
        with pytest.raises(TypeError):
            del a["k" if "k" in a else "n"]  # type: ignore[attr-defined]

"""What a finished fast span keeps for the garbage collector while it waits to be exported.

A span in a batch processor's queue lives until its batch is exported; each object of it the
collector tracks and that outlives a young collection is promoted, and enough promotions start a
full collection of the whole process (``python -m tests.benchmarks._gc_tail``). A finished fast
span keeps three such objects of its own: the ``ReadableSpan``, its ``BoundedAttributes`` and its
``SpanContext``; no lock and no ``TraceFlags`` per span (the SDK's span keeps both). Its
attributes still behave as an ended SDK span's.
"""

from __future__ import annotations

import copy
import gc
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from genai_trace_core.export import _fast_span, fast_tracer

_SHARED_TYPES = ("Resource", "InstrumentationScope", "SpanLimits", "module", "type")


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


def _reachable(obj: Any) -> dict[int, Any]:
    """Everything ``obj`` references, transitively, short of the objects every span shares."""
    seen: dict[int, Any] = {}
    stack = [obj]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen[id(x)] = x
        if type(x).__name__ not in _SHARED_TYPES:
            stack.extend(gc.get_referents(x))
    return seen


def _own_tracked(span: ReadableSpan, sibling: ReadableSpan) -> list[str]:
    """The collector-tracked objects ``span`` holds that its sibling does not share."""
    other = _reachable(sibling)
    own = [x for k, x in _reachable(span).items() if k not in other and gc.is_tracked(x)]
    return sorted(type(x).__name__ for x in own)


_SDK_CONSTRUCTOR_ONLY = pytest.mark.skipif(
    not _fast_span._BOUNDED_NEW_OK,
    reason="this SDK's BoundedAttributes has other fields (older SDKs): ended attributes are "
    "built by its constructor, with a lock of their own",
)


@_SDK_CONSTRUCTOR_ONLY
def test_a_finished_span_keeps_three_tracked_objects_of_its_own() -> None:
    first, second, _root = _finished()
    assert _own_tracked(first, second) == ["BoundedAttributes", "ReadableSpan", "SpanContext"]
    assert first.context.trace_flags is second.context.trace_flags
    assert first._attributes._lock is second._attributes._lock  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "new_ok",
    [pytest.param(True, marks=_SDK_CONSTRUCTOR_ONLY), False],
    ids=["built-directly", "sdk-constructor"],
)
@pytest.mark.parametrize(
    "limits",
    [None, SpanLimits(max_span_attributes=5, max_span_attribute_length=10)],
    ids=["default-limits", "tight-limits"],
)
def test_ended_attributes_behave_as_the_sdks(
    monkeypatch: pytest.MonkeyPatch, new_ok: bool, limits: SpanLimits | None
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

"""A small batch of spans that uses every field the OTLP span encoder writes.

:func:`~._otlp_exporter.fast_encoder_works` encodes it with both encoders once per process: an
SDK or protobuf version that encodes anything differently turns the fast encoder off.
"""

from __future__ import annotations

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceState
from opentelemetry.util.types import AnyValue

__all__ = ["probe_spans"]

_T0 = 1_700_000_000_000_000_000
_VALUES: dict[str, AnyValue] = {
    "s": "plain",
    "long": "x" * 200,
    "u": "naïve ☃ 中文 \U0001f600",
    "empty": "",
    "t": True,
    "f": False,
    "i": 42,
    "neg": -(2**63),
    "max": 2**63 - 1,
    "zero": 0,
    "d": 0.25,
    "nd": -0.0,
    "z": 0.0,
    "ss": ("a", "b"),
    "is": (1, -2, 3),
    "bs": (True, False),
    "ds": (1.5, -0.0),
    "none": (),
}


def probe_spans() -> list[ReadableSpan]:
    resource = Resource({"service.name": "probe", "n": 3, "t": ("x",)}, "https://schema/r")
    other = Resource({"service.name": "other"})
    scope = InstrumentationScope("genai_trace", "1.0", "https://schema/s", {"k": "v", "n": 1})
    bare = InstrumentationScope("bare")
    parent = SpanContext(1, 2, is_remote=True)
    context = SpanContext(
        2**128 - 1, 2**64 - 1, is_remote=False, trace_state=TraceState([("a", "1"), ("b", "x")])
    )
    limited = BoundedAttributes(attributes=dict(_VALUES), immutable=True)
    limited.dropped = 3  # as if limits had dropped some (without the SDK's warning per item)
    events = BoundedList.from_seq(None, [Event("e", {"e": 1}, _T0 + 1), Event("v", _VALUES, 1)])
    events.dropped = 2
    links = BoundedList.from_seq(
        None, [Link(SpanContext(5, 6, is_remote=False), {"l": "x"}), Link(parent, _VALUES)]
    )
    links.dropped = 1
    return [
        ReadableSpan(
            "everything ☃",
            context,
            parent,
            resource,
            limited,
            events,
            links,
            SpanKind.CLIENT,
            status=Status(StatusCode.ERROR, "bad ☃"),
            start_time=_T0,
            end_time=_T0 + 10,
            instrumentation_scope=scope,
        ),
        ReadableSpan(
            "plain",
            SpanContext(3, 4, is_remote=False),
            SpanContext(3, 5, is_remote=False),
            resource,
            dict(_VALUES),
            kind=SpanKind.SERVER,
            status=Status(StatusCode.OK),
            start_time=_T0,
            end_time=_T0 + 1,
            instrumentation_scope=bare,
        ),
        ReadableSpan(
            "",
            SpanContext(3, 6, is_remote=False),
            None,
            other,
            None,
            kind=SpanKind.INTERNAL,
            start_time=_T0,
            end_time=_T0,
            instrumentation_scope=scope,
        ),
        ReadableSpan("no scope", SpanContext(7, 8, is_remote=False), resource=resource),
    ]

"""The fast OTLP span encoder writes the very bytes the SDK's encoder writes.

``encode_request(spans)`` against ``encode_spans(spans).SerializePartialToString()`` of the
installed ``opentelemetry-exporter-otlp-proto-common`` (so on the lowest and the latest supported
versions), for random batches: attributes of every type (sequences, mappings, ``None``, bytes,
integers beyond int64, NaN and -0.0, non-ASCII text and lone surrogates), events, links, status,
kinds, parents, trace state, several resources and scopes (equal ones that are distinct objects
too), dropped counts. Where the fast encoder declines a batch, the exporter's encode step hands it
to the SDK: the result (bytes, or the SDK's own error) is still the SDK's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceState

from genai_trace_core.export._otlp_exporter import encode_or_sdk
from genai_trace_core.export._otlp_spans import encode_request


@pytest.fixture(autouse=True, scope="module")
def _quiet_sdk_encoder() -> Iterator[None]:
    """The SDK's encoder logs a traceback per attribute it skips: thousands here."""
    quiet = [logging.getLogger(n) for n in ("opentelemetry", "genai_trace")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.CRITICAL)
    yield
    for q, level in zip(quiet, levels, strict=True):
        q.setLevel(level)


_ODD_TEXT = ["", "naïve ☃ 中文 \U0001f600", "\ud800", "a\udfffb", "x" * 300]
_KEYS = ["gen_ai.operation.name", "k", "é", "\ud83d"]  # a few keys recur: the caches are hit
_INT64 = 2**63

texts = st.one_of(st.text(max_size=40), st.sampled_from(_ODD_TEXT))
# Values the fast encoder writes itself (exact str, bool, int64, float, bytes, tuples/lists).
plain_scalars = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "naïve ☃ 中文 \U0001f600", "x" * 300, "chat", "openai"]),
    st.booleans(),
    st.integers(-_INT64, _INT64 - 1),
    st.sampled_from([0, 1, -1, 127, 128, 16383, 16384, -_INT64, _INT64 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, math.nan]),
    st.binary(max_size=20),
)
plain_values = st.one_of(
    plain_scalars,
    st.lists(st.text(max_size=8), max_size=5).map(tuple),
    st.lists(st.integers(-_INT64, _INT64 - 1), max_size=4).map(tuple),
    st.lists(st.floats(), max_size=4),
    st.lists(st.booleans(), max_size=4).map(tuple),
    st.lists(plain_scalars, max_size=3).map(tuple),  # mixed: (1, True, 1.0) must not collide
)
# Values the SDK treats specially (skip and log, or fail the batch, by version).
odd_values = st.one_of(
    st.sampled_from(["\ud800", "a\udfffb"]),
    st.none(),
    st.integers().filter(lambda i: not -_INT64 <= i < _INT64),
    st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=4), plain_scalars, max_size=2),
    st.just(StatusCode.OK),  # an Enum
    st.just(frozenset({1})),
)
plain_keys = st.one_of(st.sampled_from(_KEYS[:3]), st.text(max_size=20))
plain_attributes = st.dictionaries(plain_keys, plain_values, max_size=6)
any_attributes = st.dictionaries(
    st.one_of(plain_keys, st.sampled_from(_KEYS)), st.one_of(plain_values, odd_values), max_size=6
)
trace_ids = st.one_of(st.integers(1, 2**128 - 1), st.sampled_from([1, 2**128 - 1]))
span_ids = st.one_of(st.integers(1, 2**64 - 1), st.sampled_from([1, 2**64 - 1]))
states = st.sampled_from(
    [TraceState(), TraceState([("a", "1")]), TraceState([("v", "x"), ("w", "y")])]
)
times = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 1_700_000_000_000_000_000]))


def _bounded(attributes: dict[str, Any], dropped: int) -> BoundedAttributes:
    bounded = BoundedAttributes(attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


def _clean(value: Any) -> bool:
    """What ``BoundedAttributes`` keeps as is in every supported SDK: older SDKs put ``None`` in
    mixed sequences, and decode bytes (``None`` for bytes that are not UTF-8, as in ``(b"\\x80",)``
    on SDK 1.39); bytes through ``BoundedAttributes`` are left to the awkward-values test."""
    if isinstance(value, (tuple, list)):
        return len({type(v) for v in value}) <= 1 and not any(type(v) is bytes for v in value)
    return type(value) not in (dict, bytes)


@st.composite
def _attributes(draw: st.DrawFn, values: st.SearchStrategy[dict[str, Any]]) -> Any:
    attributes = draw(values)
    shape = draw(st.sampled_from(["dict", "bounded", "none"]))
    if shape == "none" and not attributes:
        return None
    if shape == "bounded" and all(map(_clean, attributes.values())):
        return _bounded(attributes, draw(st.sampled_from([0, 1, 300])))
    return attributes


@st.composite
def _bounded_list(draw: st.DrawFn, items: st.SearchStrategy[list[Any]]) -> Any:
    found = draw(items)
    if draw(st.booleans()):
        return tuple(found)
    bounded = BoundedList.from_seq(None, found)
    bounded.dropped = draw(st.sampled_from([0, 2, 70_000]))
    return bounded


def _contexts(remote: st.SearchStrategy[bool]) -> st.SearchStrategy[SpanContext]:
    return st.builds(SpanContext, trace_ids, span_ids, remote, trace_state=states)


def _resources() -> st.SearchStrategy[Resource]:
    return st.builds(
        Resource,
        st.dictionaries(
            plain_keys,
            plain_scalars.filter(lambda v: type(v) is not bytes),
            max_size=3,
        ),
        st.sampled_from([None, "", "https://opentelemetry.io/schemas/1.30.0"]),
    )


def _scopes() -> st.SearchStrategy[InstrumentationScope | None]:
    scope = st.builds(
        InstrumentationScope,
        st.sampled_from(["genai_trace", "other", ""]),
        st.sampled_from([None, "", "1.2.3"]),
        st.sampled_from([None, "https://schema"]),
        st.one_of(st.none(), st.dictionaries(plain_keys, st.integers(-5, 5), max_size=2)),
    )
    return st.one_of(st.none(), scope)


@st.composite
def batches(draw: st.DrawFn, odd: bool = False) -> Any:
    values = any_attributes if odd else plain_attributes
    resources = draw(st.lists(_resources(), min_size=1, max_size=3))
    resources += [Resource(dict(r.attributes), r.schema_url) for r in resources]  # equal copies
    scopes = draw(st.lists(_scopes(), min_size=1, max_size=3))
    text = texts if odd else st.text(max_size=40)
    events = st.builds(Event, text, _attributes(values), times)
    links = st.builds(Link, _contexts(st.booleans()), _attributes(values))
    status = st.one_of(
        st.builds(Status, st.sampled_from(list(StatusCode))),
        st.builds(Status, st.just(StatusCode.ERROR), st.one_of(st.none(), text)),
    )
    span = st.builds(
        ReadableSpan,
        name=text,
        context=_contexts(st.just(False)),
        parent=st.one_of(st.none(), _contexts(st.booleans())),
        resource=st.sampled_from(resources),
        attributes=_attributes(values),
        events=_bounded_list(st.lists(events, max_size=2)),
        links=_bounded_list(st.lists(links, max_size=2)),
        kind=st.sampled_from(list(SpanKind)),
        status=status,
        start_time=st.one_of(st.none(), times),
        end_time=st.one_of(st.none(), times),
        instrumentation_scope=st.sampled_from(scopes),
    )
    return draw(st.lists(span, min_size=0, max_size=6))


def _sdk(spans: list[ReadableSpan]) -> bytes | type[BaseException]:
    try:
        return encode_spans(spans).SerializePartialToString()
    except Exception as exc:
        return type(exc)


@settings(max_examples=150, deadline=None, derandomize=True)  # reproducible in CI
@given(batches())
def test_plain_batches_are_encoded_fast_and_byte_identical(spans: list[ReadableSpan]) -> None:
    assert encode_request(spans) == _sdk(spans)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(batches(odd=True))
def test_any_batch_gets_the_sdk_bytes_or_the_sdk_error(spans: list[ReadableSpan]) -> None:
    expected = _sdk(spans)
    try:
        fast: bytes | None = encode_request(spans)
    except Exception:
        fast = None  # declined: the exporter falls back to the SDK's encoder
    if fast is not None:
        assert fast == expected
    try:
        sent: bytes | type[BaseException] = encode_or_sdk(spans, encode_spans).SerializeToString()
    except Exception as exc:
        sent = type(exc)
    assert sent == expected


def test_what_the_sdk_treats_specially_goes_to_the_sdk() -> None:
    """Each such value alone: the fast encoder declines, and the batch gets the SDK's bytes
    (the SDK skips the attribute, or encodes ``None`` as an empty value, depending on its
    version)."""
    context = SpanContext(1, 2, False)
    for value in [None, "\ud800", 2**63, (1, None), {"a": 1}, StatusCode.OK, 1 + 2j]:
        spans = [ReadableSpan("s", context, attributes={"bad": value, "good": "yes"})]
        sent = encode_or_sdk(spans, encode_spans).SerializePartialToString()
        assert sent == encode_spans(spans).SerializePartialToString(), value
        assert type(encode_or_sdk(spans, encode_spans)).__module__ != __name__

"""A light SDK span for genai-trace's own spans: the SDK's ``Span`` class, built without its
per-span containers.

:class:`FastSpan` *is* an ``opentelemetry.sdk.trace.Span`` (a subclass), so processors'
``on_start``, ``isinstance`` checks and every read of a live span behave as with the SDK. It differs
only in how attributes, events and links are held while the span is open:

* attributes are a plain ``dict`` while every key is a non-empty ``str``, every value a ``str``
  (within the length limit), ``bool``, ``int``, ``float`` or a tuple of such strings, and their
  number within the limit: exactly the values the SDK's ``BoundedAttributes`` keeps unchanged.
  The first other write turns the dict into the SDK's ``BoundedAttributes`` and from then on the
  SDK's own methods apply;
* events and links start as an empty tuple and become the SDK's ``BoundedList`` on first use.

Every write to a live span takes the span's lock, as the SDK's do (threads that share a span lose
nothing), and no more often: one acquisition per write.

At end the span hands the processors what the SDK hands them (``_on_ending`` when the SDK has it,
then ``on_end`` with ``_readable_span()``), with the dict wrapped in an immutable
``BoundedAttributes``, and events or links it never had as one shared empty ``BoundedList``
(an ended span takes none). :func:`fields_match` checks that the SDK in use still has exactly
the fields this module sets; the tracer falls back to SDK spans when it does not.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any, cast

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanLimits, Tracer
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

_UNSET = Status(StatusCode.UNSET)
_PLAIN = frozenset({bool, int, float})
_EMPTY: tuple[Any, ...] = ()
_ENDED_EMPTY: BoundedList[Any] = BoundedList(0)  # never appended to: only ended spans hold it
_logger = __import__("logging").getLogger("opentelemetry.sdk.trace")

# What ``Span.__init__`` sets, in this module's words: an SDK with other fields falls back.
FIELDS = frozenset(
    {
        "_name",
        "_context",
        "_kind",
        "_instrumentation_info",
        "_instrumentation_scope",
        "_parent",
        "_start_time",
        "_end_time",
        "_attributes",
        "_events",
        "_links",
        "_resource",
        "_status",
        "_sampler",
        "_trace_config",
        "_record_exception",
        "_set_status_on_exception",
        "_span_processor",
        "_limits",
        "_lock",
    }
)
OPTIONAL_FIELDS = frozenset({"_record_end_metrics"})  # SDK >= 1.40


def plain(attributes: Mapping[str, Any], room: int | None, max_len: int | None) -> bool:
    """Whether the SDK would keep ``attributes`` exactly as they are, with ``room`` left."""
    if room is not None and len(attributes) > room:
        return False
    for key, value in attributes.items():
        if type(key) is not str or not key:
            return False
        t = type(value)
        if t is str:
            if max_len is not None and len(value) > max_len:
                return False
        elif t is tuple:  # the SDK keeps a tuple of strings it need not truncate as it is
            for item in value:
                if type(item) is not str or (max_len is not None and len(item) > max_len):
                    return False
        elif t not in _PLAIN:
            return False
    return True


class FastSpan(Span):
    """An SDK span whose attributes, events and links stay plain containers while they can."""

    def __init__(
        self,
        name: str,
        context: trace_api.SpanContext,
        parent: trace_api.SpanContext | None,
        tracer: Tracer,
        kind: trace_api.SpanKind,
        attributes: Mapping[str, Any] | None,
        start_time: int | None,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        # No super().__init__: every field the SDK's constructor sets is set here (FIELDS).
        limits: SpanLimits = tracer._span_limits
        self._name = name
        self._context = context
        self._kind = kind
        self._instrumentation_info = tracer.instrumentation_info
        self._instrumentation_scope = tracer._instrumentation_scope
        self._parent = parent
        self._end_time: int | None = None
        self._resource: Resource = tracer.resource
        self._status = _UNSET
        self._sampler = tracer.sampler
        self._trace_config = None
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        self._span_processor = tracer.span_processor
        self._limits = limits
        self._lock = threading.Lock()
        self._record_end_metrics = None
        self._events = _EMPTY
        self._links = _EMPTY
        if not attributes:
            self._attributes = {}
        elif plain(attributes, limits.max_span_attributes, limits.max_span_attribute_length):
            self._attributes = dict(attributes)
        else:
            self._attributes = self._bounded(attributes)
        # Read after the attributes, as the SDK's ``start`` does (their warnings read the clock).
        self._start_time = start_time if start_time is not None else time_ns()

    def _bounded(self, attributes: Mapping[str, Any] | None) -> BoundedAttributes:
        limits = self._limits
        return BoundedAttributes(
            limits.max_span_attributes,
            attributes,
            immutable=False,
            max_value_len=limits.max_span_attribute_length,
        )

    def _room(self, attrs: dict[str, Any]) -> int | None:
        cap: int | None = self._limits.max_span_attributes
        return None if cap is None else cap - len(attrs)

    def _set_plain(self, attributes: Mapping[str, Any]) -> bool:
        """Set ``attributes`` on the plain dict, as the SDK would; ``False`` when the SDK's own
        method must do it (the dict then became the SDK's ``BoundedAttributes``, or it ended).

        Read under the lock: another thread may have turned the dict into ``BoundedAttributes``
        (or ended the span) since; a dict, once replaced, never comes back, so seeing something
        else before the lock already settles it."""
        if type(self._attributes) is not dict:
            return False
        with self._lock:
            attrs = self._attributes
            if type(attrs) is not dict or self._end_time is not None:
                return False  # the SDK's method writes there, or warns and ignores
            if plain(attributes, self._room(attrs), self._limits.max_span_attribute_length):
                for key, value in attributes.items():
                    if key in attrs:
                        del attrs[key]  # the SDK moves a re-set key to the end
                    attrs[key] = value
                return True
            self._attributes = self._bounded(attrs)
            return False

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if not self._set_plain(attributes):
            super().set_attributes(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if not self._set_plain({key: value}):
            super().set_attribute(key, value)

    # The SDK's ``add_event``/``add_link`` (and ``record_exception``) build the event or link, then
    # append it here under the span's lock (its ``_check_span_ended``): the list is made there too,
    # so two threads adding the first event of a live span never make two lists (one lost).
    def _add_event(self, event: Any) -> None:
        with self._lock:
            if self._end_time is None:
                events: Any = self._events  # a tuple only while empty
                if events is _EMPTY:
                    events = self._events = BoundedList(self._limits.max_events)
                events.append(event)
                return
        _logger.warning("Tried calling %s on an ended span.", "_add_event")

    def _add_link(self, link: trace_api.Link) -> None:
        with self._lock:
            if self._end_time is None:
                links: Any = self._links  # a tuple only while empty
                if links is _EMPTY:
                    links = self._links = BoundedList(self._limits.max_links)
                links.append(link)
                return
        _logger.warning("Tried calling %s on an ended span.", "_add_link")

    def end(self, end_time: int | None = None) -> None:
        with self._lock:
            if self._end_time is not None:
                _logger.warning("Calling end() on an ended span.")
                return
            self._end_time = end_time if end_time is not None else time_ns()
            attrs = self._attributes
            if type(attrs) is dict:
                self._attributes = ended_attributes(attrs, self._limits)
            else:
                cast(BoundedAttributes, attrs)._immutable = True
            # An ended span takes no event or link (the SDK's ``_check_span_ended``): one shared
            # empty list serves every span that had none, four fewer objects kept per span until
            # its batch is exported (fewer promotions to the old generation, fewer full GCs).
            if self._events is _EMPTY:
                self._events = _ENDED_EMPTY
            if self._links is _EMPTY:
                self._links = _ENDED_EMPTY
        processor = self._span_processor
        on_ending = getattr(processor, "_on_ending", None)
        if on_ending is not None:
            on_ending(self)
        processor.on_end(self._readable_span())


# What ``BoundedAttributes.__init__`` sets. An ended span's attributes are built without it
# when this SDK's are exactly these: no lock made per span (the attributes are immutable, and
# only ``__deepcopy__`` takes the lock of immutable ones: one shared lock serves), so a span
# waiting in a batch holds one garbage-collected object fewer (fewer promoted to the old
# generation, fewer full collections: see ``tests/benchmarks/README.md``).
_BOUNDED_FIELDS = frozenset({"_dict", "maxlen", "dropped", "max_value_len", "_lock", "_immutable"})
_BOUNDED_NEW_OK = frozenset(vars(BoundedAttributes())) == _BOUNDED_FIELDS
_ENDED_LOCK = threading.Lock()
_new_bounded = BoundedAttributes.__new__


def ended_attributes(attrs: dict[str, Any], limits: SpanLimits) -> BoundedAttributes:
    """``attrs`` (already as the SDK keeps them) as the immutable ``BoundedAttributes`` an ended
    SDK span holds."""
    if not _BOUNDED_NEW_OK:
        bounded = BoundedAttributes(
            limits.max_span_attributes, None, True, limits.max_span_attribute_length
        )
        bounded._dict = attrs
        return bounded
    bounded = _new_bounded(BoundedAttributes)
    bounded._dict = attrs
    bounded.maxlen = limits.max_span_attributes
    bounded.dropped = 0
    bounded.max_value_len = limits.max_span_attribute_length
    bounded._lock = _ENDED_LOCK
    bounded._immutable = True
    return bounded


def fields_of(span: Span) -> frozenset[str]:
    return frozenset(vars(span))


def fields_match(sdk_fields: frozenset[str]) -> bool:
    """Whether an SDK span has exactly the fields :class:`FastSpan` sets."""
    return FIELDS <= sdk_fields <= FIELDS | OPTIONAL_FIELDS


def links_given(links: Sequence[trace_api.Link] | None) -> bool:
    return bool(links)

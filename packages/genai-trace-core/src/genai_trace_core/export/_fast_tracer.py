"""The fast span path: genai-trace's own spans without the SDK's per-span bookkeeping.

:class:`FastTracer` wraps an SDK ``Tracer`` and starts :class:`FastSpan` s with what the SDK's
``Tracer.start_span`` uses, read from that tracer on every span (id generator, sampler, resource,
scope, limits, active span processor): same ids in the same order, same sampling decisions and
trace state, ``on_start`` and ``on_end`` on the same processors. The sampler is consulted as the SDK
does, except where its answer is known without asking: a local parent under ``ParentBased`` whose
local sub-sampler is always-on/off, or a bare always-on/off sampler.

:func:`wrap` decides, once per tracer, whether the fast path applies, and returns ``None`` (SDK
spans) when any condition fails: ``GENAI_TRACE_SDK_SPANS`` is set, the tracer is not exactly the
SDK's (another provider, ``OTEL_SDK_DISABLED``, a subclass), the SDK's span has other fields than
the fast span sets (or adds events and links otherwise), the sampler is not one of the SDK's own,
or the SDK's internal span metrics are on. A span with links, or from a tracer its configurator
disabled, is always an SDK span.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Tracer, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    StaticSampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.util import types

from genai_trace_core._settings import env_bool
from genai_trace_core.export._fast_span import FastSpan, fields_match

FORCE_SDK_ENV = "GENAI_TRACE_SDK_SPANS"
_PARENT_BASED = (ParentBased, ParentBasedTraceIdRatio)
_SUBS: tuple[str, ...] = ("_root", "_remote_parent_sampled", "_remote_parent_not_sampled")
_SUBS += ("_local_parent_sampled", "_local_parent_not_sampled")
_RANDOM_IDS = hasattr(IdGenerator, "is_trace_id_random")  # SDK >= 1.40: the W3C random flag
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_DEFAULT = TraceFlags(TraceFlags.DEFAULT)
# The flags with the W3C random bit, made once: a ``TraceFlags`` per span is one more
# garbage-collected object that each span waiting in a batch holds.
_RANDOM_BIT: int = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
_SAMPLED_RANDOM = TraceFlags(_SAMPLED | _RANDOM_BIT)
_DEFAULT_RANDOM = TraceFlags(_DEFAULT | _RANDOM_BIT)
_fields_ok: bool | None = None
# The key ``trace.set_span_in_context`` stores the span under, learnt from the public API.
_SPAN_KEY: str = next(iter(trace_api.set_span_in_context(trace_api.INVALID_SPAN, Context())))


class _ProbeIds(IdGenerator):
    """Fixed ids for the probe's spans: the SDK's default generator draws from the global
    ``random``, so a program that seeds it would get other ids (and ratio-sampling outcomes) with
    the fast path than without."""

    def generate_span_id(self) -> int:
        return 1

    def generate_trace_id(self) -> int:
        return 1


def _sdk_fields_ok() -> bool:
    """Whether this SDK's spans have exactly the fields :class:`FastSpan` sets, and its
    ``add_event``/``add_link`` append through the methods the fast span takes over (checked
    once, on a throwaway provider: fixed ids, an empty resource, so no resource detector runs
    again nor repeats its warnings)."""
    global _fields_ok
    if _fields_ok is None:
        provider = TracerProvider(
            sampler=ALWAYS_ON, resource=Resource.get_empty(), shutdown_on_exit=False,
            id_generator=_ProbeIds(),
        )  # fmt: skip
        tracer = cast(Tracer, provider.get_tracer("genai_trace.fields"))
        span = tracer.start_span("fields", start_time=1)
        bounded = vars(BoundedAttributes())  # the fast span sets ``_dict`` and ``_immutable``
        _fields_ok = (
            fields_match(frozenset(vars(span)))
            and "_dict" in bounded
            and "_immutable" in bounded
            and _appends_ok(tracer, span.get_span_context())
        )
    return _fields_ok


def _appends_ok(tracer: Tracer, context: SpanContext) -> bool:
    """Whether a fast span's events and links land where the SDK's methods put them."""
    try:
        span = FastSpan(
            "appends", context, None, tracer, SpanKind.INTERNAL, None, 1, True, True
        )  # fmt: skip
        span.add_event("event", timestamp=1)  # reads no clock (a program's fake one neither)
        span.add_link(context)
        span.end(2)
        return len(span.events) == 1 and len(span.links) == 1
    except Exception:  # an SDK whose methods changed: SDK spans
        return False


def _known_sampler(sampler: Sampler | None) -> bool:
    if type(sampler) is StaticSampler:
        return hasattr(sampler, "_decision")
    if type(sampler) is TraceIdRatioBased:
        return True
    if type(sampler) not in _PARENT_BASED:
        return False
    return all(_known_sampler(getattr(sampler, name, None)) for name in _SUBS)


def _fast_ok(tracer: Tracer) -> bool:
    metrics = getattr(tracer, "_tracer_metrics", None)
    return (
        (metrics is None or type(metrics).__name__ == "NoOpTracerMetrics")
        and _known_sampler(tracer.sampler)
        and hasattr(tracer, "_span_limits")
        and hasattr(tracer, "_instrumentation_scope")
        and _sdk_fields_ok()
    )


def forced_off() -> bool:
    """``GENAI_TRACE_SDK_SPANS`` read as every switch is (any other value warns once: false)."""
    return env_bool(FORCE_SDK_ENV, False)


def wrap(tracer: trace_api.Tracer) -> trace_api.Tracer | None:
    """A fast tracer over ``tracer``, or ``None`` when its spans must stay SDK spans."""
    if forced_off():
        return None
    if type(tracer) is trace_api.ProxyTracer:  # no provider yet: decide when one is set
        return _ResolvingTracer(tracer)
    if type(tracer) is not Tracer or not _fast_ok(tracer):
        return None
    return FastTracer(tracer)


class FastTracer(trace_api.Tracer):
    """Starts :class:`FastSpan` s for an SDK tracer (SDK spans where the fast path cannot)."""

    def __init__(self, sdk: Tracer) -> None:
        self._sdk = sdk
        self._enabled = getattr(sdk, "_is_enabled", None)  # SDK >= 1.40: tracer configurator

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        sdk = self._sdk
        if links or (self._enabled is not None and not self._enabled()):
            return sdk.start_span(
                name, context, kind, attributes, links, start_time,
                record_exception, set_status_on_exception,
            )  # fmt: skip
        # ``trace.get_current_span(context)``, read by key (two calls fewer per span)
        current = (context if context is not None else get_current()).get(_SPAN_KEY)
        if current is None or not isinstance(current, trace_api.Span):
            current = trace_api.INVALID_SPAN
        parent: SpanContext | None = current.get_span_context()
        if parent is not None and not isinstance(parent, SpanContext):
            raise TypeError("parent_span_context must be a SpanContext or None.")
        ids = sdk.id_generator
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = ids.generate_trace_id()
        else:
            trace_id = parent.trace_id
        decision, state, attrs = self._sample(parent, context, trace_id, name, kind, attributes)
        flags = _SAMPLED if decision is Decision.RECORD_AND_SAMPLE else _DEFAULT
        if _RANDOM_IDS:
            if parent is None:
                random_id = ids.is_trace_id_random()
            else:
                random_id = parent.trace_flags.random_trace_id
            if random_id:
                flags = _SAMPLED_RANDOM if flags is _SAMPLED else _DEFAULT_RANDOM
        span_context = SpanContext(
            trace_id, ids.generate_span_id(), is_remote=False, trace_flags=flags,
            trace_state=state,
        )  # fmt: skip
        if decision is Decision.DROP:  # as ``Decision.is_recording``
            return NonRecordingSpan(span_context)
        span = FastSpan(
            name, span_context, parent, sdk, kind, attrs, start_time,
            record_exception, set_status_on_exception,
        )  # fmt: skip
        sdk.span_processor.on_start(span, parent_context=context)
        return span

    def _sample(
        self,
        parent: SpanContext | None,
        context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind,
        attributes: types.Attributes,
    ) -> tuple[Decision, Any, types.Attributes]:
        sampler = self._sdk.sampler
        if parent is not None and not parent.is_remote:
            known: Sampler | None = sampler if type(sampler) is StaticSampler else None
            if type(sampler) in _PARENT_BASED:
                based = cast(ParentBased, sampler)
                sampled = parent.trace_flags.sampled
                known = based._local_parent_sampled if sampled else based._local_parent_not_sampled
            if type(known) is StaticSampler:  # what the sampler would answer, without asking it
                return known._decision, parent.trace_state, attributes
        result = sampler.should_sample(context, trace_id, name, kind, attributes, ())
        return result.decision, result.trace_state, result.attributes

    start_as_current_span = Tracer.start_as_current_span  # the SDK's, over this start_span


class _ResolvingTracer(trace_api.Tracer):
    """Over a proxy tracer (no global provider yet): the fast tracer once a provider is set."""

    def __init__(self, proxy: trace_api.ProxyTracer) -> None:
        self._proxy = proxy
        self._target: trace_api.Tracer | None = None

    def _resolve(self) -> trace_api.Tracer:
        target = self._target
        if target is not None:
            return target
        real: trace_api.Tracer = getattr(self._proxy, "_tracer", self._proxy)  # resolves the proxy
        if getattr(self._proxy, "_real_tracer", None) is None:
            return real  # still no provider: the proxy's no-op tracer
        fast = wrap(real)
        self._target = fast if fast is not None else real
        return self._target

    def start_span(self, *args: Any, **kwargs: Any) -> trace_api.Span:
        return self._resolve().start_span(*args, **kwargs)

    start_as_current_span = Tracer.start_as_current_span

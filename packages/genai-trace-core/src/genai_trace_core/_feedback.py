"""Feedback and quality scores recorded after the fact, against a trace or a span.

:func:`record_feedback` emits one ``gen_ai.evaluation.result`` log event parented to the given
trace and span (hex ids work from any process: the event carries a non-recording remote span
context), and records ``genai_trace.evaluation.score`` (histogram of the numeric score) and
``genai_trace.evaluation.count`` (counter by label), both by evaluation name, label, model,
provider, feature and prompt version only: ids and explanations never go on metrics.

:func:`trace_ids` gives the (trace id, span id) hex pair of the current span, or of a context,
span or span context (``Telemetry.context_of(run_id)`` during a run), for an app to hand to its
frontend so the user's thumbs up can come back with them.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from typing import Any, NamedTuple

from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags

from genai_trace_core import semconv
from genai_trace_core._safe import safe
from genai_trace_core.version import __version__

__all__ = ["TraceIds", "record_feedback", "trace_ids"]

_SCOPE = "genai_trace.feedback"
# Scores are mostly 0..1 (thumbs, evaluator probabilities) or 1..5 (star ratings).
SCORE_BUCKETS = (0.0, 0.25, 0.5, 0.75, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0)
_MAX_LABEL = 64  # metric label values stay short (an evaluator's label, not free text)
_MAX_EXPLANATION = 2048


class TraceIds(NamedTuple):
    """A span's ids as the lowercase hex strings W3C ``traceparent`` uses."""

    trace_id: str
    span_id: str


def trace_ids(source: Context | Span | SpanContext | None = None) -> TraceIds | None:
    """The (trace id, span id) hex pair of ``source`` (default: the current span); ``None``
    when there is no valid span."""
    if isinstance(source, SpanContext):
        sc = source
    elif isinstance(source, Span):
        sc = source.get_span_context()
    else:
        sc = trace.get_current_span(source).get_span_context()
    if not sc.is_valid:
        return None
    return TraceIds(f"{sc.trace_id:032x}", f"{sc.span_id:016x}")


def _as_int(value: str | int | None, bits: int) -> int:
    if value is None:
        return 0
    n = value if isinstance(value, int) else int(value.strip().lower().removeprefix("0x"), 16)
    return n if 0 < n < (1 << bits) else 0


def _parent_context(
    trace_id: str | int | None, span_id: str | int | None, span_context: SpanContext | None
) -> Context | None:
    """The context the event is emitted in: the given span (remote, non-recording), or the
    current context when no ids are given (either id alone is refused: an event needs both)."""
    if span_context is None and trace_id is None and span_id is None:
        return None
    if span_context is None:
        tid, sid = _as_int(trace_id, 128), _as_int(span_id, 64)
        if not tid or not sid:
            raise ValueError("trace_id and span_id must be non-zero hex ids")
        span_context = SpanContext(
            tid, sid, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED)
        )
    return trace.set_span_in_context(NonRecordingSpan(span_context), Context())


class _Instruments:
    def __init__(self, meter_provider: metrics.MeterProvider | None) -> None:
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider)
        self.score: Histogram = meter.create_histogram(
            semconv.METRIC_EVALUATION_SCORE,
            "{score}",
            "Feedback and evaluation scores",
            explicit_bucket_boundaries_advisory=list(SCORE_BUCKETS),
        )
        self.count: Counter = meter.create_counter(
            semconv.METRIC_EVALUATION_COUNT, "{evaluation}", "Feedback and evaluation results"
        )


_lock = threading.Lock()
_by_provider: weakref.WeakKeyDictionary[object, _Instruments] = weakref.WeakKeyDictionary()


def _instruments(meter_provider: metrics.MeterProvider | None) -> _Instruments:
    key: object = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    with _lock:
        inst = _by_provider.get(key)
        if inst is None:
            inst = _by_provider[key] = _Instruments(meter_provider)
        return inst


def _metric_attributes(
    name: str,
    label: str | None,
    model: str | None,
    provider: str | None,
    feature: str | None,
    prompt_version: str | None,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {semconv.GEN_AI_EVALUATION_NAME: name[:_MAX_LABEL]}
    for key, value in (
        (semconv.GEN_AI_EVALUATION_SCORE_LABEL, label),
        (semconv.GEN_AI_REQUEST_MODEL, model),
        (semconv.GEN_AI_PROVIDER_NAME, provider),
        (semconv.FEATURE, feature),
        (semconv.GEN_AI_PROMPT_VERSION, prompt_version),
    ):
        if value:
            attrs[key] = value[:_MAX_LABEL]
    return attrs


@safe(default=False)
def record_feedback(
    name: str,
    *,
    score: float | None = None,
    label: str | None = None,
    explanation: str | None = None,
    trace_id: str | int | None = None,
    span_id: str | int | None = None,
    span_context: SpanContext | None = None,
    response_id: str | None = None,
    model: str | None = None,
    provider: str | None = None,
    feature: str | None = None,
    prompt_version: str | None = None,
    logger_provider: _logs.LoggerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    timestamp_ns: int | None = None,
) -> bool:
    """Record a user's feedback or an evaluator's result for an earlier GenAI operation.

    Args:
        name: what was evaluated, e.g. ``"user_feedback"``, ``"relevance"`` (required).
        score: a numeric score (thumbs up/down as 1.0/0.0 makes the mean a success rate).
        label: a short, low-cardinality label (``"thumbs_up"``, ``"relevant"``).
        explanation: free text (event only, never on metrics; truncated to 2048 characters).
        trace_id, span_id: hex ids (or ints) of the span to attach to, from any process;
            ``span_context`` instead, or neither to attach to the current span.
        response_id: the model response id (``gen_ai.response.id``) the feedback is about.
        model, provider, feature, prompt_version: metric dimensions, for rates per model and
            prompt version (also on the event).

    Returns ``True`` when recorded; ``False`` (logged once at debug) on invalid input: no name,
    neither score nor label, a score that is not a finite number, a trace id without a span id
    or a span id without a trace id.
    """
    if not name or (score is None and label is None):
        raise ValueError("record_feedback needs a name and a score or a label")
    ctx = _parent_context(trace_id, span_id, span_context)
    metric_attrs = _metric_attributes(name, label, model, provider, feature, prompt_version)
    event_attrs: dict[str, Any] = dict(metric_attrs)
    event_attrs[semconv.GEN_AI_EVALUATION_NAME] = name
    if label:
        event_attrs[semconv.GEN_AI_EVALUATION_SCORE_LABEL] = label
    if score is not None:
        score = float(score)
        if not math.isfinite(score):  # the SDK would drop it from the histogram with a warning
            raise ValueError("record_feedback needs a finite score")
        event_attrs[semconv.GEN_AI_EVALUATION_SCORE_VALUE] = score
    if explanation:
        event_attrs[semconv.GEN_AI_EVALUATION_EXPLANATION] = explanation[:_MAX_EXPLANATION]
    if response_id:
        event_attrs[semconv.GEN_AI_RESPONSE_ID] = response_id
    logger = _logs.get_logger(_SCOPE, __version__, logger_provider)
    logger.emit(
        LogRecord(
            timestamp=timestamp_ns or time.time_ns(),
            context=ctx,
            severity_number=SeverityNumber.INFO,
            event_name=semconv.EVENT_EVALUATION_RESULT,
            attributes=event_attrs,
        )
    )
    inst = _instruments(meter_provider)
    if score is not None:
        inst.score.record(score, metric_attrs)
    inst.count.add(1, metric_attrs)
    return True

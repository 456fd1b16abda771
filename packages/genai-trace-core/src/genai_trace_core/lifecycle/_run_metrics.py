"""Which instruments a finished run records, with which low-cardinality attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_trace_core import semconv
from genai_trace_core._attribution import Attribution
from genai_trace_core._settings import Settings
from genai_trace_core.lifecycle._attributes import metric_base
from genai_trace_core.lifecycle._labels import label
from genai_trace_core.lifecycle._metrics import Instruments
from genai_trace_core.lifecycle._run import Run
from genai_trace_core.records import Cost, OperationKind, Outcome, Usage


def start_metric_attributes(
    start_attrs: Mapping[str, Any], attribution: Attribution | None, settings: Settings
) -> dict[str, Any]:
    """The attributes every metric of a run records, built once at its start from the span's
    cleaned start attributes: the low-cardinality ones (``metric_base``) and the attribution
    keys allow-listed in ``Settings.metric_attribute_keys``, as the span carries them. So the
    gaps between streamed chunks and an abandonment, recorded from these alone, carry the same
    allow-listed keys as the duration, tokens, cost and time to first chunk (until 2026-12-07
    the keys were added at end only). Nothing more is done per run when no key is listed."""
    base = metric_base(start_attrs)
    keys = settings.metric_attribute_keys
    if keys and attribution is not None:
        for key in attribution.metric_attributes(keys):
            if key in start_attrs:  # cleaned: an unencodable value was dropped there
                base[key] = start_attrs[key]
    return base


def record_run_metrics(
    inst: Instruments,
    run: Run,
    metric_attrs: dict[str, Any],
    duration: float,
    usage: Usage | None,
    cost: Cost | None,
    outcome: Outcome | None = None,
) -> None:
    """Record the duration, usage and cost metrics of a run that just ended. Every attribute
    is encodable (``metric_attrs`` were cleaned at start; what is added here is a label):
    the metrics encoder drops an attribute it cannot encode, with an error log."""
    op = run.op
    assert op is not None
    kind = op.kind
    if kind.is_inference:
        inst.inference(metric_attrs, duration, usage)
        run.count_in_agent(tool=False)
        if run.ttfc is not None:  # a stream: its time to first chunk, attributed as here
            inst.first_chunk(metric_attrs, run.ttfc)
    elif kind is OperationKind.EMBEDDINGS:
        inst.embeddings(metric_attrs, duration, usage)
    elif kind is OperationKind.RETRIEVAL:
        inst.client_operation(metric_attrs, duration)
    elif kind is OperationKind.EXECUTE_TOOL:
        not_found = outcome is not None and outcome.tool_not_found
        inst.tool(_tool_metric_attrs(run, metric_attrs, not_found), duration)
        run.count_in_agent(tool=True)
    elif kind.is_invocation:
        attrs = _invocation_metric_attrs(run, metric_attrs)
        inst.invocation(attrs, duration)
        if kind is OperationKind.INVOKE_AGENT:
            inst.agent_calls(attrs, run.inference_calls, run.tool_calls)
    if cost is not None:
        inst.add_cost(metric_attrs, cost.total_usd)


def _tool_metric_attrs(run: Run, base: dict[str, Any], not_found: bool) -> dict[str, Any]:
    op = run.op
    assert op is not None
    attrs = dict(base)
    # A tool the agent does not have: the model chose the name (from the user's input, maybe),
    # so metrics record one placeholder for all such calls; the span keeps the name.
    name = semconv.TOOL_NAME_NOT_FOUND if not_found else label(op.name or "unknown")
    attrs[semconv.GEN_AI_TOOL_NAME] = name
    attrs[semconv.GEN_AI_TOOL_TYPE] = op.tool_type or "function"
    if op.agent_name:
        attrs[semconv.GEN_AI_AGENT_NAME] = label(op.agent_name)
    return attrs


def _invocation_metric_attrs(run: Run, base: dict[str, Any]) -> dict[str, Any]:
    op = run.op
    assert op is not None
    attrs = dict(base)
    if op.kind is OperationKind.INVOKE_AGENT:
        name = op.agent_name or op.name
        if name:
            attrs[semconv.GEN_AI_AGENT_NAME] = label(name)
    elif op.name:
        attrs[semconv.GEN_AI_WORKFLOW_NAME] = label(op.name)
    attrs[semconv.GEN_AI_INVOCATION_IS_NESTED] = run.has_invocation_ancestor()
    return attrs

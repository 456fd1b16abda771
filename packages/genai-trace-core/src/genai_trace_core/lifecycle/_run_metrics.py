"""Which instruments a finished run records, with which low-cardinality attributes."""

from __future__ import annotations

from typing import Any

from genai_trace_core import semconv
from genai_trace_core._settings import Settings
from genai_trace_core.lifecycle._attributes import attribution_attributes
from genai_trace_core.lifecycle._labels import label
from genai_trace_core.lifecycle._metrics import Instruments
from genai_trace_core.lifecycle._run import Run
from genai_trace_core.lifecycle._sanitize import clean_attributes
from genai_trace_core.records import Cost, OperationKind, Usage


def record_run_metrics(
    inst: Instruments,
    settings: Settings,
    run: Run,
    metric_attrs: dict[str, Any],
    duration: float,
    usage: Usage | None,
    cost: Cost | None,
) -> None:
    """Record the duration, usage and cost metrics of a run that just ended. Every attribute
    is encodable (``metric_attrs`` were cleaned at start; what is added here is cleaned here):
    the metrics encoder drops an attribute it cannot encode, with an error log."""
    op = run.op
    assert op is not None
    kind = op.kind
    attribution = run.attribution
    keys = settings.metric_attribute_keys
    if attribution is not None and keys:
        listed = attribution_attributes(attribution)
        metric_attrs = {
            **metric_attrs,
            **clean_attributes({k: listed[k] for k in keys if k in listed}),
        }
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
        inst.tool(_tool_metric_attrs(run, metric_attrs), duration)
        run.count_in_agent(tool=True)
    elif kind.is_invocation:
        attrs = _invocation_metric_attrs(run, metric_attrs)
        inst.invocation(attrs, duration)
        if kind is OperationKind.INVOKE_AGENT:
            inst.agent_calls(attrs, run.inference_calls, run.tool_calls)
    if cost is not None:
        inst.add_cost(metric_attrs, cost.total_usd)


def _tool_metric_attrs(run: Run, base: dict[str, Any]) -> dict[str, Any]:
    op = run.op
    assert op is not None
    attrs = dict(base)
    attrs[semconv.GEN_AI_TOOL_NAME] = label(op.name or "unknown")
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

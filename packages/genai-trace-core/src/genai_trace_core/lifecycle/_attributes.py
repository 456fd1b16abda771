"""The one place that turns Operation/Outcome records into span names, kinds and attributes.

"What does a chat span carry?" is answered here: :func:`start_attributes` (set at span start, as
the conventions ask for sampling-relevant attributes) and :func:`end_attributes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import SpanKind

from genai_trace_core import semconv
from genai_trace_core._attribution import Attribution
from genai_trace_core.lifecycle._labels import bound_labels, label
from genai_trace_core.records import Cost, Operation, OperationKind, Outcome, Usage

_CLIENT_KINDS = frozenset(
    {
        OperationKind.CHAT,
        OperationKind.TEXT_COMPLETION,
        OperationKind.EMBEDDINGS,
        OperationKind.RETRIEVAL,
    }
)


# ``kind.value`` is a descriptor call on every read: the hot path reads the name from here.
_OPERATION_NAME: dict[OperationKind, str] = {k: k.value for k in OperationKind}


def span_kind(kind: OperationKind) -> SpanKind:
    return SpanKind.CLIENT if kind in _CLIENT_KINDS else SpanKind.INTERNAL


def span_name(op: Operation) -> str:
    kind = op.kind
    if kind is OperationKind.STEP:
        return label(op.name or op.run_type or "step")
    if kind.is_model_call:
        target = op.request_model
    elif kind in (OperationKind.INVOKE_AGENT, OperationKind.INVOKE_WORKFLOW):
        target = op.name or op.agent_name
    else:
        target = op.name
    name = _OPERATION_NAME[kind]
    return label(f"{name} {target}") if target else name


def start_attributes(op: Operation) -> dict[str, Any]:
    """Attributes known at start. Content is not handled here (see ``_content``)."""
    kind = op.kind
    a: dict[str, Any] = {}
    if kind is not OperationKind.STEP:
        a[semconv.GEN_AI_OPERATION_NAME] = _OPERATION_NAME[kind]
    if op.provider and kind not in (OperationKind.INVOKE_WORKFLOW, OperationKind.STEP):
        a[semconv.GEN_AI_PROVIDER_NAME] = op.provider
    elif kind.is_model_call:
        a[semconv.GEN_AI_PROVIDER_NAME] = "unknown"
    if op.request_model and kind is not OperationKind.INVOKE_WORKFLOW:
        a[semconv.GEN_AI_REQUEST_MODEL] = op.request_model
    if op.server_address:
        a[semconv.SERVER_ADDRESS] = op.server_address
        if op.server_port:
            a[semconv.SERVER_PORT] = op.server_port
    if op.framework:
        a[semconv.FRAMEWORK] = op.framework
    if op.run_type:
        a[semconv.RUN_TYPE] = op.run_type
    if kind is OperationKind.STEP:
        if op.name:
            a[semconv.RUN_NAME] = op.name
    elif kind is OperationKind.EXECUTE_TOOL:
        a[semconv.GEN_AI_TOOL_NAME] = op.name or "unknown"
        a[semconv.GEN_AI_TOOL_TYPE] = op.tool_type or "function"
        if op.tool_call_id:
            a[semconv.GEN_AI_TOOL_CALL_ID] = op.tool_call_id
        if op.description:
            a[semconv.GEN_AI_TOOL_DESCRIPTION] = op.description
        if op.agent_name:
            a[semconv.GEN_AI_AGENT_NAME] = op.agent_name
    elif kind is OperationKind.RETRIEVAL:
        if op.name:
            a[semconv.GEN_AI_DATA_SOURCE_ID] = op.name
        if op.top_k is not None:
            a[semconv.GEN_AI_RETRIEVAL_TOP_K] = op.top_k
    elif kind is OperationKind.INVOKE_AGENT:
        name = op.agent_name or op.name
        if name:
            a[semconv.GEN_AI_AGENT_NAME] = name
        if op.description:
            a[semconv.GEN_AI_AGENT_DESCRIPTION] = op.description
    elif (
        kind in (OperationKind.INVOKE_WORKFLOW, OperationKind.HANDLE_CONVERSATION_TURN) and op.name
    ):
        a[semconv.GEN_AI_WORKFLOW_NAME] = op.name
    if op.prompt_name:
        a[semconv.GEN_AI_PROMPT_NAME] = op.prompt_name
        if op.prompt_version:
            a[semconv.GEN_AI_PROMPT_VERSION] = op.prompt_version
    req = op.request
    if req is not None:
        _request_attributes(a, req)
    if op.tags:
        a[semconv.RUN_TAGS] = tuple([t if type(t) is str else _tag_text(t) for t in op.tags])
    if op.attributes:
        a.update(op.attributes)
    return bound_labels(a)  # names, tags and ids: bounded, credentials masked


def _tag_text(tag: object) -> str:
    """A tag that is not a ``str`` as text; one whose ``__str__`` raises as its type's name."""
    try:
        return str(tag)
    except Exception:
        return f"<{type(tag).__name__}>"


def _request_attributes(a: dict[str, Any], req: Any) -> None:
    if req.max_tokens is not None:
        a[semconv.GEN_AI_REQUEST_MAX_TOKENS] = req.max_tokens
    if req.temperature is not None:
        a[semconv.GEN_AI_REQUEST_TEMPERATURE] = float(req.temperature)
    if req.top_p is not None:
        a[semconv.GEN_AI_REQUEST_TOP_P] = float(req.top_p)
    if req.top_k is not None:
        a[semconv.GEN_AI_REQUEST_TOP_K] = int(req.top_k)
    if req.frequency_penalty is not None:
        a[semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY] = float(req.frequency_penalty)
    if req.presence_penalty is not None:
        a[semconv.GEN_AI_REQUEST_PRESENCE_PENALTY] = float(req.presence_penalty)
    if req.stop_sequences:
        a[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple([str(s) for s in req.stop_sequences])
    if req.seed is not None:
        a[semconv.GEN_AI_REQUEST_SEED] = int(req.seed)
    if req.choice_count is not None and req.choice_count != 1:
        a[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = int(req.choice_count)
    if req.stream:
        a[semconv.GEN_AI_REQUEST_STREAM] = True
    if req.output_type:
        a[semconv.GEN_AI_OUTPUT_TYPE] = req.output_type
    if req.reasoning_level:
        a[semconv.GEN_AI_REQUEST_REASONING_LEVEL] = str(req.reasoning_level)
    if req.encoding_formats:
        a[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = tuple([str(f) for f in req.encoding_formats])


def outcome_attributes(kind: OperationKind, outcome: Outcome) -> dict[str, Any]:
    """The outcome's response fields."""
    a: dict[str, Any] = {}
    if outcome.response_model:
        a[semconv.GEN_AI_RESPONSE_MODEL] = outcome.response_model
    if outcome.response_id:
        a[semconv.GEN_AI_RESPONSE_ID] = outcome.response_id
    if outcome.finish_reasons:
        a[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = tuple([str(r) for r in outcome.finish_reasons])
    if outcome.embedding_dimension is not None:
        a[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = outcome.embedding_dimension
    if outcome.embedding_input_count is not None:
        a[semconv.EMBEDDINGS_INPUT_COUNT] = outcome.embedding_input_count
    if outcome.documents is not None and kind is OperationKind.RETRIEVAL:
        a[semconv.DOCUMENT_COUNT] = len(outcome.documents)
        # gen_ai.retrieval.documents (ids are URIs and names: content) is built by the content
        # wing, only when content is captured.
    if outcome.attributes:
        a.update(outcome.attributes)
    return bound_labels(a)


def usage_attributes(usage: Usage, *, full: bool, estimates: bool = False) -> dict[str, Any]:
    """Usage on a span. Invocation spans (``full=False``) carry only input/output totals. An
    offline estimate goes under ``gen_ai.usage.*`` only when ``estimates`` (the user's opt-in)."""
    a: dict[str, Any] = {}
    if usage.source == semconv.USAGE_SOURCE_ESTIMATED and not estimates:
        if usage.input_tokens is not None:
            a[semconv.USAGE_ESTIMATED_INPUT_TOKENS] = usage.input_tokens
        if usage.output_tokens is not None:
            a[semconv.USAGE_ESTIMATED_OUTPUT_TOKENS] = usage.output_tokens
        a[semconv.USAGE_SOURCE] = usage.source
        if usage.estimator:
            a[semconv.USAGE_ESTIMATOR] = usage.estimator
        return a
    if usage.input_tokens is not None:
        a[semconv.GEN_AI_USAGE_INPUT_TOKENS] = usage.input_tokens
    if usage.output_tokens is not None:
        a[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output_tokens
    if not full:
        return a
    if usage.cache_read_input_tokens is not None:
        a[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read_input_tokens
    if usage.cache_write_input_tokens is not None:
        a[semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = usage.cache_write_input_tokens
    if usage.reasoning_output_tokens is not None:
        a[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_output_tokens
    for modality, counts in usage.modalities.items():
        for k, n in counts.items():
            a[semconv.GEN_AI_USAGE_MODALITY_TEMPLATE.format(modality=modality, kind=k)] = n
    a[semconv.USAGE_SOURCE] = usage.source
    if usage.estimator:
        a[semconv.USAGE_ESTIMATOR] = usage.estimator
    return a


def cost_attributes(cost: Cost) -> dict[str, Any]:
    a: dict[str, Any] = {semconv.COST_USD: cost.total_usd, semconv.COST_SOURCE: cost.source}
    if cost.input_usd is not None:
        a[semconv.COST_INPUT_USD] = cost.input_usd
    if cost.output_usd is not None:
        a[semconv.COST_OUTPUT_USD] = cost.output_usd
    if cost.cache_read_usd is not None:
        a[semconv.COST_CACHE_READ_USD] = cost.cache_read_usd
    if cost.cache_write_usd is not None:
        a[semconv.COST_CACHE_WRITE_USD] = cost.cache_write_usd
    if cost.reasoning_usd is not None:
        a[semconv.COST_REASONING_USD] = cost.reasoning_usd
    return a


_METRIC_KEYS = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
)


def attribution_attributes(attribution: Attribution) -> dict[str, Any]:
    """``attribution``'s span attributes as labels: user, session and tenant ids, the feature and
    allow-listed metadata values bounded and scrubbed of credentials (the app's metadata may
    quote a URL with a password or key, or a token)."""
    return bound_labels(attribution.span_attributes())


def metric_base(start_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Low-cardinality attributes for metrics: never ids, never content."""
    return {k: start_attrs[k] for k in _METRIC_KEYS if k in start_attrs}


def error_type_of(error: BaseException | str) -> str:
    """``error.type``: the given string, else the exception's class name (builtins unqualified,
    others qualified by module, as ``exception.type`` is). Low cardinality by construction."""
    if isinstance(error, str):
        return error or semconv.ERROR_TYPE_OTHER
    cls = type(error)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def end_attributes(
    kind: OperationKind,
    outcome: Outcome | None,
    usage: Usage | None,
    cost: Cost | None,
    error_type: str | None,
    content: Mapping[str, Any] | None,
    *,
    estimates: bool = False,
) -> dict[str, Any]:
    """Every attribute a span gets at end, built in one place from what end computed first:
    the outcome's response fields, usage, cost, ``error.type`` and (span capture) content."""
    a = outcome_attributes(kind, outcome) if outcome is not None else {}
    if usage is not None:
        a.update(usage_attributes(usage, full=True, estimates=estimates))
    if cost is not None:
        a.update(cost_attributes(cost))
    if error_type is not None:
        a[semconv.ERROR_TYPE] = error_type
    if content:
        a.update(content)
    return a


def end_metric_attributes(
    base: dict[str, Any], outcome: Outcome | None, error_type: str | None
) -> dict[str, Any]:
    """The start's metric attributes plus what only end knows (response model, error type)."""
    if outcome is not None and outcome.response_model:
        base = {**base, semconv.GEN_AI_RESPONSE_MODEL: label(outcome.response_model)}
    if error_type is not None:
        base = {**base, semconv.ERROR_TYPE: error_type}
    return base

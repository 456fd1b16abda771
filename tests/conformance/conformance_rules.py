"""The GenAI conventions, as data: what each span, metric and event must, should and must not carry.

Written from the conventions' own model (semantic-conventions-genai main, late 2026, digested in
/work/shared/docs/genai-semconv.md) and the installed ``opentelemetry-semantic-conventions``
package (the v1.41 ``gen_ai.*`` registry). Attribute names here are the conventions' spelling on
purpose: this is an independent check of what genai-trace emits, so it does not import our names.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes

STR, INT, DOUBLE, BOOL, STRS = "string", "int", "double", "boolean", "string[]"

# Registry: the v1.41 names from the package, plus those added on genai main since.
REGISTRY: set[str] = {
    v
    for k, v in vars(gen_ai_attributes).items()
    if k.startswith("GEN_AI_") and isinstance(v, str) and v.startswith("gen_ai.")
}
REGISTRY |= {
    "gen_ai.request.stream",  # not in the older packages CI's lowest deps install
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.retrieval.top_k",
    "gen_ai.retrieval.query.text",
    "gen_ai.retrieval.documents",
    "gen_ai.token.modality",
    "gen_ai.invocation.is_nested",
    "gen_ai.request.reasoning.level",
    "gen_ai.request.previous_response.id",
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.workflow.name",
    "gen_ai.prompt.name",
    "gen_ai.prompt.version",
}
PREFIXED = ("gen_ai.prompt.variable.", "gen_ai.usage.text.", "gen_ai.usage.image.")
PREFIXED += ("gen_ai.usage.audio.",)

DEPRECATED = {
    "gen_ai.system",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.openai.request.seed",
    "gen_ai.openai.request.response_format",
    "gen_ai.openai.response.service_tier",
}

TYPES: dict[str, str] = {
    "gen_ai.operation.name": STR,
    "gen_ai.provider.name": STR,
    "gen_ai.conversation.id": STR,
    "gen_ai.output.type": STR,
    "gen_ai.request.model": STR,
    "gen_ai.request.choice.count": INT,
    "gen_ai.request.seed": INT,
    "gen_ai.request.stream": BOOL,
    "gen_ai.request.top_k": INT,
    "gen_ai.request.max_tokens": INT,
    "gen_ai.request.temperature": DOUBLE,
    "gen_ai.request.top_p": DOUBLE,
    "gen_ai.request.frequency_penalty": DOUBLE,
    "gen_ai.request.presence_penalty": DOUBLE,
    "gen_ai.request.stop_sequences": STRS,
    "gen_ai.request.encoding_formats": STRS,
    "gen_ai.request.reasoning.level": STR,
    "gen_ai.response.id": STR,
    "gen_ai.response.model": STR,
    "gen_ai.response.finish_reasons": STRS,
    "gen_ai.response.time_to_first_chunk": DOUBLE,
    "gen_ai.usage.input_tokens": INT,
    "gen_ai.usage.output_tokens": INT,
    "gen_ai.usage.cache_read.input_tokens": INT,
    "gen_ai.usage.cache_write.input_tokens": INT,
    "gen_ai.usage.reasoning.output_tokens": INT,
    "gen_ai.embeddings.dimension.count": INT,
    "gen_ai.data_source.id": STR,
    "gen_ai.retrieval.top_k": INT,
    "gen_ai.retrieval.query.text": STR,
    "gen_ai.tool.name": STR,
    "gen_ai.tool.call.id": STR,
    "gen_ai.tool.description": STR,
    "gen_ai.tool.type": STR,
    "gen_ai.agent.name": STR,
    "gen_ai.agent.description": STR,
    "gen_ai.workflow.name": STR,
    "gen_ai.invocation.is_nested": BOOL,
    "gen_ai.token.modality": STR,
    "gen_ai.token.type": STR,
    "server.address": STR,
    "server.port": INT,
    "error.type": STR,
}

ENUMS: dict[str, set[str]] = {
    "gen_ai.operation.name": {
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "create_agent",
        "invoke_agent",
        "invoke_workflow",
        "handle_conversation_turn",
        "plan",
        "fetch_response",
        "create_memory_store",
        "delete_memory_store",
        "create_memory",
        "update_memory",
        "upsert_memory",
        "search_memory",
        "delete_memory",
    },
    "gen_ai.output.type": {"text", "json", "image", "speech"},
    "gen_ai.tool.type": {"function", "extension", "datastore"},
    "gen_ai.token.modality": {"text", "image", "audio", "unknown"},
    "gen_ai.token.type": {"input", "output"},
}

# Content (opt-in) attributes: JSON text on spans, structured on events; checked by schema.
CONTENT = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.retrieval.documents",
)
OPT_IN = set(CONTENT) | {
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.retrieval.query.text",
}

INFERENCE = {"chat", "text_completion", "generate_content"}


class SpanRule:
    """What one operation's span carries: kind, required, recommended, forbidden attributes."""

    def __init__(
        self,
        kind: str,
        required: tuple[str, ...],
        recommended: tuple[str, ...] = (),
        forbidden: tuple[str, ...] = (),
        name_attr: str | None = None,
    ) -> None:
        self.kind = kind
        self.required = required
        self.recommended = recommended
        self.forbidden = forbidden
        self.name_attr = name_attr


_RESPONSE = ("gen_ai.response.id", "gen_ai.response.model", "gen_ai.response.finish_reasons")
_USAGE = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
SPANS: dict[str, SpanRule] = {
    **{
        op: SpanRule(
            "CLIENT",
            ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model"),
            ("server.address", *_RESPONSE, *_USAGE),
            name_attr="gen_ai.request.model",
        )
        for op in INFERENCE
    },
    "embeddings": SpanRule(
        "CLIENT",
        ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model"),
        ("server.address", "gen_ai.response.model", "gen_ai.embeddings.dimension.count"),
        name_attr="gen_ai.request.model",
    ),
    "retrieval": SpanRule(
        "CLIENT",
        ("gen_ai.operation.name",),
        forbidden=("gen_ai.request.top_k",),  # renamed gen_ai.retrieval.top_k
        name_attr="gen_ai.data_source.id",
    ),
    "execute_tool": SpanRule(
        "INTERNAL",
        ("gen_ai.operation.name", "gen_ai.tool.name"),
        ("gen_ai.tool.type",),
        name_attr="gen_ai.tool.name",
    ),
    "invoke_agent": SpanRule(
        "INTERNAL",
        ("gen_ai.operation.name",),
        forbidden=(
            "gen_ai.provider.name",
            "gen_ai.agent.id",
            "gen_ai.agent.version",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_write.input_tokens",
        ),
        name_attr="gen_ai.agent.name",
    ),
    "invoke_workflow": SpanRule(
        "INTERNAL",
        ("gen_ai.operation.name",),
        forbidden=("gen_ai.provider.name", "gen_ai.request.model", "gen_ai.agent.id"),
        name_attr="gen_ai.workflow.name",
    ),
}

# Metrics: instrument type, unit, required attributes (beyond operation/provider where noted).
BASE = ("gen_ai.operation.name", "gen_ai.provider.name")
METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "gen_ai.client.inference.duration": ("histogram", "s", BASE),
    "gen_ai.client.inference.time_to_first_chunk": ("histogram", "s", BASE),
    "gen_ai.client.inference.time_per_output_chunk": ("histogram", "s", BASE),
    "gen_ai.client.inference.operation.input_tokens": ("histogram", "{token}", BASE),
    "gen_ai.client.inference.operation.output_tokens": ("histogram", "{token}", BASE),
    "gen_ai.client.embeddings.duration": ("histogram", "s", BASE),
    "gen_ai.client.embeddings.operation.input_tokens": ("histogram", "{token}", BASE),
    "gen_ai.client.operation.duration": ("histogram", "s", ("gen_ai.operation.name",)),
    "gen_ai.invocation.duration": (
        "histogram",
        "s",
        ("gen_ai.operation.name", "gen_ai.invocation.is_nested"),
    ),
    "gen_ai.execute_tool.duration": ("histogram", "s", ("gen_ai.tool.name",)),
    "gen_ai.invoke_agent.inference_calls": ("histogram", "{inference_call}", ()),
    "gen_ai.invoke_agent.tool_calls": ("histogram", "{tool_call}", ()),
}
for _kind in ("input_tokens", "output_tokens", "cache_read.input_tokens"):
    METRICS[f"gen_ai.client.inference.usage.{_kind}"] = (
        "counter",
        "{token}",
        (*BASE, "gen_ai.token.modality"),
    )
METRICS["gen_ai.client.inference.usage.cache_write.input_tokens"] = METRICS[
    "gen_ai.client.inference.usage.input_tokens"
]
METRICS["gen_ai.client.inference.usage.reasoning.output_tokens"] = METRICS[
    "gen_ai.client.inference.usage.input_tokens"
]
# Per-operation token histograms of model calls: a call with usage on its span records it there,
# and a failed call records a point (its usage, else 0) with its error.type.
TOKEN_HISTOGRAMS = {
    **{op: "gen_ai.client.inference.operation.input_tokens" for op in INFERENCE},
    "embeddings": "gen_ai.client.embeddings.operation.input_tokens",
}
# Never on metrics: ids and content (cardinality, privacy).
METRIC_FORBIDDEN = (
    "gen_ai.response.id",
    "gen_ai.conversation.id",
    "gen_ai.tool.call.id",
    *OPT_IN,
)

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
EXCEPTION_EVENT = "gen_ai.client.operation.exception"
SEVERITY = {DETAILS_EVENT: 5, EXCEPTION_EVENT: 13}  # DEBUG, WARN


def type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STR
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return STRS
    return type(value).__name__

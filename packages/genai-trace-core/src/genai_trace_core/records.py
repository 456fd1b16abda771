"""The records integrations hand to core: what happened, in our words.

An integration builds an :class:`Operation` when a framework run starts and an :class:`Outcome`
when it ends. Neither carries an OpenTelemetry attribute name; core turns them into spans, metrics
and events. Content fields are filled only when :func:`genai_trace_core.capture_enabled` says so,
or given as zero-argument callables that core calls only when content is captured.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genai_trace_core import semconv


class OperationKind(str, enum.Enum):
    """What a span stands for. Values are the ``gen_ai.operation.name`` values (or ``step``)."""

    CHAT = semconv.OP_CHAT
    TEXT_COMPLETION = semconv.OP_TEXT_COMPLETION
    EMBEDDINGS = semconv.OP_EMBEDDINGS
    RETRIEVAL = semconv.OP_RETRIEVAL
    EXECUTE_TOOL = semconv.OP_EXECUTE_TOOL
    INVOKE_AGENT = semconv.OP_INVOKE_AGENT
    INVOKE_WORKFLOW = semconv.OP_INVOKE_WORKFLOW
    HANDLE_CONVERSATION_TURN = semconv.OP_HANDLE_CONVERSATION_TURN
    # An inner framework step (sequence step, prompt, parser, graph node, query, synthesize):
    # an INTERNAL span with no gen_ai.operation.name, carrying genai_trace.run.* attributes.
    STEP = "step"

    @property
    def is_inference(self) -> bool:
        """Chat or text completion: a model call that produces output tokens."""
        return self in _INFERENCE

    @property
    def is_model_call(self) -> bool:
        """Inference or embeddings: a call whose usage and cost are computed at end."""
        return self in _MODEL_CALLS

    @property
    def is_invocation(self) -> bool:
        """An agent, workflow or conversation turn: the ``gen_ai.invocation.*`` family."""
        return self in _INVOCATIONS


_INFERENCE = frozenset({OperationKind.CHAT, OperationKind.TEXT_COMPLETION})
_MODEL_CALLS = _INFERENCE | {OperationKind.EMBEDDINGS}
_INVOCATIONS = frozenset(
    {
        OperationKind.INVOKE_AGENT,
        OperationKind.INVOKE_WORKFLOW,
        OperationKind.HANDLE_CONVERSATION_TURN,
    }
)


# --- content: messages in the semconv shape ------------------------------------------------------


@dataclass(slots=True)
class TextPart:
    content: str
    type: str = "text"


@dataclass(slots=True)
class ReasoningPart:
    content: str
    type: str = "reasoning"


@dataclass(slots=True)
class ToolCallPart:
    name: str
    arguments: Any = None
    id: str | None = None
    type: str = "tool_call"


@dataclass(slots=True)
class ToolCallResponsePart:
    response: Any
    id: str | None = None
    type: str = "tool_call_response"


@dataclass(slots=True)
class BlobPart:
    """Inline binary content. Core never exports the bytes; it records modality and size.

    ``size`` is the decoded size in bytes when the integration knows it without the bytes at
    hand (a file the framework reads at call time: its size on disk); when ``None`` it is
    measured from ``content`` (a ``str`` is taken as base64), and omitted if ``content`` is
    ``None`` too (not knowable)."""

    modality: str
    content: bytes | str | None
    mime_type: str | None = None
    size: int | None = None
    type: str = "blob"


@dataclass(slots=True)
class UriPart:
    """Content referenced by URI. Exported scrubbed of credentials (a ``data:`` URI as a blob)."""

    modality: str
    uri: str
    mime_type: str | None = None
    type: str = "uri"


@dataclass(slots=True)
class FilePart:
    """Content uploaded to the provider beforehand, referenced by its file id."""

    modality: str
    file_id: str
    mime_type: str | None = None
    type: str = "file"


Part = (
    TextPart | ReasoningPart | ToolCallPart | ToolCallResponsePart | BlobPart | UriPart | FilePart
)


@dataclass(slots=True)
class Message:
    role: str
    parts: list[Part] = field(default_factory=list)
    name: str | None = None


@dataclass(slots=True)
class ToolDefinition:
    name: str
    description: str | None = None
    parameters: Any = None
    type: str = "function"


@dataclass(slots=True)
class Document:
    """A retrieved document. ``content`` is exported only when content capture is on."""

    id: str | None = None
    score: float | None = None
    content: str | None = None


# --- usage and cost -------------------------------------------------------------------------------


@dataclass(slots=True)
class Usage:
    """Normalised token usage. ``input_tokens`` includes cache read and cache write tokens;
    ``cache_*`` and ``reasoning`` are subsets. ``source`` is ``provider`` or ``estimated``."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    # modality -> {"input_tokens": n, "output_tokens": n, "cache_read.input_tokens": n}
    modalities: dict[str, dict[str, int]] = field(default_factory=dict)
    source: str = semconv.USAGE_SOURCE_PROVIDER
    estimator: str | None = None  # encoding name or "heuristic" when source == "estimated"

    @property
    def is_empty(self) -> bool:
        return self.input_tokens is None and self.output_tokens is None


@dataclass(slots=True, frozen=True)
class Cost:
    """Cost of one operation in USD. Parts are ``None`` where the price has no such component."""

    total_usd: float
    input_usd: float | None = None
    output_usd: float | None = None
    cache_read_usd: float | None = None
    cache_write_usd: float | None = None
    reasoning_usd: float | None = None
    source: str = "genai-prices"


# --- request and records --------------------------------------------------------------------------


@dataclass(slots=True)
class RequestParams:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop_sequences: Sequence[str] | None = None
    seed: int | None = None
    choice_count: int | None = None
    stream: bool = False
    output_type: str | None = None
    reasoning_level: str | None = None
    encoding_formats: Sequence[str] | None = None


Lazy = Callable[[], Any]


@dataclass(slots=True)
class Operation:
    """What started. Built by an integration, read by core once at span start.

    ``name`` means: the workflow/agent/tool name, the data source id for retrieval, or the run
    name of a step. Content fields (``input_messages``, ``system_instructions``, ``tool_arguments``,
    ``query``, ``tool_definitions``, ``prompt_variables``) may be values or zero-argument callables;
    core evaluates them only when content capture is on. ``estimate_input`` is a zero-argument
    callable returning the texts to count when the provider reports no usage; it is called at
    most once, at end.
    """

    kind: OperationKind
    name: str | None = None
    provider: str | None = None
    request_model: str | None = None
    framework: str | None = None
    run_type: str | None = None
    request: RequestParams | None = None
    server_address: str | None = None
    server_port: int | None = None
    # agent / tool / retrieval details
    description: str | None = None
    agent_name: str | None = None
    tool_call_id: str | None = None
    tool_type: str | None = None
    top_k: int | None = None
    # attribution (see genai_trace_core.attribution)
    conversation_id: str | None = None
    user_id: str | None = None
    tenant_id: str | None = None
    feature: str | None = None
    metadata: Mapping[str, Any] | None = None
    tags: Sequence[str] | None = None
    # content (values or lazies)
    input_messages: Sequence[Message] | Lazy | None = None
    system_instructions: Sequence[Part] | Lazy | None = None
    tool_definitions: Sequence[ToolDefinition] | Lazy | None = None
    tool_arguments: Any = None
    query: str | Lazy | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    # template variable name -> value: gen_ai.prompt.variable.<name> (content; lazy like the rest)
    prompt_variables: Mapping[str, Any] | Lazy | None = None
    estimate_input: Callable[[], Sequence[str]] | None = None
    # framework attributes keyed by names from genai_trace_core.semconv
    attributes: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Outcome:
    """What ended. Every field is optional; ``raw_usage`` is any provider payload that
    :func:`genai_trace_core.normalize_usage` understands (or a ready :class:`Usage`)."""

    raw_usage: Any = None
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: Sequence[str] | None = None
    output_messages: Sequence[Message] | Lazy | None = None
    estimate_output: Callable[[], Sequence[str]] | None = None
    documents: Sequence[Document] | None = None
    tool_result: Any = None
    embedding_dimension: int | None = None
    embedding_input_count: int | None = None
    attributes: Mapping[str, Any] | None = None

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
from genai_trace_core._message_parts import (
    BlobPart,
    FilePart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    UriPart,
)
from genai_trace_core._usage_cost import Cost, Usage

__all__ = [
    "BlobPart",
    "Cost",
    "Document",
    "FilePart",
    "Lazy",
    "Message",
    "Operation",
    "OperationKind",
    "Outcome",
    "Part",
    "ReasoningPart",
    "RequestParams",
    "TextPart",
    "ToolCallPart",
    "ToolCallResponsePart",
    "ToolDefinition",
    "Usage",
    "UriPart",
]


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
class Message:
    """A chat message in the semconv shape: a role and its parts."""

    role: str
    """``user``, ``assistant``, ``system``, ``tool`` (or the framework's own role)."""
    parts: list[Part] = field(default_factory=list)
    """What the message holds, in order: text, tool calls and responses, media."""
    name: str | None = None
    """The participant's name, when the framework gives one."""
    finish_reason: str | None = None
    """Output messages: filled by core from the outcome's finish reasons when left out."""


@dataclass(slots=True)
class ToolDefinition:
    """A tool the model may call, as offered in the request."""

    name: str
    """The tool's name, as the model calls it."""
    description: str | None = None
    """What the tool does, as told to the model."""
    parameters: Any = None
    """The JSON schema of its arguments."""
    type: str = "function"
    """The tool type: ``function``, or a provider's built-in tool type."""


@dataclass(slots=True)
class Document:
    """A retrieved document. ``content`` is exported only when content capture is on."""

    id: str | None = None
    """The document's id in its store (or its source name)."""
    score: float | None = None
    """The retriever's relevance score."""
    content: str | None = None
    """The document's text (content)."""


# --- request and records --------------------------------------------------------------------------


@dataclass(slots=True)
class RequestParams:
    """The request parameters of a model call: the ``gen_ai.request.*`` attributes."""

    max_tokens: int | None = None
    """The most output tokens the model may produce."""
    temperature: float | None = None
    """Sampling temperature."""
    top_p: float | None = None
    """Nucleus sampling: the probability mass considered."""
    top_k: int | None = None
    """Sampling from the ``k`` most likely tokens (not the retrieval ``top_k``)."""
    frequency_penalty: float | None = None
    """Penalty on tokens by how often they appeared."""
    presence_penalty: float | None = None
    """Penalty on tokens that appeared at all."""
    stop_sequences: Sequence[str] | None = None
    """Sequences that stop generation."""
    seed: int | None = None
    """The sampling seed."""
    choice_count: int | None = None
    """How many choices were asked for (exported only when not 1)."""
    stream: bool = False
    """The response was requested as a stream (``gen_ai.request.stream``)."""
    output_type: str | None = None
    """``text``, ``json``, ``image`` or ``speech``: ``gen_ai.output.type``."""
    reasoning_level: str | None = None
    """The reasoning effort asked for (``low``, ``medium``, ``high``...)."""
    encoding_formats: Sequence[str] | None = None
    """Embeddings: the encodings asked for (``float``, ``base64``)."""


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
    """What the span stands for; decides its name, kind and attributes."""
    name: str | None = None
    """Workflow, agent or tool name; the data source id (retrieval); a step's run name."""
    provider: str | None = None
    """``gen_ai.provider.name`` (see :func:`genai_trace_core.resolve_provider`)."""
    request_model: str | None = None
    """The model asked for: ``gen_ai.request.model``."""
    framework: str | None = None
    """The framework that ran it (``langchain``, ``llama_index``)."""
    run_type: str | None = None
    """The framework's own kind of run (``chain``, ``retriever``, ``query``...)."""
    request: RequestParams | None = None
    """The model call's request parameters."""
    server_address: str | None = None
    """The provider's host: ``server.address``."""
    server_port: int | None = None
    """Its port (exported only with an address)."""
    # agent / tool / retrieval details
    description: str | None = None
    """A tool's or an agent's description."""
    agent_name: str | None = None
    """The agent a tool call or an agent invocation belongs to."""
    tool_call_id: str | None = None
    """The model's id of the tool call this tool run answers."""
    tool_type: str | None = None
    """``function`` (default), ``extension`` or ``datastore``."""
    top_k: int | None = None
    """Retrieval: how many documents were asked for."""
    # attribution (see genai_trace_core.attribution)
    conversation_id: str | None = None
    """The conversation (thread, session) this belongs to."""
    user_id: str | None = None
    """The end user it runs for."""
    tenant_id: str | None = None
    """The tenant (customer, workspace) it runs for."""
    feature: str | None = None
    """The product feature it serves."""
    metadata: Mapping[str, Any] | None = None
    """Framework metadata; only keys allow-listed in ``Settings.metadata_keys`` export."""
    tags: Sequence[str] | None = None
    """Framework tags: ``genai_trace.run.tags``."""
    # content (values or lazies)
    input_messages: Sequence[Message] | Lazy | None = None
    """The chat history sent to the model (content; value or lazy)."""
    system_instructions: Sequence[Part] | Lazy | None = None
    """System instructions sent apart from the messages (content)."""
    tool_definitions: Sequence[ToolDefinition] | Lazy | None = None
    """The tools offered to the model (content; value or lazy)."""
    tool_arguments: Any = None
    """A tool run's arguments (content; value or lazy)."""
    query: str | Lazy | None = None
    """A retrieval or query step's query text (content; value or lazy)."""
    prompt_name: str | None = None
    """The name of the prompt template used: ``gen_ai.prompt.name``."""
    prompt_version: str | None = None
    """Its version (exported only with a name)."""
    # template variable name -> value: gen_ai.prompt.variable.<name> (content; lazy like the rest)
    prompt_variables: Mapping[str, Any] | Lazy | None = None
    """The template's variables: ``gen_ai.prompt.variable.<name>`` (content)."""
    estimate_input: Callable[[], Sequence[str]] | None = None
    """The input texts to count, when the provider reports no usage."""
    # framework attributes keyed by names from genai_trace_core.semconv
    attributes: Mapping[str, Any] | None = None
    """Framework attributes keyed by :mod:`~genai_trace_core.semconv` names, set at start."""


@dataclass(slots=True)
class Outcome:
    """What ended. Every field is optional; ``raw_usage`` is any provider payload that
    :func:`genai_trace_core.normalize_usage` understands (or a ready :class:`Usage`)."""

    raw_usage: Any = None
    """The provider's usage payload, in any shape ``normalize_usage`` reads."""
    response_model: str | None = None
    """The model that answered: ``gen_ai.response.model``."""
    response_id: str | None = None
    """The provider's response id: ``gen_ai.response.id``."""
    finish_reasons: Sequence[str] | None = None
    """Why generation stopped, one per choice."""
    output_messages: Sequence[Message] | Lazy | None = None
    """The model's answer as messages (content; value or lazy)."""
    estimate_output: Callable[[], Sequence[str]] | None = None
    """The output texts to count, when the provider reports no usage."""
    documents: Sequence[Document] | None = None
    """What a retrieval returned (ids and scores; text is content)."""
    tool_result: Any = None
    """What a tool returned (content)."""
    tool_not_found: bool = False
    """The tool the model asked for is not one the agent has (the framework answered "not
    found"): the span keeps the name the model gave; ``gen_ai.execute_tool.duration`` records
    the call under ``semconv.TOOL_NAME_NOT_FOUND``, so invented names add no metric series."""
    embedding_dimension: int | None = None
    """The length of each embedding vector."""
    embedding_input_count: int | None = None
    """How many inputs were embedded."""
    attributes: Mapping[str, Any] | None = None
    """Framework attributes keyed by :mod:`~genai_trace_core.semconv` names, set at end."""

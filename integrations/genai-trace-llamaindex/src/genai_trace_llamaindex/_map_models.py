"""LlamaIndex model calls (chat, completion, embeddings) as core operations and outcomes.

Fed by both the dispatcher handlers and the legacy callback handler. Everything that is only
needed when content is captured, or only when the provider reports no usage, is passed to core
as a zero-argument callable: the default path reads a few fields only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from genai_trace_core import (
    Message,
    Operation,
    OperationKind,
    Outcome,
    RequestParams,
    TextPart,
    anthropic_default_base_url,
    get_field,
    normalize_usage,
    resolve_provider,
    responses_api_response,
    responses_finish_reason,
    semconv,
    server_from_url,
)
from genai_trace_llamaindex._map_steps import FRAMEWORK, as_int
from genai_trace_llamaindex._messages import (
    field,
    message_texts,
    prompt_messages,
    response_text,
    to_message,
    to_messages,
    tool_definitions,
)

OUTPUT_JSON = "json"  # gen_ai.output.type of a structured predict


@functools.lru_cache(maxsize=128)
def _server(api_base: str) -> tuple[str | None, int | None]:
    # The port from the scheme when the URL names none: server.port is conditionally required
    # once server.address is set.
    return server_from_url(api_base)


def _anthropic_base_url(instance: Any, model_dict: Mapping[str, Any]) -> str | None:
    """Where LlamaIndex's Anthropic LLM sends requests: its ``base_url``, else its SDK client's
    (which the SDK took from ``ANTHROPIC_BASE_URL`` or its default; a Vertex or Bedrock client,
    theirs). Another model only named like Claude (a gateway's) gets no guess."""
    if instance is None:  # the legacy callback path: the serialised model only
        if model_dict.get("class_name") != "Anthropic_LLM":
            return None
        return str(model_dict.get("base_url") or anthropic_default_base_url())
    url = get_field(instance, "base_url")
    if not url:
        url = getattr(getattr(instance, "_client", None), "base_url", None)
    return str(url) if url else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _request(
    kwargs: Mapping[str, Any], instance: Any, stream: bool, output_type: str | None
) -> RequestParams:
    def pick(name: str) -> Any:
        value = kwargs.get(name)
        return value if value is not None else get_field(instance, name)

    stop = kwargs.get("stop")
    return RequestParams(
        max_tokens=as_int(pick("max_tokens")),
        temperature=_number(pick("temperature")),
        top_p=_number(pick("top_p")),
        seed=as_int(pick("seed")),
        frequency_penalty=_number(kwargs.get("frequency_penalty")),
        presence_penalty=_number(kwargs.get("presence_penalty")),
        stop_sequences=[stop]
        if isinstance(stop, str)
        else stop
        if isinstance(stop, list)
        else None,
        stream=stream,
        output_type=output_type,
        reasoning_level=kwargs.get("reasoning_effort") or get_field(instance, "reasoning_effort"),
    )


def _model_operation(
    kind: OperationKind,
    model_dict: Mapping[str, Any] | None,
    instance: Any,
    model_keys: tuple[str, str],
    base_url: str | None = None,
    **fields: Any,
) -> Operation:
    """An inference or embeddings operation: the model, its provider and its server, from the
    serialised model (``model_dict``) or the model object, plus ``fields``."""
    md = model_dict or {}
    model = md.get(model_keys[0]) or md.get(model_keys[1]) or get_field(instance, model_keys[1])
    model = str(model) if model else None
    provider = None
    if instance is not None:
        provider = resolve_provider(type(instance).__name__, model)
    if provider is None:
        provider = resolve_provider(md.get("class_name"), model)
    api_base = get_field(instance, "api_base") if instance is not None else base_url
    if api_base is None and provider == semconv.PROVIDER_ANTHROPIC:
        api_base = _anthropic_base_url(instance, md)
    host, port = _server(api_base) if isinstance(api_base, str) else (None, None)
    fields.update(provider=provider, request_model=model, server_address=host, server_port=port)
    return Operation(kind=kind, framework=FRAMEWORK, **fields)


def llm_operation(
    *,
    chat: bool,
    model_dict: Mapping[str, Any] | None,
    instance: Any,
    messages: Sequence[Any] | None,
    prompt: str | None,
    additional_kwargs: Mapping[str, Any] | None,
    stream: bool,
    output_type: str | None = None,
    prompt_name: str | None = None,
    prompt_variables: Mapping[str, Any] | None = None,
) -> Operation:
    """A ``chat``/``text_completion`` operation from an LLM start event (or legacy payload)."""
    kwargs = additional_kwargs or {}
    tools = kwargs.get("tools") if chat else None
    if chat:
        msgs = messages or ()
        kind = OperationKind.CHAT
        inputs: Callable[[], Any] = lambda: to_messages(msgs)  # noqa: E731
        estimate: Callable[[], Any] = lambda: message_texts(msgs)  # noqa: E731
    else:
        text = prompt or ""
        kind = OperationKind.TEXT_COMPLETION
        inputs = lambda: prompt_messages(text)  # noqa: E731
        estimate = lambda: [text]  # noqa: E731
    return _model_operation(
        kind,
        model_dict,
        instance,
        ("model_name", "model"),
        request=_request(kwargs, instance, stream, output_type),
        prompt_name=prompt_name,
        prompt_variables=prompt_variables,
        input_messages=inputs,
        tool_definitions=(lambda: tool_definitions(tools)) if tools else None,
        estimate_input=estimate,
    )


def _finish_reasons(raw: Any) -> list[str] | None:
    choices = field(raw, "choices")
    if not isinstance(choices, Sequence) or isinstance(choices, str):
        reason = field(raw, "stop_reason") or field(raw, "finish_reason")
        return [str(reason)] if reason else None
    reasons = [str(r) for r in (field(c, "finish_reason") for c in choices) if r]
    return reasons or None


def chunk_finish_reasons(response: Any) -> list[str] | None:
    """The finish reasons a streamed chunk carries (OpenAI sends them before the usage chunk)."""
    return _finish_reasons(getattr(response, "raw", None)) if response is not None else None


def llm_outcome(response: Any, stream_finish: list[str] | None = None) -> Outcome:
    """The outcome of a ChatResponse/CompletionResponse (the last chunk when streamed;
    ``stream_finish``: the finish reasons an earlier chunk carried)."""
    if response is None:
        return Outcome()
    raw = getattr(response, "raw", None)
    reasons = _finish_reasons(raw) or stream_finish
    if not reasons:
        # OpenAI's Responses API (``OpenAIResponses``): a status, not a finish reason; when
        # streamed, ``raw`` is the event that ends the stream, the response (id, model, usage)
        # inside it.
        final = responses_api_response(raw)
        if final is not None:
            raw = final
            reason = responses_finish_reason(final)
            reasons = [reason] if reason else None
    model = field(raw, "model") or field(raw, "model_version")
    response_id = field(raw, "id") or field(raw, "response_id")
    message = getattr(response, "message", None)
    if message is not None:
        output = lambda: [to_message(message)]  # noqa: E731
    else:
        text = getattr(response, "text", "")
        output = lambda: [Message(role="assistant", parts=[TextPart(content=str(text or ""))])]  # noqa: E731
    # The provider payload first (raw.usage, raw.usage_metadata, raw["_raw_response"]): a
    # small search; the whole response (additional_kwargs, ...) only when it holds no usage.
    usage = normalize_usage(raw) if raw is not None else None
    if usage is None:
        usage = normalize_usage(response)
    return Outcome(
        raw_usage=usage,
        response_model=model if isinstance(model, str) else None,
        response_id=response_id if isinstance(response_id, str) else None,
        finish_reasons=reasons,
        output_messages=output,
        estimate_output=lambda: [response_text(response)],
    )


def embeddings_operation(
    model_dict: Mapping[str, Any] | None, instance: Any, texts: Any, base_url: str | None = None
) -> Operation:
    """``texts`` is a callable returning the embedded texts (known only at end); ``base_url``:
    the model's ``api_base`` (the event's ``model_dict`` leaves it out)."""
    return _model_operation(
        OperationKind.EMBEDDINGS,
        model_dict,
        instance,
        ("model_name", "model_name"),
        base_url,
        estimate_input=texts,
    )


def embeddings_outcome(chunks: Sequence[Any] | None, embeddings: Sequence[Any] | None) -> Outcome:
    dim = None
    if embeddings:
        first = embeddings[0]
        if isinstance(first, Sequence):
            dim = len(first)
        elif isinstance(first, Mapping):  # sparse embedding: {index: weight}
            dim = None
    return Outcome(
        embedding_dimension=dim,
        embedding_input_count=len(chunks) if chunks is not None else None,
    )

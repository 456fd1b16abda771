"""The one mapping from LlamaIndex payloads to core records, fed by both the dispatcher handlers
and the legacy callback handler.

Everything that is only needed when content is captured, or only when the provider reports no
usage, is passed to core as a zero-argument callable: the default path reads a few fields only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from genai_trace_core import (
    Document,
    Message,
    Operation,
    OperationKind,
    Outcome,
    Part,
    RequestParams,
    TextPart,
    normalize_usage,
    resolve_provider,
    semconv,
)
from genai_trace_llamaindex._messages import (
    field,
    message_texts,
    prompt_messages,
    response_text,
    to_message,
    to_messages,
    tool_definitions,
)

FRAMEWORK = "llama_index"
# A step that returned a stream whose model call runs when the caller reads it, after the step
# ended (the console waits for that call before printing the trace).
DEFERRED_STREAM = Outcome(attributes={semconv.STREAM_DEFERRED: True})
OUTPUT_JSON = "json"  # gen_ai.output.type of a structured predict


@functools.lru_cache(maxsize=128)
def _server(api_base: str) -> tuple[str | None, int | None]:
    try:
        parts = urlsplit(api_base)
        return parts.hostname, parts.port
    except ValueError:
        return None, None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _request(
    kwargs: Mapping[str, Any], instance: Any, stream: bool, output_type: str | None
) -> RequestParams:
    def pick(name: str) -> Any:
        value = kwargs.get(name)
        return value if value is not None else getattr(instance, name, None)

    stop = kwargs.get("stop")
    return RequestParams(
        max_tokens=_int(pick("max_tokens")),
        temperature=_number(pick("temperature")),
        top_p=_number(pick("top_p")),
        seed=_int(pick("seed")),
        frequency_penalty=_number(kwargs.get("frequency_penalty")),
        presence_penalty=_number(kwargs.get("presence_penalty")),
        stop_sequences=[stop]
        if isinstance(stop, str)
        else stop
        if isinstance(stop, list)
        else None,
        stream=stream,
        output_type=output_type,
        reasoning_level=kwargs.get("reasoning_effort")
        or getattr(instance, "reasoning_effort", None),
    )


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
    md = model_dict or {}
    kwargs = additional_kwargs or {}
    model = md.get("model_name") or md.get("model") or getattr(instance, "model", None)
    model = str(model) if model else None
    provider = None
    if instance is not None:
        provider = resolve_provider(type(instance).__name__, model)
    if provider is None:
        provider = resolve_provider(md.get("class_name"), model)
    api_base = getattr(instance, "api_base", None) if instance is not None else None
    host, port = _server(api_base) if isinstance(api_base, str) else (None, None)
    tools = kwargs.get("tools")
    if chat:
        msgs = messages or ()
        return Operation(
            kind=OperationKind.CHAT,
            provider=provider,
            request_model=model,
            framework=FRAMEWORK,
            request=_request(kwargs, instance, stream, output_type),
            prompt_name=prompt_name,
            prompt_variables=prompt_variables,
            server_address=host,
            server_port=port,
            input_messages=lambda: to_messages(msgs),
            tool_definitions=(lambda: tool_definitions(tools)) if tools else None,
            estimate_input=lambda: message_texts(msgs),
        )
    text = prompt or ""
    return Operation(
        kind=OperationKind.TEXT_COMPLETION,
        provider=provider,
        request_model=model,
        framework=FRAMEWORK,
        request=_request(kwargs, instance, stream, output_type),
        prompt_name=prompt_name,
        prompt_variables=prompt_variables,
        server_address=host,
        server_port=port,
        input_messages=lambda: prompt_messages(text),
        estimate_input=lambda: [text],
    )


def _finish_reasons(raw: Any) -> list[str] | None:
    choices = field(raw, "choices")
    if not isinstance(choices, Sequence) or isinstance(choices, str):
        reason = field(raw, "stop_reason") or field(raw, "finish_reason")
        return [str(reason)] if reason else None
    reasons = [str(r) for r in (field(c, "finish_reason") for c in choices) if r]
    return reasons or None


def llm_outcome(response: Any) -> Outcome:
    """The outcome of a ChatResponse/CompletionResponse (the last chunk when streamed)."""
    if response is None:
        return Outcome()
    raw = getattr(response, "raw", None)
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
        finish_reasons=_finish_reasons(raw),
        output_messages=output,
        estimate_output=lambda: [response_text(response)],
    )


def embeddings_operation(
    model_dict: Mapping[str, Any] | None, instance: Any, texts: Any
) -> Operation:
    """``texts`` is a callable returning the embedded texts (known only at end)."""
    md = model_dict or {}
    model = md.get("model_name") or getattr(instance, "model_name", None)
    model = str(model) if model else None
    provider = None
    if instance is not None:
        provider = resolve_provider(type(instance).__name__, model)
    if provider is None:
        provider = resolve_provider(md.get("class_name"), model)
    api_base = getattr(instance, "api_base", None) if instance is not None else None
    host, port = _server(api_base) if isinstance(api_base, str) else (None, None)
    return Operation(
        kind=OperationKind.EMBEDDINGS,
        provider=provider,
        request_model=model,
        framework=FRAMEWORK,
        server_address=host,
        server_port=port,
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


def query_text(query: Any) -> str:
    """A QueryBundle or a string as the query string."""
    text = getattr(query, "query_str", None)
    return str(text if text is not None else query)


def data_source_id(retriever: Any) -> str | None:
    """The store's own id: a vector store collection name, else the index id."""
    store = getattr(retriever, "_vector_store", None)
    for candidate in (store, getattr(getattr(retriever, "_index", None), "vector_store", None)):
        name = getattr(candidate, "collection_name", None) or getattr(candidate, "index_name", None)
        if isinstance(name, str) and name:
            return name
    index = getattr(retriever, "_index", None)
    index_id = getattr(index, "index_id", None)
    if not isinstance(index_id, str) or not index_id or _is_generated_id(index_id):
        return None  # an auto-generated uuid names nothing (and would explode span names)
    return index_id


def _is_generated_id(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


def retrieval_operation(retriever: Any, query: Any) -> Operation:
    top_k = getattr(retriever, "_similarity_top_k", None)
    if top_k is None:
        top_k = getattr(retriever, "similarity_top_k", None)
    return Operation(
        kind=OperationKind.RETRIEVAL,
        name=data_source_id(retriever) if retriever is not None else None,
        framework=FRAMEWORK,
        top_k=_int(top_k),
        query=lambda: query_text(query),
    )


def documents(nodes: Any, with_content: bool) -> list[Document] | None:
    """NodeWithScore list as core documents; node text only when content is captured."""
    if not isinstance(nodes, Sequence):
        return None
    out: list[Document] = []
    for n in nodes:
        node = getattr(n, "node", n)
        content = None
        if with_content:
            get_content = getattr(node, "get_content", None)
            content = get_content() if callable(get_content) else None
        score = getattr(n, "score", None)
        out.append(
            Document(
                id=getattr(node, "node_id", None),
                score=float(score) if isinstance(score, (int, float)) else None,
                content=content,
            )
        )
    return out


def step_operation(
    name: str,
    run_type: str,
    *,
    query: Any = None,
    attributes: Mapping[str, Any] | None = None,
) -> Operation:
    return Operation(
        kind=OperationKind.STEP,
        name=name,
        run_type=run_type,
        framework=FRAMEWORK,
        query=(lambda: query_text(query)) if query is not None else None,
        attributes=attributes,
    )


def tool_operation(
    name: str, call_id: str | None, arguments: Any, description: str | None = None
) -> Operation:
    return Operation(
        kind=OperationKind.EXECUTE_TOOL,
        name=name,
        framework=FRAMEWORK,
        tool_call_id=call_id,
        tool_type="function",
        description=description,
        tool_arguments=lambda: arguments,
    )


def tool_outcome(output: Any) -> tuple[Outcome, BaseException | str | None]:
    """The outcome of a ToolCallResult/ToolOutput and, when the tool reported an error, the
    error to fail the span with (its exception, else ``tool_error``)."""
    tool_output = getattr(output, "tool_output", output)
    if getattr(tool_output, "is_error", False):
        exc = getattr(tool_output, "exception", None)
        return Outcome(), exc if isinstance(exc, BaseException) else semconv.ERROR_TYPE_TOOL_ERROR
    raw = getattr(tool_output, "raw_output", None)
    result = raw if raw is not None else getattr(tool_output, "content", None)
    return Outcome(tool_result=result), None


def agent_operation(agent: Any) -> Operation:
    llm = getattr(agent, "llm", None)
    model = None
    if llm is not None:
        model = getattr(llm, "model", None) or getattr(
            getattr(llm, "metadata", None), "model_name", None
        )
    tools = getattr(agent, "tools", None)
    prompt = getattr(agent, "system_prompt", None)
    return Operation(
        kind=OperationKind.INVOKE_AGENT,
        name=getattr(agent, "name", None),
        agent_name=getattr(agent, "name", None),
        description=getattr(agent, "description", None),
        request_model=str(model) if model else None,
        framework=FRAMEWORK,
        tool_definitions=(lambda: tool_definitions(tools)) if tools else None,
        system_instructions=(lambda: _text_parts(prompt)) if prompt else None,
    )


def _text_parts(text: str) -> list[Part]:
    return [TextPart(content=text)]


def workflow_operation(name: str | None, attributes: Mapping[str, Any] | None) -> Operation:
    return Operation(
        kind=OperationKind.INVOKE_WORKFLOW,
        name=name,
        framework=FRAMEWORK,
        attributes=attributes,
    )


def rerank_operation(
    model: Any, top_n: Any, nodes: Any, query: Any, name: str = "rerank"
) -> Operation:
    attrs: dict[str, Any] = {}
    if model:
        attrs[semconv.RERANK_MODEL] = str(model)
    if _int(top_n) is not None:
        attrs[semconv.RERANK_TOP_N] = top_n
    if isinstance(nodes, Sequence):
        attrs[semconv.RERANK_INPUT_COUNT] = len(nodes)
    return step_operation(name, "rerank", query=query, attributes=attrs)

"""LlamaIndex retrievals, steps, tools, agents and workflows as core records.

Fed by both the dispatcher handlers and the legacy callback handler. Everything that is only
needed when content is captured is passed to core as a zero-argument callable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_trace_core import (
    Document,
    Operation,
    OperationKind,
    Outcome,
    Part,
    TextPart,
    bounded_description,
    semconv,
)
from genai_trace_llamaindex._messages import tool_definitions

FRAMEWORK = "llama_index"
# A step that returned a stream whose model call runs when the caller reads it, after the step
# ended (the console waits for that call before printing the trace).
DEFERRED_STREAM = Outcome(attributes={semconv.STREAM_DEFERRED: True})


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _op(kind: OperationKind, name: str | None, **fields: Any) -> Operation:
    return Operation(kind=kind, name=name, framework=FRAMEWORK, **fields)


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
    name = data_source_id(retriever) if retriever is not None else None
    return _op(OperationKind.RETRIEVAL, name, top_k=as_int(top_k), query=lambda: query_text(query))


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
    text = (lambda: query_text(query)) if query is not None else None
    return _op(OperationKind.STEP, name, run_type=run_type, query=text, attributes=attributes)


def rerank_operation(
    model: Any, top_n: Any, nodes: Any, query: Any, name: str = "rerank"
) -> Operation:
    attrs: dict[str, Any] = {}
    if model:
        attrs[semconv.RERANK_MODEL] = str(model)
    if as_int(top_n) is not None:
        attrs[semconv.RERANK_TOP_N] = top_n
    if isinstance(nodes, Sequence):
        attrs[semconv.RERANK_INPUT_COUNT] = len(nodes)
    return step_operation(name, "rerank", query=query, attributes=attrs)


def document_count(nodes: Any) -> dict[str, Any] | None:
    """The end attributes of a rerank: how many nodes it kept."""
    return {semconv.DOCUMENT_COUNT: len(nodes)} if isinstance(nodes, list) else None


# What LlamaIndex's agents answer when the model asks for a tool they do not have.
_NOT_FOUND = "Tool {} not found. Please select a tool that is available."


def tool_operation(
    name: str, call_id: str | None, arguments: Any, description: str | None = None
) -> Operation:
    return _op(
        OperationKind.EXECUTE_TOOL,
        name,
        tool_call_id=call_id,
        tool_type="function",
        description=bounded_description(description),
        tool_arguments=lambda: arguments,
    )


def tool_outcome(output: Any) -> tuple[Outcome, BaseException | str | None]:
    """The outcome of a ToolCallResult/ToolOutput and, when the tool reported an error, the
    error to fail the span with (its exception, else ``tool_error``)."""
    tool_output = getattr(output, "tool_output", output)
    if getattr(tool_output, "is_error", False):
        exc = getattr(tool_output, "exception", None)
        if isinstance(exc, BaseException):
            return Outcome(), exc
        return Outcome(tool_not_found=_not_found(tool_output)), semconv.ERROR_TYPE_TOOL_ERROR
    raw = getattr(tool_output, "raw_output", None)
    result = raw if raw is not None else getattr(tool_output, "content", None)
    return Outcome(tool_result=result), None


def _not_found(tool_output: Any) -> bool:
    """The agent's answer to a call of a tool it does not have (a name the model chose, maybe
    from the user's input): no output, and the text every agent's ``call_tool`` step gives
    (llama-index-core 0.12 to 0.14), naming the tool asked for."""
    name = getattr(tool_output, "tool_name", None)
    return (
        isinstance(name, str)
        and getattr(tool_output, "raw_output", None) is None
        and getattr(tool_output, "content", None) == _NOT_FOUND.format(name)
    )


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
        description=bounded_description(getattr(agent, "description", None)),
        request_model=str(model) if model else None,
        framework=FRAMEWORK,
        tool_definitions=(lambda: tool_definitions(tools)) if tools else None,
        system_instructions=(lambda: _text_parts(prompt)) if prompt else None,
    )


def _text_parts(text: str) -> list[Part]:
    return [TextPart(content=text)]


def workflow_operation(name: str | None, attributes: Mapping[str, Any] | None) -> Operation:
    return _op(OperationKind.INVOKE_WORKFLOW, name, attributes=attributes)

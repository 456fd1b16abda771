"""Callback arguments -> core ``Operation``/``Outcome`` records for chains, tools and retrievers,
and the conversions and attribution every mapping shares (chat and completion: ``_inference``).
Pure functions, no state.

Everything content-like is handed to core as a lazy callable; nothing is serialised here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_trace_core import (
    Document,
    Operation,
    OperationKind,
    Outcome,
    bounded_description,
    semconv,
)
from genai_trace_langchain._names import user_given
from genai_trace_langchain._tool_results import tool_result

FRAMEWORK = "langchain"
# A metadata key our instrumentor adds on vector-store retrievers (their ``search_kwargs["k"]``).
SEARCH_K_KEY = "ls_genai_trace_search_k"
# ... and their store's identity (collection/index name) where it has one: gen_ai.data_source.id.
DATA_SOURCE_KEY = "ls_genai_trace_data_source"
# ... and on tool-loop graphs (``_graph_patch``), one per name (``__``: kept out of checkpoints).
_AGENT_GRAPH_PREFIX = "__genai_trace_agent_graph:"


def agent_graph_key(graph_name: str) -> str:
    """The metadata key marking the graph named ``graph_name`` as a model-steered tool loop."""
    return _AGENT_GRAPH_PREFIX + graph_name


_CONVERSATION_KEYS = ("thread_id", "session_id", "conversation_id")
_INTERNAL_TAG_MARKERS = (":step:", ":attempt:", "map:key:", "langsmith:", "__")
RUN_ID_PREFIXES = ("run-", "lc_run-", "lc_")


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def retry_attempt(tags: Sequence[str] | None) -> int | None:
    """The attempt number LangChain's ``with_retry`` tags a retried child run with."""
    for tag in tags or ():
        if isinstance(tag, str) and tag.startswith("retry:attempt:"):
            return int(tag[14:]) if tag[14:].isdigit() else None
    return None


def _internal(tag: str) -> bool:
    return any(m in tag for m in _INTERNAL_TAG_MARKERS)


def user_tags(tags: Sequence[str] | None) -> list[str] | None:
    """Tags the user set; LangChain's own step tags (``seq:step:1``, ``graph:step:2``) dropped."""
    if not tags:
        return None
    kept = [t for t in tags if _is_user_tag(t)]
    return kept or None


# Tag -> "is a user tag", bounded: runs repeat the same few tags (``seq:step:1``, ``graph:step:2``).
_USER_TAG: dict[str, bool] = {}
_MAX_CACHED_TAGS = 2048


def _is_user_tag(tag: str) -> bool:
    if type(tag) is not str:  # a str subclass, or what an app passed (an id, ``None``: dropped)
        return tag is not None and not (isinstance(tag, str) and _internal(tag))
    kept = _USER_TAG.get(tag)
    if kept is None:
        kept = not _internal(tag)
        if len(_USER_TAG) < _MAX_CACHED_TAGS:
            _USER_TAG[tag] = kept
    return kept


def _has_graph_step(tags: Sequence[str] | None) -> bool:
    """LangGraph tags a node's own run ``graph:step:N``."""
    if tags:
        for tag in tags:
            if isinstance(tag, str) and tag.startswith("graph:step:"):
                return True
    return False


def _id_of(value: Any) -> str | None:
    """A metadata value as an id: ``None`` when falsy or its ``__bool__``/``__str__`` raises."""
    try:
        return str(value) if value else None
    except Exception:
        return None


def with_attribution(op: Operation, metadata: Mapping[str, Any] | None, tags: Any) -> Operation:
    if metadata:
        ids = (_id_of(metadata.get(key)) for key in _CONVERSATION_KEYS)
        op.conversation_id = next(filter(None, ids), op.conversation_id)
        op.user_id = _id_of(metadata.get("user_id")) or op.user_id
        op.metadata = metadata
    op.tags = user_tags(tags)
    return op


# --- chains, tools, retrievers ------------------------------------------------------------------


def _metadata_agent(name: str | None, metadata: Mapping[str, Any], nested: bool) -> str | None:
    """The agent name metadata gives a run. Every run inherits its parent's metadata (each chain,
    prompt and parser in a ``create_agent`` node or tool carries its ``lc_agent_name``), so below
    the root only the run named like it, the agent's own graph, is that agent."""
    agent = as_str(metadata.get("lc_agent_name")) or as_str(metadata.get("agent_name"))
    return agent if agent and (not nested or agent == name) else None


def _is_agent(name: str | None, metadata: Mapping[str, Any], nested: bool) -> bool:
    if _metadata_agent(name, metadata, nested):
        return True
    own = not nested and "langgraph_node" not in metadata  # not a node's metadata an app copied
    if own and any(type(k) is str and k.startswith(_AGENT_GRAPH_PREFIX) for k in metadata):
        return True  # a root's mark is its graph's own (only its config sets one): any run_name
    return name is not None and (
        "agent" in name.lower() or metadata.get(agent_graph_key(name)) is True
    )


def _is_marked_graph_run(
    name: str | None, metadata: Mapping[str, Any], tags: Sequence[str] | None
) -> bool:
    """The run of a graph ``_graph_patch`` marked as an agent, wherever it is invoked from (a
    user's chain or tool, a node). Its nodes and their chains inherit the mark, but under their
    own names; a node named like the graph is told apart by its ``graph:step`` tag."""
    if not name or metadata.get(agent_graph_key(name)) is not True:
        return False
    return not _has_graph_step(tags)


def _is_subgraph(metadata: Mapping[str, Any], tags: Sequence[str] | None) -> bool:
    """A LangGraph graph run inside a node: it opens the checkpoint namespace of that node."""
    ns = metadata.get("checkpoint_ns")
    node = metadata.get("langgraph_node")
    if not isinstance(ns, str) or not isinstance(node, str):
        return False
    return not _has_graph_step(tags) and ns.rsplit("|", 1)[-1].startswith(node + ":")


def chain_operation(
    name: str | None,
    run_type: str | None,
    parent_run_id: Any,
    metadata: Mapping[str, Any] | None,
    tags: Sequence[str] | None,
) -> Operation:
    meta = metadata or {}
    # A graph run inside a node is told apart from a chain the node runs (both carry its checkpoint
    # namespace) only by an agent name or a mark (``_graph_patch``); others are steps.
    sub_agent = parent_run_id is not None and (
        _is_marked_graph_run(name, meta, tags)
        or (_is_subgraph(meta, tags) and _is_agent(name, meta, nested=True))
    )
    top = parent_run_id is None or sub_agent
    attrs: dict[str, Any] = {}
    if name:
        attrs[semconv.RUN_NAME] = name
    if top or name == "AgentExecutor":
        nested = parent_run_id is not None
        agent_name = _metadata_agent(name, meta, nested)
        meaningful = user_given(name)
        if _is_agent(name, meta, nested) if top else True:
            op = Operation(
                OperationKind.INVOKE_AGENT,
                name=agent_name or meaningful,
                agent_name=agent_name or meaningful,
                framework=FRAMEWORK,
                attributes=attrs,
            )
        else:
            op = Operation(
                OperationKind.INVOKE_WORKFLOW,
                name=meaningful,
                framework=FRAMEWORK,
                attributes=attrs,
            )
        return with_attribution(op, metadata, tags)
    node = meta.get("langgraph_node")
    if isinstance(node, str) and _has_graph_step(tags):
        attrs[semconv.LANGGRAPH_NODE] = node
        step = as_int(meta.get("langgraph_step"))
        if step is not None:
            attrs[semconv.LANGGRAPH_STEP] = step
    op = Operation(
        OperationKind.STEP,
        name=name,
        run_type=run_type or "chain",
        framework=FRAMEWORK,
        attributes=attrs,
    )
    return with_attribution(op, metadata, tags)


def tool_operation(
    *,
    serialized: Mapping[str, Any] | None,
    input_str: str,
    inputs: Any,
    name: str | None,
    tool_call_id: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Sequence[str] | None,
) -> Operation:
    ser = serialized or {}
    op = Operation(
        OperationKind.EXECUTE_TOOL,
        name=name or as_str(ser.get("name")),
        description=bounded_description(ser.get("description")),
        tool_call_id=tool_call_id,
        tool_type="function",
        framework=FRAMEWORK,
        tool_arguments=inputs if inputs is not None else input_str,
    )
    return with_attribution(op, metadata, tags)


def retriever_operation(
    query: str,
    name: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Sequence[str] | None,
) -> Operation:
    meta = metadata or {}
    # The store's identity, never its class name: without one the span is named ``retrieval``.
    op = Operation(
        OperationKind.RETRIEVAL,
        name=as_str(meta.get(DATA_SOURCE_KEY)),
        top_k=as_int(meta.get(SEARCH_K_KEY)),
        framework=FRAMEWORK,
        query=query,
        request_model=as_str(meta.get("ls_embedding_model")),
        attributes={semconv.RUN_NAME: name} if name else None,
    )
    return with_attribution(op, metadata, tags)


_SCORE_KEYS = ("score", "relevance_score", "_similarity_score", "similarity_score")


def retriever_outcome(documents: Sequence[Any]) -> Outcome:
    docs: list[Document] = []
    for d in documents:
        meta = getattr(d, "metadata", None) or {}
        doc_id = getattr(d, "id", None) or meta.get("id") or meta.get("source")
        score = next((meta[k] for k in _SCORE_KEYS if k in meta), None)
        docs.append(
            Document(
                id=str(doc_id) if doc_id is not None else None,
                score=as_float(score),
                content=getattr(d, "page_content", None),
            )
        )
    return Outcome(documents=docs)


def tool_call_id_attributes(tool_call_id: Any) -> dict[str, Any] | None:
    """``gen_ai.tool.call.id`` for a tool span at its end, when the start did not know it.

    langchain-core releases before ``on_tool_start(tool_call_id=...)`` (1.0.x) name the call only
    in the ``ToolMessage`` a tool invoked with a tool call returns; the attribute is then set at
    end (the same value as at start on newer releases). A bare ``str`` output has no call id.
    """
    call_id = as_str(tool_call_id)
    return {semconv.GEN_AI_TOOL_CALL_ID: call_id} if call_id is not None else None


def tool_outcome(output: Any) -> tuple[Outcome, bool]:
    """The outcome of a tool run and whether it reported an error (``ToolMessage.status``)."""
    content = getattr(output, "content", output)
    failed = getattr(output, "status", None) == "error"
    attrs = tool_call_id_attributes(getattr(output, "tool_call_id", None))
    return Outcome(tool_result=tool_result(content), attributes=attrs), failed

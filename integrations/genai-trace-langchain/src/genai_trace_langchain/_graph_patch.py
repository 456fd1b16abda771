"""Marking LangGraph graphs whose control flow an LLM steers, so they start as ``invoke_agent``.

A hand-built tool loop (a model node whose tool calls ``tools_condition`` routes to a
``ToolNode``, whose results go back to the model) is an agent in the GenAI semantic conventions:
an LLM decides which tools run and when the loop ends. LangGraph's callbacks carry no trace of
the graph's structure (a graph run starts with ``serialized=None``), and the decision cannot wait
for the graph's end: its ``execute_tool`` spans need ``gen_ai.agent.name`` when they start.

So, while :class:`~genai_trace_langchain.LangChainInstrumentor` is active, ``StateGraph.compile``
is wrapped: a compiled graph with a ``ToolNode`` (LangGraph's prebuilt node that runs the tool
calls a model asked for) gets one metadata key, keyed by the graph's name, in its own config.
LangGraph merges a graph's config into every run of it, and metadata reaches the callbacks. The
key carries the name because child runs inherit their parent's metadata: a subgraph inside an
agent graph sees its parent's key, not one for its own name. At a root a key can only come from
the graph's own config, so any key marks it, under whatever ``run_name`` the caller gave it (a
nested graph is told by its name). Nothing runs per invocation.
``instrument()`` does not import LangGraph (wrapt's post-import hook wraps ``compile`` when
LangGraph is imported, or at once when it already is). Graphs compiled before ``instrument()``
are not marked: they stay workflows unless their name or metadata says agent. The metadata key
is not exported (only allow-listed keys are).

LangGraph 1.0 lets a caller's config replace the graph's own metadata instead of merging it
(``graph.invoke(x, {"metadata": {"user_id": ...}})`` would drop the mark, and a graph used as a
node always gets its caller's metadata). Where a probe of LangGraph's config merge shows that,
``Pregel.stream``/``astream`` (which ``invoke``/``ainvoke`` and subgraph nodes go through) are
wrapped too, as generator functions like theirs: a graph carrying a mark adds it to the caller's
metadata, a copy, when missing (on LangGraph 1.0 only: one more generator frame per item).
Where LangGraph merges (1.1 on), nothing is wrapped and nothing runs per invocation.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Generator
from typing import Any

import wrapt

from genai_trace_core import safe
from genai_trace_langchain._mapping import _AGENT_GRAPH_PREFIX, agent_graph_key
from genai_trace_langchain._wrapping import unwrap_method, wrap_method

_TOOL_NODE_CLASSES = frozenset({"ToolNode", "_ToolNode"})


def _runs_model_tool_calls(runnable: Any) -> bool:
    return any(cls.__name__ in _TOOL_NODE_CLASSES for cls in type(runnable).__mro__)


def _has_tool_node(builder: Any) -> bool:
    nodes = getattr(builder, "nodes", None)
    if not isinstance(nodes, dict):
        return False
    return any(_runs_model_tool_calls(getattr(spec, "runnable", None)) for spec in nodes.values())


@safe()  # telemetry never breaks compile: an error is logged once at debug
def _mark(builder: Any, compiled: Any) -> None:
    name = getattr(compiled, "name", None)
    if not isinstance(name, str) or not name or not _has_tool_node(builder):
        return
    config = dict(compiled.config or {})
    config["metadata"] = {**(config.get("metadata") or {}), agent_graph_key(name): True}
    compiled.config = config


class _State:
    active = False  # between instrument() and uninstrument()
    hooked = False  # the post-import hook is registered (once per process)


def patch_compile() -> None:
    """Wrap ``StateGraph.compile`` now if LangGraph is imported, else as soon as it is: the
    instrumentor never imports LangGraph itself (over a second on a cold start)."""
    _State.active = True
    if not _State.hooked:
        _State.hooked = True
        # Runs the hook right away when the module is already imported.
        wrapt.register_post_import_hook(_on_import, "langgraph.graph.state")
    else:
        module = sys.modules.get("langgraph.graph.state")
        if module is not None:
            _on_import(module)


@safe()
def _on_import(module: Any) -> None:
    if not _State.active:
        return

    def make(original: Any) -> Any:
        def compile(self: Any, *args: Any, **kwargs: Any) -> Any:
            compiled = original(self, *args, **kwargs)
            _mark(self, compiled)
            return compiled

        return compile

    wrap_method(module.StateGraph, "compile", make)
    _patch_config_merge()


def unpatch_compile() -> None:
    """Restore ``StateGraph.compile`` (and ``Pregel.stream``/``astream`` where wrapped); graphs
    compiled meanwhile keep their (inert) key."""
    _State.active = False
    module = sys.modules.get("langgraph.graph.state")
    if module is not None:
        unwrap_method(module.StateGraph, "compile")
    pregel = _pregel_class()
    if pregel is not None:
        for name in ("stream", "astream"):
            unwrap_method(pregel, name)


def _pregel_class() -> Any:
    module = sys.modules.get("langgraph.pregel.main")
    return getattr(module, "Pregel", None)


def _merges_metadata() -> bool:
    """Whether LangGraph merges a graph's own config metadata with its caller's (1.1 on) or lets
    the caller's replace it (1.0); unknown counts as merging (nothing is wrapped)."""
    ensure_config = getattr(sys.modules.get("langgraph.pregel.main"), "ensure_config", None)
    if ensure_config is None:
        return True
    merged = ensure_config({"metadata": {"own": 1}}, {"metadata": {"caller": 1}})
    return "own" in merged["metadata"]


def _with_own_marks(graph: Any, config: Any) -> Any:
    """``config`` with the marks of ``graph``'s own metadata added to its metadata (a copy), or
    ``config`` itself when it has no metadata to replace them or already holds them."""
    if not isinstance(config, dict) or not config.get("metadata"):
        return config
    own = (getattr(graph, "config", None) or {}).get("metadata") or {}
    marks = {k: v for k, v in own.items() if type(k) is str and k.startswith(_AGENT_GRAPH_PREFIX)}
    caller = config["metadata"]
    if not marks or all(k in caller for k in marks):
        return config
    return {**config, "metadata": {**caller, **marks}}


@safe()
def _patch_config_merge() -> None:
    pregel = _pregel_class()
    if pregel is None or _merges_metadata():
        return

    def make_stream(original: Any) -> Any:
        def stream(
            self: Any, input: Any, config: Any = None, **kwargs: Any
        ) -> Generator[Any, Any, Any]:
            return (yield from original(self, input, _marked_config(self, config), **kwargs))

        return stream

    def make_astream(original: Any) -> Any:
        async def astream(
            self: Any, input: Any, config: Any = None, **kwargs: Any
        ) -> AsyncIterator[Any]:
            inner = original(self, input, _marked_config(self, config), **kwargs)
            try:
                async for item in inner:
                    yield item
            finally:
                await inner.aclose()  # closed with ours, as the caller closes it

        return astream

    # generator functions, as LangGraph's are (inspect.isgeneratorfunction holds)
    wrap_method(pregel, "stream", make_stream)
    wrap_method(pregel, "astream", make_astream)


def _marked_config(graph: Any, config: Any) -> Any:
    try:
        return _with_own_marks(graph, config)
    except Exception:  # telemetry never breaks a graph run: the caller's config as given
        return config

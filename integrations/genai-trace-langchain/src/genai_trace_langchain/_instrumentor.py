"""``LangChainInstrumentor``: trace every LangChain run with no code change.

Enabling goes through langchain-core's supported ``register_configure_hook`` (see ``_hook``), not
by patching ``BaseCallbackManager.__init__``. While instrumented, the embed methods of every
``Embeddings`` subclass are wrapped (LangChain has no embedding callbacks) and vector-store
retrievers report their ``search_kwargs["k"]`` in the run metadata (for ``gen_ai.retrieval.top_k``);
LangGraph graphs compiled with a ``ToolNode`` are marked as agents (``_graph_patch``); a bare
async model or retriever call cut short ends its run where it raises (``_cut_short``).
``uninstrument`` removes the handler from every new run and restores every wrapped method.
Idempotent: ``BaseInstrumentor`` ignores a second ``instrument`` and a second ``uninstrument``.

``GENAI_TRACE_LANGCHAIN=false`` turns ``instrument()`` (also under ``opentelemetry-instrument``)
into a no-op; ``GENAI_TRACE_LANGCHAIN=true`` traces every run once this package is imported,
without calling ``instrument()``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from genai_trace_core import safe
from genai_trace_langchain import _cut_short, _graph_patch, _hook
from genai_trace_langchain._mapping import DATA_SOURCE_KEY, SEARCH_K_KEY
from genai_trace_langchain._wrapping import unwrap_method, wrap_method
from genai_trace_langchain.package import _instruments

if TYPE_CHECKING:
    from genai_trace_langchain._handler import OpenTelemetryCallbackHandler


def _store_identity(store: Any) -> str | None:
    """A vector store's collection/index name (Chroma, Qdrant, PGVector, Pinecone, ...)."""
    for attr in ("collection_name", "index_name", "table_name", "_collection_name"):
        value = getattr(store, attr, None)
        if isinstance(value, str) and value:
            return value
    name = getattr(getattr(store, "_collection", None), "name", None)
    return name if isinstance(name, str) and name else None


@safe(default={})  # any failure of ours (a store property that raises, ...): no additions
def _retriever_additions(retriever: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """What we add to a retriever's ``_get_ls_params``: its ``k`` and its store's identity."""
    added: dict[str, Any] = {}
    k = {**(retriever.search_kwargs or {}), **kwargs}.get(
        "k", 4 if retriever.search_type != "mmr" else None
    )
    if isinstance(k, int):
        added[SEARCH_K_KEY] = k
    source = _store_identity(retriever.vectorstore)
    if source:
        added[DATA_SOURCE_KEY] = source
    return added


def _patch_retriever_params() -> None:
    from langchain_core.vectorstores import VectorStoreRetriever

    def make(original: Any) -> Any:
        def _get_ls_params(self: Any, **kwargs: Any) -> Any:
            params = original(self, **kwargs)  # its own exceptions propagate unchanged
            # Computed apart, then added at once: if anything of ours fails, the caller gets
            # exactly what the original returned.
            added = _retriever_additions(self, kwargs)
            if added and isinstance(params, dict):
                params.update(added)
            return params

        return _get_ls_params

    wrap_method(VectorStoreRetriever, "_get_ls_params", make)


def _unpatch_retriever_params() -> None:
    from langchain_core.vectorstores import VectorStoreRetriever

    unwrap_method(VectorStoreRetriever, "_get_ls_params")


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """``LangChainInstrumentor().instrument(tracer_provider=..., meter_provider=...,
    logger_provider=..., settings=...)`` traces every LangChain and LangGraph run."""

    handler: OpenTelemetryCallbackHandler | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    @safe()
    def _instrument(self, **kwargs: Any) -> None:
        if _hook.env_disabled():
            return
        # LangChain is imported here, not at module import: the package imports without it.
        from genai_trace_langchain._embeddings_patch import PATCHER
        from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

        handler = OpenTelemetryCallbackHandler(
            kwargs.get("tracer_provider"),
            kwargs.get("meter_provider"),
            kwargs.get("logger_provider"),
            settings=kwargs.get("settings"),
            telemetry=kwargs.get("telemetry"),
        )
        self.handler = handler
        _hook.register()
        _hook.set_active(handler)
        PATCHER.patch(_hook.current_telemetry)
        _patch_retriever_params()
        _cut_short.patch()
        _graph_patch.patch_compile()

    @safe()
    def _uninstrument(self, **kwargs: Any) -> None:
        from genai_trace_langchain._embeddings_patch import PATCHER

        _hook.set_active(None)
        PATCHER.unpatch()
        _unpatch_retriever_params()
        _cut_short.unpatch()
        _graph_patch.unpatch_compile()
        handler, self.handler = self.handler, None
        if handler is not None:
            handler.telemetry.shutdown()

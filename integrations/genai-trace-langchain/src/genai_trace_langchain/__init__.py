"""genai-trace-langchain: LangChain and LangGraph runs as nested OpenTelemetry GenAI spans.

Three ways to enable: pass :class:`OpenTelemetryCallbackHandler` in ``callbacks``, call
``LangChainInstrumentor().instrument()``, or run under ``opentelemetry-instrument`` (entry point
``genai_trace_langchain``). See the README for what each span looks like.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genai_trace_langchain import _hook
from genai_trace_langchain._instrumentor import LangChainInstrumentor
from genai_trace_langchain.version import __version__

if TYPE_CHECKING:
    from genai_trace_langchain._embeddings import trace_embeddings
    from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

if _hook.env_enabled():  # GENAI_TRACE_LANGCHAIN=true: instrument on import, global providers
    LangChainInstrumentor().instrument()

__all__ = [
    "LangChainInstrumentor",
    "OpenTelemetryCallbackHandler",
    "__version__",
    "trace_embeddings",
]


def __getattr__(name: str) -> Any:
    """The handler and ``trace_embeddings`` import langchain-core: only when asked for, so the
    package (and its ``opentelemetry_instrumentor`` entry point) imports without it."""
    if name == "OpenTelemetryCallbackHandler":
        from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

        return OpenTelemetryCallbackHandler
    if name == "trace_embeddings":
        from genai_trace_langchain._embeddings import trace_embeddings

        return trace_embeddings
    raise AttributeError(name)

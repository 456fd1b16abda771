"""genai-trace-langchain: LangChain and LangGraph runs as nested OpenTelemetry GenAI spans.

Three ways to enable: pass :class:`OpenTelemetryCallbackHandler` in ``callbacks``, call
``LangChainInstrumentor().instrument()``, or run under ``opentelemetry-instrument`` (entry point
``genai_trace_langchain``). See the README for what each span looks like.
"""

from __future__ import annotations

from genai_trace_langchain import _hook
from genai_trace_langchain._embeddings import trace_embeddings
from genai_trace_langchain._handler import OpenTelemetryCallbackHandler
from genai_trace_langchain._instrumentor import LangChainInstrumentor
from genai_trace_langchain.version import __version__

if _hook.env_enabled():  # GENAI_TRACE_LANGCHAIN=true: instrument on import, global providers
    LangChainInstrumentor().instrument()

__all__ = [
    "LangChainInstrumentor",
    "OpenTelemetryCallbackHandler",
    "__version__",
    "trace_embeddings",
]

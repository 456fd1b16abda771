"""genai-trace-llamaindex: LlamaIndex queries, agents and workflows as OpenTelemetry GenAI spans.

``LlamaIndexInstrumentor().instrument()`` puts span and event handlers on LlamaIndex's root
instrumentation dispatcher; ``OpenTelemetryCallbackHandler`` serves the legacy callback manager.
Both feed one mapping into genai-trace-core. LlamaIndex is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genai_trace_llamaindex._instrumentor import LlamaIndexInstrumentor
from genai_trace_llamaindex.version import __version__

if TYPE_CHECKING:
    from genai_trace_llamaindex._callback import OpenTelemetryCallbackHandler

__all__ = ["LlamaIndexInstrumentor", "OpenTelemetryCallbackHandler", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "OpenTelemetryCallbackHandler":  # imports llama_index: only when asked for
        from genai_trace_llamaindex._callback import OpenTelemetryCallbackHandler

        return OpenTelemetryCallbackHandler
    raise AttributeError(name)

"""Where spans, metrics and log events go: :func:`configure` builds the SDK providers (OTLP, or the
terminal tree and JSONL), with guarded processors that never stall or crash the app, and
:func:`fast_tracer`: genai-trace's own spans without the SDK's per-span bookkeeping. The only wing
that imports ``opentelemetry.sdk`` at run time.
"""

from __future__ import annotations

from genai_trace_core.export._configure import Providers, configure
from genai_trace_core.export._fast import fast_tracer

__all__ = ["Providers", "configure", "fast_tracer"]

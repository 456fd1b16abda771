"""Where spans, metrics and log events go: :func:`configure` builds the SDK providers (OTLP, or the
terminal tree and JSONL), with guarded processors that never stall or crash the app. The only wing
that imports ``opentelemetry.sdk`` at run time.
"""

from __future__ import annotations

from genai_trace_core.export._configure import Providers, configure

__all__ = ["Providers", "configure"]

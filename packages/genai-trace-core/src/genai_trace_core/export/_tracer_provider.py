"""The SDK tracer provider :func:`~.configure` builds: it ends the runs still open as
``abandoned`` before it shuts down, however it is shut down (``Providers.shutdown()``, or its own
``shutdown()`` called by the app), so their spans still reach its processors."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from genai_trace_core.export._bounded import SHUTDOWN_TIMEOUT_S
from genai_trace_core.export._sdk_providers import ENDING_SHARE, end_open_runs


class EndingTracerProvider(TracerProvider):
    """An SDK ``TracerProvider`` that ends the runs still open before it shuts down."""

    def shutdown(self) -> None:
        """End the runs still open whose spans it exports (within half the shutdown budget),
        then the SDK's shutdown."""
        end_open_runs(self, SHUTDOWN_TIMEOUT_S * ENDING_SHARE)  # none left after Providers'
        super().shutdown()

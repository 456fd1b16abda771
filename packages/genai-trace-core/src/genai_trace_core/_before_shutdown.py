"""What must happen before a tracer provider genai-trace built shuts down, however it is shut
down (``Providers.shutdown()``, the SDK provider's own ``shutdown()``, interpreter exit).

``lifecycle`` registers "end the runs still open as ``abandoned``" here and ``export`` runs it
first when it shuts a provider down, so those spans reach processors that still export them. A
hook point in the base layer: ``export`` may not import ``lifecycle`` (the wings are layers).
Flushing never runs it: a flush must not end the runs still open. Shutting one provider down ends
only the runs whose spans it exports (``owns``): another provider's (the app's, while a side job
shuts its own down) stay open; interpreter exit ends them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genai_trace_core._safe import log_once

SpanOwner = Callable[[Any], bool]
"""Whether a span (a run's) is exported by the provider shutting down."""
_hooks: list[Callable[[SpanOwner], object]] = []


def register_before_shutdown(hook: Callable[[SpanOwner], object]) -> None:
    """Run ``hook`` before a provider genai-trace built shuts down (once, however often
    registered)."""
    if hook not in _hooks:
        _hooks.append(hook)


def run_before_shutdown(owns: SpanOwner) -> None:
    """Run every registered hook with ``owns`` (it ends only the runs whose span ``owns``
    accepts), in order; one that raises never stops the others or the shutdown."""
    for hook in list(_hooks):
        try:
            hook(owns)
        except Exception:
            log_once("before-shutdown", "genai-trace: ending the runs still open failed")

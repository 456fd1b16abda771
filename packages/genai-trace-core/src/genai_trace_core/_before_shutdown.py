"""What must happen before a tracer provider genai-trace built shuts down, however it is shut
down (``Providers.shutdown()``, the SDK provider's own ``shutdown()``, interpreter exit).

``lifecycle`` registers "end every run still open as ``abandoned``" here and ``export`` runs it
first when it shuts a provider down, so those spans reach processors that still export them. A
hook point in the base layer: ``export`` may not import ``lifecycle`` (the wings are layers).
Flushing never runs it: a flush must not end the runs still open.
"""

from __future__ import annotations

from collections.abc import Callable

from genai_trace_core._safe import log_once

_hooks: list[Callable[[], object]] = []


def register_before_shutdown(hook: Callable[[], object]) -> None:
    """Run ``hook`` before a provider genai-trace built shuts down (once, however often
    registered)."""
    if hook not in _hooks:
        _hooks.append(hook)


def run_before_shutdown() -> None:
    """Run every registered hook, in order; one that raises never stops the others or the
    shutdown."""
    for hook in list(_hooks):
        try:
            hook()
        except Exception:
            log_once("before-shutdown", "genai-trace: ending the runs still open failed")

"""Waiting on the tracing backend with a deadline, never longer.

The SDK's ``force_flush`` exports on the calling thread and retries a failing backend for up to
the exporter's timeout per batch, ignoring the flush timeout; its ``shutdown`` waits for queued
batches the same way (tens of seconds with a down backend, at interpreter exit). Here such a call
runs on a daemon thread and the caller waits at most until the deadline: the call may finish in
the background, or be abandoned with the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from genai_trace_core._safe import log_once

# How long shutdown (so interpreter exit) may wait for the tracing backend, in total.
SHUTDOWN_TIMEOUT_S = 5.0


def run_bounded(fn: Callable[[], object], timeout_s: float, name: str) -> bool:
    """Run ``fn`` on a daemon thread; wait at most ``timeout_s``. ``True`` when it finished in
    time and returned a truthy value or ``None``; ``False`` when it timed out, failed or returned
    a falsy value."""
    result: list[object] = []

    def target() -> None:
        try:
            out = fn()
            result.append(True if out is None else bool(out))
        except Exception:
            log_once("bounded." + name, "genai-trace: %s failed", name)
            result.append(False)

    thread = threading.Thread(target=target, name=f"genai-trace-{name}", daemon=True)
    thread.start()
    thread.join(max(0.0, timeout_s))
    return bool(result and result[0])


class Deadline:
    """What is left of one time budget shared by several calls."""

    def __init__(self, timeout_s: float) -> None:
        self._end = time.monotonic() + max(0.0, timeout_s)

    def left_s(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def left_ms(self) -> int:
        return int(self.left_s() * 1000)

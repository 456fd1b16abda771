"""Deterministic span/trace ids and a fake clock for tests."""

from __future__ import annotations

import threading

from opentelemetry.sdk.trace.id_generator import IdGenerator


class IncrementalIdGenerator(IdGenerator):
    """Trace ids 1, 2, 3... and span ids 1, 2, 3... (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trace = 0
        self._span = 0

    def generate_span_id(self) -> int:
        with self._lock:
            self._span += 1
            return self._span

    def generate_trace_id(self) -> int:
        with self._lock:
            self._trace += 1
            return self._trace


class FakeClock:
    """A nanosecond clock that advances ``step_ns`` on every read (thread-safe)."""

    def __init__(self, start_ns: int = 1_000_000_000, step_ns: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self.now = start_ns
        self.step_ns = step_ns

    def __call__(self) -> int:
        with self._lock:
            self.now += self.step_ns
            return self.now

    def advance(self, ns: int) -> None:
        with self._lock:
            self.now += ns

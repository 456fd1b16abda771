"""A bounded map of open runs: size cap and TTL, insertion-ordered so expiry checks are O(1); what
is still open when the interpreter exits is evicted then (so it is ended and exported before the
providers shut down, which registered their own exit hooks earlier and so run later)."""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")
MAX_RETIRED = 1024
"""Runs ended under a root that ended first, remembered so their late children nest under them."""


class BoundedRegistry(Generic[V]):
    """Thread-safe ``run_id -> value`` map.

    ``put`` evicts the oldest entries when the cap is reached and any entries older than the TTL
    (checked from the oldest end, so the common case costs one comparison). Evicted values are
    handed to ``on_evict`` outside the lock.
    """

    __slots__ = (
        "__weakref__", "_clock", "_items", "_lock", "_on_evict", "_retired", "max_size", "ttl_s",
    )  # fmt: skip

    def __init__(
        self,
        *,
        max_size: int,
        ttl_s: float,
        clock: Callable[[], float],
        on_evict: Callable[[V], None],
    ) -> None:
        self.max_size = max(1, max_size)
        self.ttl_s = ttl_s
        self._clock = clock
        self._on_evict = on_evict
        self._items: dict[Hashable, tuple[float, V]] = {}
        # Runs ended by their root while still open: key -> the context to start a late child
        # in (an async branch the framework did not cancel), at most MAX_RETIRED, oldest out.
        self._retired: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        atexit.register(_evict_all, weakref.ref(self))

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        return None if item is None else item[1]

    def put_if_absent(self, key: Hashable, value: V, now: float | None = None) -> bool:
        """Insert ``value``; return False (and change nothing) if ``key`` is already present."""
        if now is None:
            now = self._clock()
        entry = (now, value)
        evicted: list[V] | None = None
        with self._lock:
            items = self._items
            if items.setdefault(key, entry) is not entry:  # one lookup: present, or inserted
                return False
            # The oldest entry first: nothing expired and room left is the common case.
            if next(iter(items.values()))[0] <= now - self.ttl_s or len(items) > self.max_size:
                del items[key]  # make room among the others first, then insert it again
                evicted = []
                self._collect_expired(now, evicted)
                while len(items) >= self.max_size:
                    oldest = next(iter(items))
                    evicted.append(items.pop(oldest)[1])
                items[key] = entry
        if evicted:
            for v in evicted:
                self._on_evict(v)
        return True

    def retire(self, key: Hashable, context: Any) -> None:
        """Remember ``context`` for children of ``key`` that start after it was ended."""
        with self._lock:
            retired = self._retired
            retired[key] = context
            if len(retired) > MAX_RETIRED:
                del retired[next(iter(retired))]

    def retired(self, key: Hashable) -> Any:
        """The context ``retire`` kept for ``key``, else None (always for a ``None`` key: a root's
        parent, whatever a run with that odd id left)."""
        return None if key is None else self._retired.get(key)

    def pop(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.pop(key, None)
        return None if item is None else item[1]

    def sweep(self, now: float | None = None) -> int:
        """Evict every entry older than the TTL; return how many were evicted."""
        evicted: list[V] = []
        with self._lock:
            self._collect_expired(self._clock() if now is None else now, evicted)
        for v in evicted:
            self._on_evict(v)
        return len(evicted)

    def drain(self) -> list[V]:
        with self._lock:
            values = [v for _, v in self._items.values()]
            self._items.clear()
        return values

    def _collect_expired(self, now: float, out: list[V]) -> None:
        items = self._items
        deadline = now - self.ttl_s
        while items:
            key = next(iter(items))
            created, value = items[key]
            if created > deadline:
                break
            del items[key]
            out.append(value)


def _evict_all(ref: weakref.ref[BoundedRegistry[Any]]) -> None:
    """At interpreter exit: hand every entry still held to ``on_evict`` (never raising)."""
    registry = ref()
    if registry is None:
        return
    for value in registry.drain():
        try:
            registry._on_evict(value)
        except Exception:  # exit: nothing is left to report to
            continue

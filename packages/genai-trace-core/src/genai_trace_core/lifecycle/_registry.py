"""A bounded map of open runs: size cap and idle TTL, insertion-ordered so the common put costs one
comparison; what is still open when the interpreter exits is evicted then, before the providers
shut down, whichever was set up first (see ``_exit_last``).

Eviction is the rare path, and the only one that looks at a run's activity (``activity``: the
latest start, chunk or child end in its request's tree, in seconds). The TTL counts idle time: an
entry past it whose tree was active within it is put back at the young end with that time instead
(so a long request that keeps working stays open). Over the size cap, an entry whose tree was
active since it was stored gets a second chance the same way (the CLOCK policy), at most
``MAX_SKIPS`` a put, so the entries evicted first are those idle the longest. What is evicted is
remembered with ``retire`` (see ``_evict``): a late child nests under it, in its own trace."""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from genai_trace_core._before_shutdown import SpanOwner, register_before_shutdown
from genai_trace_core._safe import warn_once

V = TypeVar("V")
MAX_RETIRED = 1024
"""Ended runs remembered so their late children nest under them (at least; the registry keeps as
many as its size cap: a batch larger than the cap retires that many of its roots)."""
MAX_SKIPS = 64
"""Entries an eviction (TTL or size) puts back at the young end per put, at most."""

_EVICTED_WARNING = (
    "genai-trace: a run still open was evicted from the open-run registry (%s): it ends as "
    "error.type=abandoned, and what it starts later nests under it in its own trace; raise "
    "GENAI_TRACE_REGISTRY_MAX_SIZE / _TTL_SECONDS for batches larger or longer than that"
)


class BoundedRegistry(Generic[V]):
    """Thread-safe ``run_id -> value`` map.

    ``put`` evicts entries idle longer than the TTL (checked from the oldest end, so the common
    case costs one comparison) and, at the cap, the entries idle the longest. Evicted entries are
    handed to ``on_evict(key, value)`` outside the lock; the first such eviction in the process
    logs one warning naming the bound.
    """

    __slots__ = (
        "__weakref__", "_activity", "_clock", "_items", "_lock", "_on_evict", "_retired",
        "max_retired", "max_size", "ttl_s",
    )  # fmt: skip

    def __init__(
        self,
        *,
        max_size: int,
        ttl_s: float,
        clock: Callable[[], float],
        on_evict: Callable[[Hashable, V], None],
        activity: Callable[[V], float] | None = None,
    ) -> None:
        self.max_size = max(1, max_size)
        self.max_retired = max(MAX_RETIRED, self.max_size)
        self.ttl_s = ttl_s
        self._clock = clock
        self._on_evict = on_evict
        self._activity = activity
        self._items: dict[Hashable, tuple[float, V]] = {}
        # Runs ended while still open (by their root, or evicted): key -> the context to start a
        # late child in (an async branch the framework did not cancel), oldest out. It carries
        # what the child inherits (attribution, agent name: ``_run.Late``), never the run.
        self._retired: OrderedDict[Hashable, Any] = OrderedDict()  # oldest out in O(1)
        self._lock = threading.Lock()
        _REGISTRIES.add(self)
        _exit_last()

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
        evicted: list[tuple[Hashable, V]] | None = None
        with self._lock:
            items = self._items
            if items.setdefault(key, entry) is not entry:  # one lookup: present, or inserted
                return False
            # The oldest entry first: nothing expired and room left is the common case.
            if next(iter(items.values()))[0] <= now - self.ttl_s or len(items) > self.max_size:
                del items[key]  # make room among the others first, then insert it again
                evicted = []
                self._collect_expired(now, evicted, MAX_SKIPS)
                size_full = len(items) >= self.max_size
                self._make_room(evicted)
                items[key] = entry
        if evicted:
            self._evicted(evicted, size_full)
        # An exit hook registered since (a provider or configure() set up now): move ours after it.
        if (_ncallbacks is not None and _ncallbacks() != _exit_hooks_seen[0]) or len(items) == 1:
            _exit_last()
        return True

    def retire(self, key: Hashable, context: Any) -> None:
        """Remember ``context`` for children of ``key`` that start after it was ended (their
        parent context, and what they inherit: see ``_run.late_context``)."""
        with self._lock:
            retired = self._retired
            retired[key] = context
            if len(retired) > self.max_retired:
                retired.popitem(last=False)  # (a dict's first key is slow to find after many)

    def retired(self, key: Hashable) -> Any:
        """The context ``retire`` kept for ``key``, else None (always for a ``None`` key: a root's
        parent, whatever a run with that odd id left)."""
        return None if key is None else self._retired.get(key)

    def pop(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.pop(key, None)
        return None if item is None else item[1]

    def sweep(self, now: float | None = None) -> int:
        """Evict every entry idle longer than the TTL; return how many were evicted."""
        evicted: list[tuple[Hashable, V]] = []
        with self._lock:
            deadline = (self._clock() if now is None else now) - self.ttl_s
            items = self._items
            for key in [k for k, (stored, _) in items.items() if stored <= deadline]:
                # the whole map: an entry put back with its activity may sit behind younger ones
                stored, value = items.pop(key)
                active = self._active_since(value, stored)
                if active > deadline:
                    items[key] = (active, value)
                else:
                    evicted.append((key, value))
        self._evicted(evicted, False)
        return len(evicted)

    def drain(self) -> list[V]:
        return [v for _, v in self._drain_items()]

    def _drain_items(self) -> list[tuple[Hashable, V]]:
        with self._lock:
            items = [(k, v) for k, (_, v) in self._items.items()]
            self._items.clear()
        return items

    def _active_since(self, value: V, fallback: float) -> float:
        """The latest activity of ``value``'s tree, in seconds (``fallback`` if unknown)."""
        activity = self._activity
        if activity is None:
            return fallback
        try:
            return float(activity(value))
        except Exception:  # a tree changed under the walk: treat it as idle
            return fallback

    def _collect_expired(self, now: float, out: list[tuple[Hashable, V]], skips: int) -> None:
        """Evict entries idle longer than the TTL from the oldest end; put back (at most
        ``skips``) those whose tree was active within it, stamped with that activity."""
        items = self._items
        deadline = now - self.ttl_s
        while items:
            key = next(iter(items))
            stored, value = items[key]
            if stored > deadline:
                break
            active = self._active_since(value, stored)
            if active > deadline:  # put back: it may now sit behind younger entries, and is
                # evicted when it reaches this end (idle a TTL more at most) or by ``sweep``
                if skips <= 0:
                    break  # the rest waits for the next put (each put's work stays bounded)
                skips -= 1
                del items[key]
                items[key] = (active, value)  # to the young end: it ends or idles later
                continue
            del items[key]
            out.append((key, value))

    def _make_room(self, out: list[tuple[Hashable, V]]) -> None:
        """Below the cap: evict from the oldest end, giving a second chance (at most
        ``MAX_SKIPS``) to entries whose tree was active since they were stored."""
        items = self._items
        skips = MAX_SKIPS
        while len(items) >= self.max_size:
            key = next(iter(items))
            stored, value = items.pop(key)
            if skips > 0:
                active = self._active_since(value, stored)
                if active > stored:
                    skips -= 1
                    items[key] = (active, value)
                    continue
            out.append((key, value))

    def _evicted(self, evicted: list[tuple[Hashable, V]], size_full: bool) -> None:
        if not evicted:
            return
        bound = (
            f"GENAI_TRACE_REGISTRY_MAX_SIZE={self.max_size} reached"
            if size_full
            else f"idle longer than GENAI_TRACE_REGISTRY_TTL_SECONDS={self.ttl_s:g}"
        )
        warn_once("registry-evicted", _EVICTED_WARNING, bound)
        for key, value in evicted:
            try:
                self._on_evict(key, value)
            except Exception:  # the others are still ended
                continue


_REGISTRIES: weakref.WeakSet[BoundedRegistry[Any]] = weakref.WeakSet()
_EXIT_LOCK = threading.Lock()
_ncallbacks: Callable[[], int] | None = getattr(atexit, "_ncallbacks", None)  # CPython's count
_exit_hooks_seen = [-1]  # exit hooks registered when ``_evict_all`` was last put after them all


def _exit_last() -> None:
    """Make ``_evict_all`` the exit hook that runs first (``atexit`` runs the last registered
    first): after the hooks registered since it was, such as those of tracer providers or
    ``configure()`` set up after ``instrument()``, which would otherwise shut down before the runs
    still open are ended. Called when a registry is made and when one gets its first open run
    (again after it emptied); cheap when no exit hook was registered since (one count read; a
    hook registered and another removed in between go unseen)."""
    if _ncallbacks is not None and _ncallbacks() == _exit_hooks_seen[0]:
        return
    with _EXIT_LOCK:
        atexit.unregister(_evict_all)
        atexit.register(_evict_all)
        _exit_hooks_seen[0] = _ncallbacks() if _ncallbacks is not None else -1


def _evict_all(owns: SpanOwner | None = None) -> None:
    """At interpreter exit: hand every entry still held by any registry to its ``on_evict``
    (never raising). Before a provider ``configure()`` built shuts down (``owns``): only those
    whose run's span it exports; the others (another provider's) stay open."""
    for registry in list(_REGISTRIES):
        items = registry._drain_items() if owns is None else _drain_owned(registry, owns)
        for key, value in items:
            try:
                registry._on_evict(key, value)
            except Exception:  # exit: nothing is left to report to
                continue


def _drain_owned(registry: BoundedRegistry[Any], owns: SpanOwner) -> list[tuple[Hashable, Any]]:
    """Remove and return ``registry``'s entries whose run's span ``owns`` accepts."""
    with registry._lock:
        items = registry._items
        owned = [(k, v) for k, (_, v) in items.items() if owns(getattr(v, "span", None))]
        for key, _ in owned:
            del items[key]
    return owned


def _forked() -> None:
    """In a forked child: the runs open at the fork are the parent's, which ends and exports
    them; the child ending them too (at exit, by the TTL, at shutdown) would export each span
    twice, so it forgets them (work it starts under them still nests, through the context it
    inherited: ``_finish.ended_parent``). A lock another thread held at the fork is renewed."""
    for registry in list(_REGISTRIES):
        registry._lock = threading.Lock()
        registry._items.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_forked)
# ``configure()``'s providers end what is still open before they shut down, when the app shuts
# them down itself (``providers.shutdown()``), not only at exit: else those spans are lost; each
# only what it exports (a side job shutting its own down leaves the app's streams open).
register_before_shutdown(_evict_all)

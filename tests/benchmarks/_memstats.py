"""Allocator counters for ``--memory``: where RSS grows when Python's objects stay flat.

RSS can grow while the interpreter's live blocks and GC objects stay flat. This module tells the
allocators apart:

* glibc ``mallinfo2()``: bytes malloc hands out (``in_use``: heap chunks in use plus mmapped
  chunks) and bytes it holds free without returning them (``held_free``: free chunks below the
  top of the main heap or of a thread's arena stay resident). An RSS step with ``held_free``
  growing is a hole in malloc's arenas; with ``in_use`` growing, a big block someone allocated.
* pymalloc's arena count (``sys._debugmallocstats()``; 1 MiB arenas on 64-bit 3.10+).
* threads started: a framework that starts a thread per call (LlamaIndex's sync-over-async
  bridge does) makes glibc serve that thread's mallocs from another arena.

Issue 14, target 5: async ``li_query``'s RSS steps are CPython's interned-string dict being
rebuilt by a short-lived thread. ``asyncio.new_event_loop()`` interns the keys of
``time.get_clock_info()``'s namespace; a key interned nowhere else dies with it and leaves a
used slot behind. When the slots run out the dict is rebuilt (3.8 MB for ~60k interned strings)
by whichever thread interns next. LlamaIndex 0.14's ``ChatMessage.estimate_tokens`` runs
``asyncio_run``, which starts a thread with a new loop when a loop is running (twice per async
query). Once glibc's dynamic mmap threshold has risen above the table's size (it rises to the
size of each mmapped block freed), the new table comes from that thread's malloc arena and the
old one stays there as held-free memory (a thread arena is trimmed only above twice that
threshold): +3.8 MB of RSS at a rebuild that cannot reuse an earlier hole, once per arena,
beside +1.9 MB once when the table doubles. ``MALLOC_MMAP_THRESHOLD_=1048576`` (a fixed
threshold) keeps the tables mmapped and leaves only the doubling.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS]


def _mallinfo2() -> Any:
    """glibc's ``mallinfo2`` (2.33+), or None elsewhere (musl, macOS, older glibc)."""
    try:
        libc = ctypes.CDLL(None)
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _Mallinfo2
    fn.argtypes = []
    return fn


_MALLINFO2 = _mallinfo2()


def malloc_kb() -> dict[str, int] | None:
    """``in_use`` (heap chunks in use + mmapped chunks) and ``held_free`` KiB over all arenas."""
    if _MALLINFO2 is None:
        return None
    m = _MALLINFO2()
    return {"in_use": (m.uordblks + m.hblkhd) // 1024, "held_free": m.fordblks // 1024}


_ARENAS = re.compile(r"#\s*arenas allocated current\s*=\s*([\d,]+)")


def pymalloc_arenas() -> int | None:
    """pymalloc's arenas allocated now, or None without pymalloc (``PYTHONMALLOC=malloc``).

    ``sys._debugmallocstats()`` writes to the C-level stderr: fd 2 is pointed at a temporary
    file for the call (samples are rare: once per sample of the memory run)."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile("w+") as f:
            os.dup2(f.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
            f.seek(0)
            match = _ARENAS.search(f.read())
    finally:
        os.close(saved)
    return int(match.group(1).replace(",", "")) if match else None


@contextmanager
def counting_thread_starts() -> Iterator[list[int]]:
    """Counts ``threading.Thread.start`` calls inside the block (``[count]``, read it at will)."""
    counter = [0]
    original = threading.Thread.start

    def start(self: threading.Thread) -> None:
        counter[0] += 1
        original(self)

    threading.Thread.start = start  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]

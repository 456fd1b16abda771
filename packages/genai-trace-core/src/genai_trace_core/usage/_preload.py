"""Load genai-prices ahead of the first cost: now (:func:`preload_prices`) or in a background
thread (:func:`preload_prices_in_background`, started by every ``Telemetry``).

A module imported on a background thread is visible, half-initialised, in ``sys.modules`` until
its import ends. The ``openai`` SDK (2.x with ``httpx2`` installed) reads ``sys.modules["httpx2"]``
on every request without importing it, so a request sent while genai-prices imports ``httpx2``
in our thread raised ``AttributeError: partially initialized module 'httpx2'`` in the user's
program (LlamaIndex's ``OpenAI`` in the first second after ``instrument()``). Such modules are
imported on the caller's thread first (once, about 0.2 s, only when installed and not loaded yet);
the rest of genai-prices loads in the background.

A fork while that thread imports genai-prices gave the child the module's import lock, held by a
thread the child does not have: the child's first cost (on the app's thread) waited for it
forever (gunicorn ``--preload``, ``multiprocessing`` with fork, right after ``instrument()``).
A fork now waits for the preload to finish first (about a second, at most ``FORK_WAIT_S``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from genai_trace_core._safe import log_once
from genai_trace_core.usage._cost import load_prices

__all__ = ["preload_prices", "preload_prices_in_background"]

# Modules that SDKs look up in ``sys.modules`` without importing them, and genai-prices imports.
SDK_PEEKED_MODULES = ("httpx2",)

_lock = threading.Lock()
_started = False
_thread: threading.Thread | None = None
FORK_WAIT_S = 10.0
"""How long a fork waits for the background preload to finish."""


def preload_prices() -> None:
    """Import genai-prices and build its table now (about a second, once per process) instead of
    at the first :func:`~genai_trace_core.compute_cost`. Never raises."""
    try:
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()
    except Exception:  # telemetry never raises
        log_once("cost.preload", "genai-trace: genai-prices could not be loaded")


def _import_peeked_modules() -> None:
    if "genai_prices" in sys.modules:
        return
    for name in SDK_PEEKED_MODULES:
        try:
            if name not in sys.modules and importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        except Exception:  # telemetry never raises; genai-prices then fails in the thread
            log_once(f"cost.preload.{name}", "genai-trace: %s could not be imported", name)


def preload_prices_in_background(overrides: Mapping[str, Any] | None = None) -> None:
    """Start :func:`preload_prices` once per process in a daemon thread, after importing on this
    thread the modules an SDK reads half-imported (see the module docstring). ``overrides``
    (``Settings.price_overrides``, the shape of ``GENAI_TRACE_PRICES_FILE``) are loaded first,
    at every call. Never raises."""
    global _started, _thread
    if overrides:
        load_prices(overrides)
    with _lock:
        if _started:
            return
        _started = True
    _import_peeked_modules()
    thread = threading.Thread(target=preload_prices, name="genai-trace-prices", daemon=True)
    _thread = thread
    thread.start()


def _before_fork() -> None:
    """Let a preload still importing finish before the process forks (see the module docstring).
    Python runs this before it takes its own import lock for the fork."""
    thread = _thread
    if thread is not None and thread.is_alive():
        thread.join(FORK_WAIT_S)


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(before=_before_fork)

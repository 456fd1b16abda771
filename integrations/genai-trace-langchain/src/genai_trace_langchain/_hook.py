"""The process-wide slot LangChain's ``register_configure_hook`` reads on every run.

LangChain calls ``.get()`` on a registered hook each time it configures callbacks for a run and
adds the returned handler (inheritable) unless an ``OpenTelemetryCallbackHandler`` is already
there. A ``ContextVar`` would only reach the context it was set in (new threads start empty), so
the hook is a tiny object whose ``get()`` reads this module's slot: the instrumentor's handler
while instrumented, else, when ``GENAI_TRACE_LANGCHAIN`` is true, a default handler on the
global providers; otherwise ``None`` (nothing is added, LangChain runs untouched).

The hook is registered once per process, the first time this module is imported, through
langchain-core's public API; it stays registered but inert after ``uninstrument``.
"""

from __future__ import annotations

import os
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from genai_trace_core import safe

if TYPE_CHECKING:
    from genai_trace_core import Telemetry
    from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

ENV_VAR = "GENAI_TRACE_LANGCHAIN"
_FALSE = ("", "0", "false", "no", "off")

_lock = threading.Lock()


class _State:
    active: OpenTelemetryCallbackHandler | None = None
    default: OpenTelemetryCallbackHandler | None = None
    default_failed = False
    registered = False


def env_enabled() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() not in _FALSE


def env_disabled() -> bool:
    """``GENAI_TRACE_LANGCHAIN=false`` (explicitly set) turns the instrumentor into a no-op."""
    raw = os.environ.get(ENV_VAR)
    return raw is not None and raw.strip().lower() in _FALSE and raw.strip() != ""


def set_active(handler: OpenTelemetryCallbackHandler | None) -> None:
    _State.active = handler


def active() -> OpenTelemetryCallbackHandler | None:
    return _State.active


def _default_handler() -> OpenTelemetryCallbackHandler | None:
    """The default handler on the global providers, made on first use; ``None`` when it cannot
    be made (a global provider that raises): runs then go untraced, never broken."""
    with _lock:
        if _State.default is None and not _State.default_failed:
            _State.default = _make_default()
            _State.default_failed = _State.default is None  # tried once per process
        return _State.default


@safe()
def _make_default() -> OpenTelemetryCallbackHandler | None:
    from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

    return OpenTelemetryCallbackHandler()


def current() -> OpenTelemetryCallbackHandler | None:
    """The handler every LangChain run gets now, or ``None``."""
    handler = _State.active
    if handler is not None:
        return handler
    if env_enabled():
        return _default_handler()
    return None


def telemetry_or_default() -> Telemetry | None:
    """For ``trace_embeddings``: the active handler's telemetry, else the default handler's."""
    handler = current() or _default_handler()
    return None if handler is None else handler.telemetry


def current_telemetry() -> Telemetry | None:
    handler = current()
    return None if handler is None else handler.telemetry


class _Slot:
    """Duck-types the ``ContextVar.get()`` that ``langchain_core`` calls on configure hooks."""

    __slots__ = ()

    def get(self) -> Any:
        return current()


def register() -> None:
    """Register the hook once per process (idempotent)."""
    with _lock:
        if _State.registered:
            return
        from langchain_core.tracers.context import register_configure_hook

        from genai_trace_langchain._handler import OpenTelemetryCallbackHandler

        register_configure_hook(
            cast("ContextVar[Any | None]", _Slot()),
            True,  # inheritable: child runs get the handler too
            OpenTelemetryCallbackHandler,  # skip runs that already have one of ours
            None,  # the environment switch is read by ``current()``
        )
        _State.registered = True

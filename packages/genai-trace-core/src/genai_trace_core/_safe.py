"""The one never-raise wrapper. Telemetry must not break the user's program."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

logger = logging.getLogger("genai_trace")

F = TypeVar("F", bound=Callable[..., Any])

_logged: set[str] = set()


def log_once(key: str, msg: str, *args: Any) -> None:
    """Log ``msg`` at debug level the first time ``key`` is seen (bounded), with the exception
    being handled, if any: its type and where it was raised, never its message or source lines
    (an exception raised over the user's objects may quote their content, or a key in their
    code, and a log pipeline may export this line)."""
    if key in _logged:
        return
    if len(_logged) < 1024:
        _logged.add(key)
    # Called from ``except`` blocks: logging that fails (a handler that raises, a ``RecursionError``
    # near the limit, which logging re-raises) must not raise from there. No ``suppress()``: at
    # the recursion limit its own calls could raise.
    try:  # noqa: SIM105
        logger.debug(msg + "%s", *args, _raised_where())
    except Exception:
        pass


def _raised_where() -> str:
    error = sys.exc_info()[1]
    if error is None:
        return ""
    try:
        frames = traceback.extract_tb(error.__traceback__, limit=-16)
        where = "".join(f"\n  {f.filename}:{f.lineno} in {f.name}" for f in frames)
    except Exception:  # the frames are optional
        where = ""
    cls = type(error)
    return f"\n{cls.__module__}.{cls.__qualname__} (message not logged), raised at:{where}"


def warn_once(key: str, msg: str, *args: Any) -> None:
    """Log ``msg`` as a warning the first time ``key`` is seen (bounded): for what the user must
    fix (a file that cannot be written), never for what telemetry copes with on its own."""
    if key in _logged:
        return
    if len(_logged) < 1024:
        _logged.add(key)
    try:  # noqa: SIM105 (as in ``log_once``: a failing log call never raises into the caller)
        logger.warning(msg, *args)
    except Exception:
        pass


def safe(default: Any = None) -> Callable[[F], F]:
    """Decorate a telemetry entry point: any exception is logged once at debug and swallowed."""

    def deco(fn: F) -> F:
        key = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                log_once(key + type(exc).__name__, "genai-trace: %s failed", key)
                return default

        return cast(F, wrapper)

    return deco

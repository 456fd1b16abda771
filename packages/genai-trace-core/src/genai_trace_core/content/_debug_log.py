"""Debug log lines about content that never quote it.

When a redactor hook or a content lazy raises, the exception's message often quotes the text it
was given (``ValueError(f"NER failed on: {text}")``): logging it with ``exc_info`` would put the
very text the hook was to redact in the ``genai_trace`` DEBUG log, and from there in any log
pipeline (an OpenTelemetry ``LoggingHandler`` exports it as an OTLP log record). So these lines
carry the exception's type and its frames (file, line, function, source line: code), with
credentials masked, and never its message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Final

from genai_trace_core import _safe

logger = logging.getLogger("genai_trace")

MAX_FRAMES: Final = 16


def _type_name(error: BaseException) -> str:
    cls = type(error)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _frames(error: BaseException) -> str:
    try:
        stack = traceback.extract_tb(error.__traceback__, limit=-MAX_FRAMES)
        return "Traceback (most recent call last):\n" + "".join(stack.format())
    except Exception:  # a frame whose source cannot be read: the frames are optional
        return ""


def log_without_message(
    key: str, msg: str, error: BaseException, scrub: Callable[[str], str]
) -> None:
    """Log ``msg`` at debug level the first time ``key`` is seen (bounded), with ``error``'s type
    and frames (credentials in source lines masked by ``scrub``) but not its message (module
    docstring)."""
    logged = _safe._logged  # shared with ``log_once``: the same bound, the same reset
    if key in logged or not logger.isEnabledFor(logging.DEBUG):
        return
    if len(logged) < 1024:
        logged.add(key)
    trace = scrub(_frames(error))
    logger.debug(
        "%s\n%s%s (message not logged: it may quote content)", msg, trace, _type_name(error)
    )

"""What of an exception is exported: its type, a message and a stack trace, all bounded.

An exception's text is content: a parser failing on an answer repeats the answer
(``Invalid json output: ...``), a tool repeats its arguments, an HTTP client its URL. So:

- **capture off** (the default): the message is the exception's type plus what is known to be
  content-free (an integer ``status_code`` and a short identifier-like ``code``, as provider SDKs
  set them); nothing the exception's text says is read. The stack trace keeps the frames (file,
  line, function, source line: code, not data) and its last line is that same message;
- **capture on**: the exception's own message, cut to :data:`MESSAGE_LIMIT` (only that many
  characters plus a margin are read, however long it is), then redacted like any content;
- **always**: credentials are masked (API key formats, ``user:password@`` in URLs, ``?key=``
  query secrets, both halves of a key cut at an ellipsis, as pydantic quotes a long input:
  ``input_value='token ghp_R4nd...1234'``, in :mod:`._cut_keys`), lone surrogates are
  replaced, the stack trace is at most :data:`STACK_LIMIT` characters and :data:`MAX_FRAMES`
  frames per exception, chained causes included (their messages under the same policy); with
  redaction on, the whole trace is redacted.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from typing import Any, Final

from genai_trace_core._settings import Settings
from genai_trace_core.content._redact import redact
from genai_trace_core.content._secrets import scrub_secret_text
from genai_trace_core.content._truncate import clip_text, sanitize_utf8, truncation_marker

MESSAGE_LIMIT: Final = 2048
DESCRIPTION_LIMIT: Final = 256
STACK_LIMIT: Final = 8192
MAX_FRAMES: Final = 32
MAX_CHAIN: Final = 8
NOT_CAPTURED: Final = "message not captured: content capture is off"
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_CAUSE: Final = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT: Final = "\nDuring handling of the above exception, another exception occurred:\n\n"


@dataclass(frozen=True, slots=True)
class ExceptionText:
    """An exception as it may be exported: ``exception.*`` attributes and the status text."""

    type: str
    message: str
    stacktrace: str
    description: str


def _type_name(error: BaseException) -> str:
    cls = type(error)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _raw_message(error: BaseException) -> str:
    try:
        text: object = str(error)
    except Exception:  # an exception whose __str__ raises
        return ""
    return text if isinstance(text, str) else ""


def _content_free(error: BaseException) -> str:
    """What provider SDK errors carry that is not content: an HTTP status and an error code."""
    facts: list[str] = []
    try:
        status: Any = getattr(error, "status_code", None)
        code: Any = getattr(error, "code", None)
    except Exception:  # a property that raises: no facts
        status = code = None
    if isinstance(status, int) and not isinstance(status, bool) and 0 < status < 1000:
        facts.append(f"HTTP {status}")
    if isinstance(code, str) and _CODE.fullmatch(code):
        facts.append(f"code {code}")
    return ", ".join([*facts, NOT_CAPTURED])


def scrubbed_text(text: str, limit: int, settings: Settings) -> str:
    """``text`` cut to ``limit`` (reading at most a margin past it), credentials masked always,
    redacted as content (``GENAI_TRACE_REDACT``, the user hook), valid UTF-8."""
    clipped, _ = clip_text(text, limit, settings, redacted=True, secrets=True)
    return clipped


def _message(error: BaseException, settings: Settings, capture: bool) -> str:
    if not capture:
        return _content_free(error)
    return scrubbed_text(_raw_message(error), MESSAGE_LIMIT, settings)


def _chain(error: BaseException) -> list[tuple[BaseException, str]]:
    """The exception and its causes, oldest first, each with the line that joins it to the
    next (as ``traceback`` prints them)."""
    out: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    joint = ""
    while current is not None and id(current) not in seen and len(out) < MAX_CHAIN:
        seen.add(id(current))
        out.append((current, joint))
        if current.__cause__ is not None:
            current, joint = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, joint = current.__context__, _CONTEXT
        else:
            current = None
    out.reverse()
    return out


def _frames(error: BaseException) -> str:
    tb = error.__traceback__
    if tb is None:
        return ""
    try:
        stack = traceback.extract_tb(tb, limit=-MAX_FRAMES)
        return "Traceback (most recent call last):\n" + "".join(stack.format())
    except Exception:  # a frame whose source cannot be read: the trace is optional
        return ""


def _stacktrace(error: BaseException, settings: Settings, capture: bool, message: str) -> str:
    pieces: list[str] = []
    chain = _chain(error)
    for index, (exc, _joint) in enumerate(chain):
        text = message if exc is error else _message(exc, settings, capture)
        pieces.append(_frames(exc) + f"{_type_name(exc)}: {text}\n")
        if index + 1 < len(chain):
            pieces.append(chain[index][1])
    # Frames are code; a source line can still hold a literal key: credentials are masked,
    # and with redaction on the source lines are redacted like the messages.
    trace = scrub_secret_text(sanitize_utf8("".join(pieces)))
    if len(trace) > STACK_LIMIT:
        head = STACK_LIMIT // 4
        marker = truncation_marker(len(trace) - STACK_LIMIT)
        tail = STACK_LIMIT - head - len(marker)
        trace = trace[:head] + marker + trace[len(trace) - tail :]
    if settings.redact_builtin or settings.redactor is not None:
        trace = sanitize_utf8(redact(trace, settings))[: STACK_LIMIT + 64]
    return trace


def describe_exception(error: BaseException, settings: Settings) -> ExceptionText:
    """``exception.type``, ``exception.message``, ``exception.stacktrace`` and the span status
    description of ``error`` under the capture policy of ``settings`` (module docstring)."""
    capture = settings.capture_mode.any
    type_name = _type_name(error)
    message = _message(error, settings, capture)
    stacktrace = _stacktrace(error, settings, capture, message)
    description = f"{type_name}: {message}"
    if len(description) > DESCRIPTION_LIMIT:
        marker = truncation_marker(len(description) - DESCRIPTION_LIMIT)
        description = description[: DESCRIPTION_LIMIT - len(marker)] + marker
    return ExceptionText(type_name, message, stacktrace, description)


def describe_error_text(error: str, settings: Settings) -> str:
    """The status description of an error given as text (an error type such as ``abandoned``):
    bounded, credentials masked, valid UTF-8."""
    return scrubbed_text(error, DESCRIPTION_LIMIT, settings) if error else ""

"""Size limits for captured content: the per-span budget and the per-text cut.

Order for every text: inline base64 described (:mod:`._blobs`) -> cut to the limit (looking a
little past it) -> redact what is kept -> cut again at the limit -> serialise. Looking
:data:`WINDOW_MARGIN` characters past the limit means a secret or an email that straddles the cut
is seen whole by the redactor and masked, instead of leaking a prefix too short to be recognised;
the cost stays bounded by ``limit + margin`` however long the input is (plus, for a base64
payload that starts within it, reading the payload to its end to measure it).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Final

from genai_trace_core import semconv
from genai_trace_core._settings import Settings, get_settings
from genai_trace_core.content._blobs import describe_blobs
from genai_trace_core.content._redact import MARKER_PREFIX, redact
from genai_trace_core.content._secret_scan import scrub_content_secrets
from genai_trace_core.content._secrets import scrub_secret_text

WINDOW_MARGIN: Final = 512
TRUNCATION_MARKER: Final = "…[truncated {} chars]"


def truncation_marker(dropped: int) -> str:
    return TRUNCATION_MARKER.format(dropped)


class ContentBudget:
    """Characters of content one span may still carry (``Settings.max_span_content``).

    Create one per span and pass it to every ``serialize_*``/``build_*`` call for that span.
    ``truncated`` and ``dropped`` record what was cut; :meth:`flag_attributes` turns that into span
    attributes."""

    __slots__ = ("dropped", "remaining", "settings", "truncated")

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else get_settings()
        self.remaining = max(0, self.settings.max_span_content)
        self.truncated = False
        self.dropped = 0  # whole items (messages, parts, documents, attributes) left out

    @property
    def attribute_limit(self) -> int:
        """The most characters the next attribute may have."""
        return max(0, min(self.settings.max_attribute_length, self.remaining))

    def charge(self, chars: int) -> None:
        self.remaining = max(0, self.remaining - chars)

    @contextlib.contextmanager
    def keeping(self, chars: int) -> Iterator[None]:
        """Within the block, up to ``chars`` of what remains cannot be spent: it is kept for the
        content built after the block."""
        held = min(self.remaining, max(0, chars))
        self.remaining -= held
        try:
            yield
        finally:
            self.remaining += held

    def note(self, truncated: bool = False, dropped: int = 0) -> None:
        self.truncated = self.truncated or truncated or dropped > 0
        self.dropped += dropped

    def flag_attributes(self, *others: ContentBudget) -> dict[str, bool | int]:
        """``{CONTENT_TRUNCATED: True, CONTENT_DROPPED: n}`` when anything was cut (here or in
        ``others``, the budgets of the same record's other content), else ``{}``."""
        budgets = (self, *others)
        if not any(b.truncated for b in budgets):
            return {}
        flags: dict[str, bool | int] = {semconv.CONTENT_TRUNCATED: True}
        dropped = sum(b.dropped for b in budgets)
        if dropped:
            flags[semconv.CONTENT_DROPPED] = dropped
        return flags


def sanitize_utf8(text: str) -> str:
    """Replace lone surrogates (which UTF-8 cannot encode) with U+FFFD; join valid pairs."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _safe_cut(text: str, cut: int) -> int:
    """Move ``cut`` back so it does not split a ``[REDACTED:...]`` marker."""
    start = text.rfind(MARKER_PREFIX, max(0, cut - 40), cut + len(MARKER_PREFIX))
    if start != -1 and start < cut and text.find("]", start, cut) == -1:
        return start
    return cut


def clip_text(
    text: str, limit: int, settings: Settings, redacted: bool = True, secrets: bool = False
) -> tuple[str, bool]:
    """``text`` redacted and made valid UTF-8, at most ``limit`` characters (marker included).

    Returns the text and whether anything was cut. Only ``limit + WINDOW_MARGIN`` characters of
    the input are ever looked at. ``redacted=False`` is for structural identifiers (roles, mime
    types, tool names), which are cut and sanitised but not given to the redactors."""
    if limit <= 0:
        return "", bool(text)
    if redacted or secrets:  # inline base64 (data: URLs, bare runs) described before the cut
        text = describe_blobs(text, limit + WINDOW_MARGIN)
    size = len(text)
    window = text[: limit + WINDOW_MARGIN] if size > limit + WINDOW_MARGIN else text
    unseen = size - len(window)
    out = sanitize_utf8(window)
    if secrets:
        out = scrub_secret_text(out)
    elif redacted:
        out = scrub_content_secrets(out, settings.redact_builtin)
    if redacted:
        out = sanitize_utf8(redact(out, settings))
    if unseen == 0 and len(out) <= limit:
        return out, False
    reserve = len(truncation_marker(unseen + len(out)))
    keep = limit - reserve
    if keep <= 0:
        return "", True
    cut = _safe_cut(out, keep)
    return out[:cut] + truncation_marker(unseen + len(out) - cut), True


MAX_DESCRIPTION_CHARS: Final = 1024


def bounded_description(text: object) -> str | None:
    """A tool's or agent's description as exported in every capture mode (the conventions
    recommend ``gen_ai.tool.description`` and ``gen_ai.agent.description``; it is the developer's
    text, a docstring or a prompt, not the user's): at most :data:`MAX_DESCRIPTION_CHARS`
    characters, credentials masked (a URL with ``user:password@`` or ``?api_key=``, key formats),
    valid UTF-8. ``None`` for anything but a non-empty string."""
    if not isinstance(text, str) or not text:
        return None
    # a margin past the limit, so a key cut at the limit is still recognised whole
    return _bounded(text[: MAX_DESCRIPTION_CHARS + 256], len(text), MAX_DESCRIPTION_CHARS)


MAX_LABEL_CHARS: Final = 256


def bounded_label(text: str) -> str:
    """A name, id or tag exported in every capture mode, whoever chose it (the app: a run name,
    a tag, a user id; the model: the name of a tool it called; the provider: the response
    model): at most :data:`MAX_LABEL_CHARS` characters, credentials masked, valid UTF-8. Only
    that plus a margin is read; a repeated label costs a cache look-up."""
    return _bounded(text[: MAX_LABEL_CHARS + 256], len(text), MAX_LABEL_CHARS)


@functools.lru_cache(maxsize=2048)  # the same few descriptions, names, tags, models repeat
def _bounded(head: str, length: int, limit: int) -> str:
    out = scrub_secret_text(sanitize_utf8(head))
    if length > limit or len(out) > limit:
        marker = truncation_marker(max(length, len(out)) - limit)
        out = out[: limit - len(marker)] + marker
    return out

"""Credentials masked in captured content, in every capture mode, at a cost prose can afford.

Captured content (prompts, documents, tool results, answers) is kilobytes per span. The credential
expression of :mod:`._redact` tries each of its alternatives at every word start: about 25 µs per
KB, over 0.5 ms per content-on RAG request. But every key and token format it knows is a run of at
least :data:`MIN_RUN` characters of ``[A-Za-z0-9_.-]`` (``sk-…``, ``AKIA…``, ``eyJ….eyJ…``,
``xoxb-…``), except three that are found by their literals: bearer tokens (``Bearer``),
private-key blocks (``-----BEGIN``) and passwords in URLs (``//user:pass@``, also JSON-escaped
``\\/\\/user:pass@``: its own expression, which starts with a literal the engine searches for
directly). So the text is mapped byte by byte to run / not run (``bytes.translate``), the long
runs are found with ``bytes.find`` (both C loops) and only those runs go through the expression;
one of the three literals sends the whole text through it. Prose with no long run costs about
1.5 µs per KB. Keys cut short at an ellipsis are looked for around each ``...``/``…``
(:mod:`._cut_keys`).

Written here because the libraries that scan many patterns at once (hyperscan, pyahocorasick)
are native builds this package does not want as a run-time dependency, and would still need the
checks of :mod:`._redact` on each candidate.
"""

from __future__ import annotations

import re
import string
from typing import Final

from genai_trace_core.content._cut_keys import mask_cut_keys
from genai_trace_core.content._detectors import URL_PASSWORD
from genai_trace_core.content._percent import mask_encoded
from genai_trace_core.content._redact import (
    mask_decoded_secrets,
    mask_secret_formats,
    redact_secret_text,
)
from genai_trace_core.content._secrets import mask_secret_params

MIN_RUN: Final = 15  # the shortest format: ``xoxb-`` and 10 characters (Slack)
_RUN_CHARS: Final = frozenset((string.ascii_letters + string.digits + "_.-").encode())
_RUN_TABLE: Final = bytes(0x61 if b in _RUN_CHARS else 0x20 for b in range(256))
_RUN: Final = b"a" * MIN_RUN
_URL_PASSWORD: Final = re.compile(URL_PASSWORD)


def _whole_text(text: str, data: bytes) -> bool:
    """Whether one of the formats that are not a long run may be in the text."""
    if b"earer" in data or b"-----BEGIN" in data:
        return True
    return b"@" in data and _URL_PASSWORD.search(text) is not None


def _runs_masked(data: bytes) -> bytes | None:
    """``data`` with the credentials in its long runs masked, or None when there are none."""
    runs = data.translate(_RUN_TABLE)
    start = runs.find(_RUN)
    if start < 0:
        return None
    pieces: list[bytes] = []
    kept = 0
    while start >= 0:
        end = runs.find(b" ", start + MIN_RUN)
        end = len(runs) if end < 0 else end
        # The character before the run decides whether a key may start at its first character
        # (the backslash of an escape such as "\\nsk-…"); a non-ASCII one allows it either way.
        first = start - 1 if start and data[start - 1] < 0x80 else start
        window = data[first:end].decode("ascii")
        masked = mask_secret_formats(window)
        if masked != window:
            pieces += (data[kept:first], masked.encode("ascii"))
            kept = end
        start = runs.find(_RUN, end)
    if not pieces:
        return None
    pieces.append(data[kept:])
    return b"".join(pieces)


def scrub_content_secrets(text: str, keys_masked: bool = False) -> str:
    """``text`` with API keys, tokens, JWTs, private keys, URL passwords and secret query
    parameters (``?key=``, ``&X-Amz-Signature=``) masked as ``[REDACTED:kind]`` /
    ``[REDACTED]``.

    ``keys_masked``: the built-in redactors will run on the text anyway (they cover the key and
    token formats), so only query parameters are looked at here."""
    if not text:
        return text
    if not keys_masked:
        data = text.encode("utf-8", "surrogatepass")
        if _whole_text(text, data):
            text = redact_secret_text(text)
        else:
            masked = _runs_masked(data)
            if masked is not None:
                text = masked.decode("utf-8", "surrogatepass")
            # what a percent-encoded run (a URL built from the user's text) hides
            text = mask_cut_keys(mask_encoded(text, mask_decoded_secrets))
    return mask_secret_params(text)

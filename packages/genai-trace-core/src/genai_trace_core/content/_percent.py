"""Percent-encoded text looked at decoded, so what it hides is masked too.

A question, a document or a tool argument that goes into a URL comes back percent-encoded: an
HTTP client's error quotes the URL (``...?q=db+postgres%3A%2F%2Fadmin%3Apw%40host``), a tool
argument or a document id is a URL built from the user's text. There ``Bearer``, ``//user:pw@``,
``-----BEGIN PRIVATE KEY-----``, ``&api_key=`` and ``jane@example.org`` are written ``Bearer+``,
``%2F%2Fuser%3Apw%40``, ``-----BEGIN+PRIVATE+KEY-----``, ``%26api_key%3D`` and
``jane%40example.org``, which no detector of the plain text recognises. So each run of
non-space characters that holds a ``%XX`` escape is decoded (``+`` as a space, as a query string
means it) and given to the same detectors; a run in which they mask something is replaced by the
masked text, encoded again (markers and URL punctuation kept readable), and any other run is left
exactly as written. Texts without a ``%XX`` escape cost one ``in`` test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final
from urllib.parse import quote, unquote_plus

_ESCAPE: Final = re.compile(r"%[0-9A-Fa-f]{2}")
_ENDS: Final = " \t\n\r\f\v\"'<>`"  # what ends a URL or a form body in free text
_END: Final = re.compile(r"[ \t\n\r\f\v\"'<>`]")
_SAFE: Final = "!#$&'()*,/:;=?@[]~"  # URL punctuation, the ``[REDACTED:kind]`` markers; not ``+``


def _run_start(text: str, low: int, at: int) -> int:
    """Where the run holding position ``at`` starts (not before ``low``)."""
    return max(low, *(text.rfind(end, low, at) + 1 for end in _ENDS))


def mask_encoded(text: str, mask: Callable[[str], str]) -> str:
    """``text`` with every percent-encoded run in which ``mask`` finds something to mask
    replaced by the masked, re-encoded run (``mask`` is given the decoded run)."""
    if "%" not in text:
        return text
    escape = _ESCAPE.search(text)
    out: list[str] = []
    done = low = 0
    while escape is not None:
        start = _run_start(text, low, escape.start())
        after = _END.search(text, escape.end())
        end = after.start() if after is not None else len(text)
        run = text[start:end]
        decoded = unquote_plus(run, errors="replace")
        masked = mask(decoded)
        if masked != decoded:
            out += (text[done:start], quote(masked, safe=_SAFE))
            done = end
        low = end
        escape = _ESCAPE.search(text, end)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)

"""Inline binary content inside captured text: described, never exported.

A captured string may carry an image, audio or a file as base64: a ``data:<mime>;base64,...`` URL
(a prompt variable filled into an ``image_url`` template, a tool that returns a data URL, a
message history serialised as a template variable) or bare base64 (the variable itself, a tool
result's ``data`` field). Each payload is replaced by ``<blob: image/png, 10240 bytes>``: the MIME
type from the data URL, or else from the payload's first bytes (PNG, JPEG, GIF, WebP, PDF, WAV,
MP3, Ogg, MP4); the decoded size from its length, never decoded. This runs before a text is cut
or redacted, so no slice of the bytes is exported however the text is cut.

Bare base64 is a run of at least :data:`MIN_RUN` characters of the standard or URL-safe alphabet
(a JSON-escaped slash too), or at least four lines of 60 to 76 (MIME wrapping), holding upper and
lower case letters and digits at one end (natural text and hex digests do not), that is not
words (a third of random base64 at most sits in same-case runs of four letters; identifiers,
paths and mangled names more), and either starts with a known format's bytes, is at least
:data:`LONG` characters, or holds both symbols of one alphabet (``+`` and ``/``, or ``-`` and
``_``, which names and paths mix or lack). Left alone: a PEM body after its ``-----BEGIN``
armour (private keys are masked by the secret detectors), base64 of a PEM certificate or public
key and OpenSSH public keys (told by their decoded first bytes), and a run without ``+`` or ``/``
before a ``.`` and more base64 (a JWT segment: the secret detectors mask the token whole).

Cost: a text shorter than :data:`MIN_RUN` without ``;base64,`` is returned at once. Any other is
looked at only over what may be exported (``window`` characters of output): C-level searches for
``;base64,`` and for a space in each block of 128 characters (prose has one), a regular
expression only around a block without one, and each payload found is read to its end (to
measure it).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from genai_trace_core.content._sizes import base64_text_size

MIN_RUN: Final = 256
_MIXED_PROBE: Final = 256
LONG: Final = 1024  # a run this long without a known format's head is still a payload
_B64: Final = r"[A-Za-z0-9+/_\-]"
_B64E: Final = r"[A-Za-z0-9+/_\\\-]"  # and "\" of a JSON-escaped "\/" (checked after)
_BEFORE: Final = r"(?<![A-Za-z0-9+/_.\-])"
_AFTER: Final = r"(?![A-Za-z0-9+/=_\-])"
_DATA_URL: Final = (
    r"(?i:data:)(?P<mime>[\w.+\-]{1,64}\\?/[\w.+\-]{1,128})?"
    r"(?:;[\w.+\-]{1,64}(?:=[^;,\s\"'<>]{0,128})?){0,8}(?i:;base64,)"
)
_WRAPPED: Final = rf"{_BEFORE}(?:{_B64}{{60,76}}\r?\n){{4,}}{_B64}{{0,76}}={{0,2}}"
_BARE: Final = rf"{_BEFORE}{_B64E}{{{MIN_RUN},}}={{0,2}}{_AFTER}"
_URL_RE: Final = re.compile(_DATA_URL + r"\Z")  # ends where the search ends: at its "64,"
_MARK_RE: Final = re.compile(r";(?i:base64),")
_URL_BACK: Final = 512  # the longest data URL prefix looked for before its ";base64,"
_RUN_RE: Final = re.compile(rf"(?P<wrapped>{_WRAPPED})|(?P<bare>{_BARE})")
_BLOCK: Final = 128  # a run of MIN_RUN characters holds a whole block of them, however aligned
_BLOCK_RE: Final = re.compile(rf"[A-Za-z0-9+/=_\-\r\n\\]{{{_BLOCK}}}")
_PAYLOAD: Final = re.compile(r"(?:[A-Za-z0-9+/_\-]|\\/)*={0,2}")
_WRAPPED_RE: Final = re.compile(_WRAPPED)
_BARE_RE: Final = re.compile(_BARE)
_ANY_RUN: Final = re.compile(r"[A-Za-z0-9+/_\-\r\n\\]*={0,2}")
_WORDS: Final = re.compile(r"[a-z]{4,}|[A-Z]{4,}")  # random base64: under a third of a probe
_WORDY: Final = 0.4
_AFTER_DOT: Final = re.compile(r"[A-Za-z0-9_\-]")
_PEM: Final = re.compile(  # armour, then any "Name: value" header lines
    r"-----BEGIN [A-Z0-9 ]{1,64}-----[ \t]*\r?\n(?:[^\r\n]{0,200}:[^\r\n]*\r?\n)*\r?\n?"
)
_PUBLIC: Final = (b"-----BEGIN CERTIFICATE", b"-----BEGIN PUBLIC KEY")  # base64 of PEM text

# (offset, magic, MIME type) of the formats told by their first bytes
_MAGIC: Final = (
    (0, b"\x89PNG", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"WAVE", "audio/wav"),
    (0, b"%PDF", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (4, b"ftyp", "video/mp4"),
)


def _head(payload: str) -> bytes:
    try:
        return base64.b64decode(payload[:32].replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _sniff(payload: str) -> str | None:
    raw = _head(payload)
    for offset, magic, mime in _MAGIC:
        if raw[offset : offset + len(magic)] == magic:
            return mime
    return None


def _words(probe: str) -> bool:
    return sum(map(len, _WORDS.findall(probe))) > _WORDY * len(probe)


def _payload(text: str, start: int, end: int, run: str) -> bool:
    """Whether ``run`` (no known format's head) is binary data rather than text that looks
    alike: a public key or certificate, an identifier, a path, a list of names."""
    head = _head(run)
    if head.startswith(_PUBLIC) or head[4:].startswith((b"ssh-", b"ecdsa-", b"sk-")):
        return False  # base64 of a PEM certificate, an OpenSSH public key
    if head.startswith(b"-----BEGIN "):
        return True  # base64 of a private key (a Kubernetes Secret's tls.key)
    armour = text.rfind("-----BEGIN ", max(0, start - 512), start)
    if armour != -1 and _PEM.fullmatch(text, armour, start):
        return False  # a PEM body: private keys are masked by the secret detectors
    plus, url = "+" in run or "/" in run, "-" in run or "_" in run
    if not plus and text.startswith(".", end) and _AFTER_DOT.match(text, end + 1):
        return False  # a JWT segment: the secret detectors mask the token whole
    if _words(run[:_MIXED_PROBE]) and _words(run[-_MIXED_PROBE:]):
        return False  # identifiers, words, paths
    if len(run) >= LONG:
        return True
    # standard base64 holds both "+" and "/", URL-safe both "-" and "_"; names mix or lack them
    return ("+" in run and "/" in run and not url) or ("-" in run and "_" in run and not plus)


def _mixed(run: str) -> bool:
    """Upper and lower case letters and digits at either end (a payload glued to a word)."""
    for probe in (run[:_MIXED_PROBE], run[-_MIXED_PROBE:]):
        if probe.lower() != probe and probe.upper() != probe and any(c.isdigit() for c in probe):
            return True
    return False


def _marker(mime: str | None, size: int) -> str:
    return f"<blob: {mime}, {size} bytes>" if mime else f"<blob: {size} bytes>"


def _described(text: str, found: re.Match[str]) -> tuple[int, str | None]:
    """Where the payload ``found`` starts ends, and its description (``None``: no payload)."""
    if found.re is _URL_RE:
        payload = _PAYLOAD.match(text, found.end())
        end = payload.end() if payload else found.end()
        data = text[found.end() : end]
        if not data:
            return end, None
        if "\\" in data:
            data = data.replace("\\/", "/")
        mime = found.group("mime")
        mime = mime.replace("\\", "") if mime else _sniff(data)
        return end, _marker(mime, base64_text_size(data))
    full = (_WRAPPED_RE if found.group("wrapped") is not None else _BARE_RE).match(
        text, found.start()
    )
    run_text = full.group() if full is not None else ""
    if "\\" in run_text and full is not None:  # only "\/" belongs to a payload
        escaped = _PAYLOAD.match(text, full.start())
        full = escaped if escaped and escaped.end() - full.start() >= MIN_RUN else None
        run_text = full.group().replace("\\/", "/") if full is not None else ""
    if "\n" in run_text:
        run_text = run_text.replace("\r", "").replace("\n", "")
    mime = _sniff(run_text) if full is not None and _mixed(run_text) else None
    if full is None or (
        mime is None
        and not (_mixed(run_text) and _payload(text, full.start(), full.end(), run_text))
    ):
        run = _ANY_RUN.match(text, found.start())
        return (run.end() if run else found.end()), None
    return full.end(), _marker(mime, base64_text_size(run_text))


def _data_url(text: str, pos: int, stop: int) -> re.Match[str] | None:
    """The first data URL prefix starting in ``[pos, stop)``, found from its ``;base64,``."""
    mark = _MARK_RE.search(text, pos, stop + _URL_BACK)  # one C scan, any letter case
    while mark is not None:
        url = _URL_RE.search(text, max(pos, mark.start() - _URL_BACK), mark.end())
        if url is not None:
            return url if url.start() < stop else None
        mark = _MARK_RE.search(text, mark.end(), stop + _URL_BACK)
    return None


def _next(text: str, pos: int, stop: int) -> re.Match[str] | None:
    """The first payload starting in ``[pos, stop)``. Bare runs are looked for only around a
    block of :data:`_BLOCK` base64 characters (prose fails that test within a word)."""
    url = _data_url(text, pos, stop)
    limit = url.start() if url is not None else stop
    last = min(limit + _BLOCK, len(text)) - _BLOCK
    for block in range(pos, last + 1, _BLOCK):
        if text.find(" ", block, block + _BLOCK) != -1:  # prose: one C scan per block
            continue
        if _BLOCK_RE.fullmatch(text, block, block + _BLOCK) is None:
            continue
        run = _RUN_RE.search(text, max(pos, block - _BLOCK), block + _BLOCK + MIN_RUN)
        if run is not None and run.start() < limit:
            return run
    return url


def describe_blobs(text: str, window: int) -> str:
    """``text`` with each inline base64 payload that starts within the first ``window``
    characters of the result replaced by its description; the rest is left as it is."""
    if len(text) < MIN_RUN and "64," not in text:  # any letter case of ";base64,"
        return text
    pieces: list[str] = []
    kept = pos = 0
    replaced = False
    size = len(text)
    while pos < size and kept < window:
        stop = min(size, pos + window - kept)
        found = _next(text, pos, stop)
        if found is None:
            break
        end, marker = _described(text, found)
        pieces.append(text[pos : found.start()] if marker is not None else text[pos:end])
        kept += (found.start() if marker is not None else end) - pos
        if marker is not None:
            pieces.append(marker)
            kept += len(marker)
            replaced = True
        pos = end
    if not replaced:
        return text
    pieces.append(text[pos:])
    return "".join(pieces)

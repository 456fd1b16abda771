"""Redaction of captured text: the built-in detectors and the user hook.

The built-in pass (``Settings.redact_builtin`` / ``GENAI_TRACE_REDACT``) is one precompiled regular
expression with one named alternative per detector (the table is in :mod:`._detectors`), so a
text is scanned once. Candidates that
need a checksum (payment cards: issuer prefix + Luhn; IBANs: ISO 7064 mod 97; IP addresses:
``ipaddress``, in ``_checksums``) are validated as they are found and left alone when invalid;
a rejected run of digit groups (a phone number then a card, "2024 4111 1111 1111 1111") is looked
into again, a bounded number of times per text. Every alternative that starts with a character
run is anchored with a look-behind so a long run of word characters is scanned in linear time.
Markers look like ``[REDACTED:email]``.
"""

from __future__ import annotations

import re
from typing import Final

from genai_trace_core._safe import log_once
from genai_trace_core._settings import Settings
from genai_trace_core.content._checksums import iban_ok, ipv4_ok, is_card, is_ipv6
from genai_trace_core.content._cut_keys import mask_cut_keys
from genai_trace_core.content._detectors import (
    ALL,
    ALL_ESCAPED,
    LABELS,
    NAMED,
    QUOTED_EMAIL,
    SECRET_NAMES,
    SECRETS_ESCAPED,
    SECRETS_ONLY,
)
from genai_trace_core.content._percent import mask_encoded
from genai_trace_core.content._phones import (
    ALONE,
    LOCAL_REGIONS,
    is_local_phone,
    is_national_phone,
    is_us_plain_phone,
    local_shape_ok,
    parse_budget,
)

REDACTION_FAILED: Final = "[REDACTION FAILED]"
MARKER_PREFIX: Final = "[REDACTED:"


def _redact_iban(candidate: str) -> str:
    """Redact the longest prefix (ending at a group boundary) that passes the mod-97 check."""
    if " " not in candidate:
        return MARKER_PREFIX + "iban]" if iban_ok(candidate) else candidate
    groups = candidate.split(" ")
    for end in range(len(groups), 2, -1):
        if iban_ok("".join(groups[:end])):
            rest = " ".join(groups[end:])
            return MARKER_PREFIX + "iban]" + (" " + rest if rest else "")
    return candidate


def _redact_ipv6(candidate: str) -> str:
    address = candidate.rstrip(".")
    if is_ipv6(address):
        return MARKER_PREFIX + "ip]" + candidate[len(address) :]
    return candidate


def _phone_ok(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    return 8 <= digits <= 15


def _classify(text: str, secrets_only: bool) -> str | None:
    found = NAMED.fullmatch(text)
    name = found.lastgroup if found else None
    if name is None or (secrets_only and name not in SECRET_NAMES):
        return None
    return name


def _check(match: re.Match[str], secrets_only: bool, budget: list[int] | None = None) -> str:
    return _checked(match, _classify(match.group(), secrets_only), budget or [0])


def _checked(match: re.Match[str], name: str | None, budget: list[int]) -> str:
    """The replacement of ``match``, found by detector ``name``: itself when it is not valid."""
    text = match.group()
    if name is None:
        return text
    before = match.string[match.start() - 1] if match.start() else " "
    if name == "card":
        return MARKER_PREFIX + "card]" if before not in ".-" and is_card(text) else text
    if name == "iban":
        return _redact_iban(text)
    if name == "ipv4":
        return MARKER_PREFIX + "ip]" if before != "." and ipv4_ok(text) else text
    if name in ("ipv6", "ipv6_lead"):
        return _redact_ipv6(text) if before != "." else text
    if name == "phone_intl" and not _phone_ok(text):
        return text
    if name in ("phone_us", "phone_us_paren") and before in ".-":
        return text
    if name in ("phone_national", "phone_us_plain") or name in LOCAL_REGIONS:
        may_be = before not in "./-" and not _in_a_row(match, name)
        return _national(text, name, may_be and _shape_ok(match, name), budget)
    if name == "bearer":
        return text.split(None, 1)[0] + " " + MARKER_PREFIX + "bearer_token]"
    if name == "url_password":  # its slashes kept as written (plain or JSON-escaped)
        return text[: text.index("/", 1) + 1] + MARKER_PREFIX + "password]@"
    return f"{MARKER_PREFIX}{LABELS[name]}]"


def _in_a_row(match: re.Match[str], name: str) -> bool:
    """Whether a candidate that must stand alone has a digit group right before or after it."""
    if name not in ALONE:
        return False
    text, start, end = match.string, match.start(), match.end()
    before = start >= 2 and text[start - 2].isdigit() and text[start - 1] in " -"
    return before or (text[end : end + 1] in (" ", "-") and text[end + 1 : end + 2].isdigit())


def _shape_ok(match: re.Match[str], name: str) -> bool:
    if name not in LOCAL_REGIONS:
        return True
    return local_shape_ok(match.string, match.start(), match.end(), name)


def _national(text: str, name: str, may_be: bool, budget: list[int]) -> str:
    if not may_be:
        valid = False
    elif name == "phone_national":
        valid = is_national_phone(text, budget)
    elif name == "phone_us_plain":
        valid = is_us_plain_phone(text, budget)
    else:
        valid = is_local_phone(text, name, budget)
    if valid:
        return MARKER_PREFIX + "phone]"
    # Not a phone number: what follows its first digit group (an IP address, a card) is
    # scanned again on its own.
    first = 1
    while first < len(text) and text[first].isdigit():
        first += 1
    return text[:first] + _builtin_plain(text[first:], budget) if first < len(text) else text


def _check_secrets(match: re.Match[str]) -> str:
    return _check(match, True)


def builtin_redact(text: str) -> str:
    """Mask emails, phone numbers, payment cards, IBANs, IP addresses and API keys/tokens, also
    where they are percent-encoded (a URL's query string: :mod:`._percent`) or cut short at an
    ellipsis (:mod:`._cut_keys`)."""
    return mask_cut_keys(mask_encoded(_builtin_plain(text), _builtin_decoded), personal=True)


def _builtin_decoded(text: str) -> str:
    # a percent-encoded run decoded: its ellipsis may be "%E2%80%A6", a key's head after "%3D"
    return mask_cut_keys(_builtin_plain(text), personal=True)


def _builtin_plain(text: str, budget: list[int] | None = None) -> str:
    if '"@' in text:  # a quoted local part: rare, so its own expression
        text = QUOTED_EMAIL.sub(MARKER_PREFIX + "email]", text)
    pattern = ALL_ESCAPED if "\\" in text else ALL
    match = pattern.search(text)
    if match is None:
        return text
    out: list[str] = []
    done = 0
    retries = 8 + len(text) // _CHARS_PER_RETRY
    parses = parse_budget(text) if budget is None else budget
    while match is not None:
        name = _classify(match.group(), False)
        replaced = _checked(match, name, parses)
        if replaced == match.group() and retries and _looked_into(name, replaced):
            # A rejected run of digit groups ("2024 4111 1111 1111 1111") may hold a valid one:
            # shorter, at the same start, else starting at a later group.
            retries -= 1
            inner = _shorter(pattern, match, parses)
            if inner is None:
                boundary = _GROUP_END.search(text, match.start(), match.end())
                match = pattern.search(text, boundary.start() if boundary else match.end())
                continue
            match, replaced = inner
        out.append(text[done : match.start()])
        out.append(replaced)
        done = match.end()
        match = pattern.search(text, done)
    out.append(text[done:])
    return "".join(out)


_DIGIT_RUNS: Final = frozenset(
    ("card", "phone_intl", "phone_us", "phone_national", "phone_us_plain", *LOCAL_REGIONS)
)


def _looked_into(name: str | None, rejected: str) -> bool:
    # An IBAN candidate not in capitals may be a word before numbers: "ab12 4111 1111 1111 1111".
    return name in _DIGIT_RUNS or (name == "iban" and not rejected[:2].isupper())


_GROUP_END: Final = re.compile(r"(?<=\d)[ .\-/](?=[\d(])")
# Rejected runs looked into: 8 per text plus one per 256 characters, so a table of numbers costs
# at most ~1 ms more per 8 KB.
_CHARS_PER_RETRY: Final = 256


def _shorter(
    pattern: re.Pattern[str], match: re.Match[str], budget: list[int]
) -> tuple[re.Match[str], str] | None:
    """The longest valid value (8 to 19 digits: phone numbers, cards) that starts where ``match``
    does and ends at one of its inner group boundaries, with its replacement; else ``None``."""
    text, start = match.string, match.start()
    for boundary in reversed(list(_GROUP_END.finditer(text, start, match.end()))):
        end = boundary.start()
        if 8 <= sum(ch.isdigit() for ch in text[start:end]) <= 19:
            inner = pattern.match(text, start, end)
            if inner is not None and (replaced := _check(inner, False, budget)) != inner.group():
                return inner, replaced
    return None


def redact_secret_text(text: str) -> str:
    """Mask only credentials (API keys, tokens, JWTs, private keys, URL passwords), also where
    they are percent-encoded or cut short at an ellipsis (``ghp_R4nd...1234``: :mod:`._cut_keys`).
    Applied in every capture mode (model kwargs, content, errors)."""
    return mask_cut_keys(mask_encoded(mask_secret_formats(text), mask_decoded_secrets))


def mask_secret_formats(text: str) -> str:
    """:func:`redact_secret_text` of the text as written (no percent-decoding)."""
    return (SECRETS_ESCAPED if "\\" in text else SECRETS_ONLY).sub(_check_secrets, text)


def mask_decoded_secrets(text: str) -> str:
    """The credentials of a percent-encoded run, decoded (``key=ghp_R4nd…1234`` written
    ``key%3Dghp_R4nd%E2%80%A61234``), masked: key formats and keys cut at an ellipsis."""
    return mask_cut_keys(mask_secret_formats(text))


def redact(text: str, settings: Settings) -> str:
    """Apply the built-in redactors (when switched on) and then the user hook.

    A hook that raises or returns something other than a string drops the text: the result is
    ``[REDACTION FAILED]``, never the unredacted text and never an exception."""
    if settings.redact_builtin:
        text = builtin_redact(text)
    hook = settings.redactor
    if hook is None:
        return text
    try:
        out: object = hook(text)
    except Exception:  # a user hook never breaks telemetry (logged without its message: it may
        # quote the text)
        log_once("redactor-raised", "genai-trace: the redactor hook raised; content dropped")
        return REDACTION_FAILED
    if not isinstance(out, str):
        log_once("redactor-type", "genai-trace: the redactor hook returned a non-string")
        return REDACTION_FAILED
    return out

"""Redaction of captured text: the built-in detectors and the user hook.

The built-in pass (``Settings.redact_builtin`` / ``GENAI_TRACE_REDACT``) is one precompiled regular
expression with one named alternative per detector, so a text is scanned once. Candidates that
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
from genai_trace_core.content._percent import mask_encoded
from genai_trace_core.content._phones import (
    NATIONAL,
    US_PLAIN,
    is_national_phone,
    is_us_plain_phone,
)

REDACTION_FAILED: Final = "[REDACTION FAILED]"
MARKER_PREFIX: Final = "[REDACTED:"

_B64URL = r"[A-Za-z0-9_\-]"

# (name, label in the marker, pattern). Each pattern starts with a literal or a character class so
# the regex engine can skip an alternative on its first character; the shared ``(?<!\w)`` in front
# of the alternation rejects positions inside a word with one test. Secrets come first: a key
# must win over the PII detectors at the same position.
_SECRET_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "private_key",
        "private_key",
        r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----"
        r"(?:[\s\S]*?-----END[A-Z ]{0,40}PRIVATE KEY-----|[\s\S]*)",
    ),
    ("anthropic", "anthropic_key", rf"sk-ant-{_B64URL}{{20,}}"),
    ("openai", "openai_key", rf"sk-(?:proj-|svcacct-|admin-)?{_B64URL}{{20,}}"),
    ("stripe", "stripe_key", r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google", "google_key", rf"AIza{_B64URL}{{30,}}"),
    ("google_oauth", "google_token", rf"ya29\.{_B64URL}{{20,}}"),
    ("aws", "aws_key", r"A(?:KIA|SIA|BIA|CCA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    ("github", "github_token", r"gh[pousr]_[A-Za-z0-9]{30,}"),
    ("github_pat", "github_token", r"github_pat_[A-Za-z0-9_]{22,}"),
    ("gitlab", "gitlab_token", rf"glpat-{_B64URL}{{20,}}"),
    ("slack", "slack_token", r"xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("huggingface", "hf_token", r"hf_[A-Za-z0-9]{30,}"),
    ("groq", "groq_key", r"gsk_[A-Za-z0-9]{20,}"),
    ("xai", "xai_key", r"xai-[A-Za-z0-9]{20,}"),
    ("perplexity", "perplexity_key", r"pplx-[A-Za-z0-9]{20,}"),
    ("replicate", "replicate_token", r"r8_[A-Za-z0-9]{20,}"),
    ("langsmith", "langsmith_key", r"lsv2_(?:pt|sk)_[A-Za-z0-9_]{20,}"),
    ("npm", "npm_token", r"npm_[A-Za-z0-9]{30,}"),
    # A JWT cut after its payload started is still a JWT: the signature part is optional.
    ("jwt", "jwt", rf"eyJ{_B64URL}{{8,}}\.eyJ{_B64URL}*(?:\.{_B64URL}*)?"),
    ("bearer", "bearer_token", r"[Bb]earer[ \t]+[A-Za-z0-9._~+/=\-]{8,}"),
    # scheme://user:password@host (the scheme's "://" is before the match).
    ("url_password", "password", r"//[^\s:/?#@\[\]]{1,128}:[^\s/?#@]{1,256}@"),
)

_PII_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "email",
        "email",
        r"[\w.%+-][\w.%+'-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])",
    ),
    (
        "iban",
        "iban",
        r"[A-Z][A-Z]\d\d(?:(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})"
        r"(?![A-Za-z0-9])",
    ),
    ("card", "card", r"\d(?:[ -]?\d){12,18}(?![\w-])"),
    ("ipv4", "ip", r"\d\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)"),
    # Candidates need two colons (validated by ``ipaddress``), so "x[1:2]" is not even tried.
    ("ipv6", "ip", r"[0-9A-Fa-f][0-9A-Fa-f]{0,3}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}"),
    ("ipv6_lead", "ip", r"::[0-9A-Fa-f][0-9A-Fa-f:.]{0,40}"),
    ("phone_intl", "phone", r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}(?!\w)"),
    ("phone_us", "phone", r"\d(?:[ .-]\d{3}[ .-]\d{3}|\d\d[ .-]\d{3})[ .-]\d{4}(?!\w)"),
    ("phone_us_paren", "phone", r"\(\d{3}\) ?\d{3}[ .-]\d{4}(?!\w)"),
    ("phone_national", "phone", NATIONAL),
    ("phone_us_plain", "phone", US_PLAIN),
)

_RULES: Final = _SECRET_RULES + _PII_RULES
_LABELS: Final = {name: label for name, label, _ in _RULES}
_SECRET_NAMES: Final = frozenset(name for name, _, _ in _SECRET_RULES)
# Names the detector of a match (fullmatch picks the first rule, like the scan did).
_NAMED: Final = re.compile("|".join(f"(?P<{name}>{pattern})" for name, _, pattern in _RULES))


# Where a match may start. Inside an ASCII word nothing starts ("task-" and 20 letters is prose):
# one look-behind rejects those positions at once. A key or token may follow a digit, an
# underscore or non-ASCII text ("TOKEN_sk-…", "key1sk-…", "鍵はsk-…"); the other detectors need a
# non-word character before them, as they always did. Text with a backslash may hold escape
# sequences, after which anything may start: a JSON document or a list's repr formatted into a
# prompt writes "\\n", "\\x00" or "\\u00e9" right before a pasted key or email. Those look-behinds
# cost a test at every position, so only text that contains a backslash gets them.
_ESCAPE_BEFORE: Final = (
    r"(?<=\\[nrtfbv])|(?<=\\x[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\U[0-9A-Fa-f]{8})"
)


def _compile(
    secret_rules: tuple[tuple[str, str, str], ...],
    pii_rules: tuple[tuple[str, str, str], ...],
    escapes: bool,
) -> re.Pattern[str]:
    secrets = "|".join(f"(?:{pattern})" for _, _, pattern in secret_rules)
    start = f"(?:(?<![A-Za-z])|{_ESCAPE_BEFORE})" if escapes else "(?<![A-Za-z])"
    body = secrets
    if pii_rules:
        pii = "|".join(f"(?:{pattern})" for _, _, pattern in pii_rules)
        pii_start = f"(?:(?<!\\w)|{_ESCAPE_BEFORE})" if escapes else "(?<!\\w)"
        body = f"{secrets}|{pii_start}(?:{pii})"
    # Every alternative starts with one of these characters: whitespace is rejected at once.
    return re.compile(f"{start}(?=[\\w.%+\\-(:/])(?:{body})")


_ALL: Final = _compile(_SECRET_RULES, _PII_RULES, escapes=False)
_ALL_ESCAPED: Final = _compile(_SECRET_RULES, _PII_RULES, escapes=True)
_SECRETS_ONLY: Final = _compile(_SECRET_RULES, (), escapes=False)
_SECRETS_ESCAPED: Final = _compile(_SECRET_RULES, (), escapes=True)


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
    found = _NAMED.fullmatch(text)
    name = found.lastgroup if found else None
    if name is None or (secrets_only and name not in _SECRET_NAMES):
        return None
    return name


def _check(match: re.Match[str], secrets_only: bool) -> str:
    return _checked(match, _classify(match.group(), secrets_only))


def _checked(match: re.Match[str], name: str | None) -> str:
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
    if name in ("phone_national", "phone_us_plain"):
        return _national(text, name, before)
    if name == "bearer":
        return text.split(None, 1)[0] + " " + MARKER_PREFIX + "bearer_token]"
    if name == "url_password":
        return "//" + MARKER_PREFIX + "password]@"
    return f"{MARKER_PREFIX}{_LABELS[name]}]"


def _national(text: str, name: str, before: str) -> str:
    valid = is_national_phone if name == "phone_national" else is_us_plain_phone
    if before not in "./-" and valid(text):
        return MARKER_PREFIX + "phone]"
    # Not a phone number: what follows its first digit group (an IP address, a card) is
    # scanned again on its own.
    first = 1
    while first < len(text) and text[first].isdigit():
        first += 1
    return text[:first] + _builtin_plain(text[first:]) if first < len(text) else text


def _check_secrets(match: re.Match[str]) -> str:
    return _check(match, True)


def builtin_redact(text: str) -> str:
    """Mask emails, phone numbers, payment cards, IBANs, IP addresses and API keys/tokens, also
    where they are percent-encoded (a URL's query string: :mod:`._percent`)."""
    return mask_encoded(_builtin_plain(text), _builtin_plain)


def _builtin_plain(text: str) -> str:
    pattern = _ALL_ESCAPED if "\\" in text else _ALL
    match = pattern.search(text)
    if match is None:
        return text
    out: list[str] = []
    done = 0
    retries = 8 + len(text) // _CHARS_PER_RETRY
    while match is not None:
        name = _classify(match.group(), False)
        replaced = _checked(match, name)
        if replaced == match.group() and name in _DIGIT_RUNS and retries:
            # A rejected run of digit groups ("2024 4111 1111 1111 1111") may hold a valid one:
            # shorter, at the same start, else starting at a later group.
            retries -= 1
            inner = _shorter(pattern, match)
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
    ("card", "phone_intl", "phone_us", "phone_national", "phone_us_plain")
)
_GROUP_END: Final = re.compile(r"(?<=\d)[ .\-/](?=[\d(])")
# Rejected runs looked into: 8 per text plus one per 256 characters, so a table of numbers costs
# at most ~1 ms more per 8 KB.
_CHARS_PER_RETRY: Final = 256


def _shorter(pattern: re.Pattern[str], match: re.Match[str]) -> tuple[re.Match[str], str] | None:
    """The longest valid value (8 to 19 digits: phone numbers, cards) that starts where ``match``
    does and ends at one of its inner group boundaries, with its replacement; else ``None``."""
    text, start = match.string, match.start()
    for boundary in reversed(list(_GROUP_END.finditer(text, start, match.end()))):
        end = boundary.start()
        if 8 <= sum(ch.isdigit() for ch in text[start:end]) <= 19:
            inner = pattern.match(text, start, end)
            if inner is not None and (replaced := _check(inner, False)) != inner.group():
                return inner, replaced
    return None


def redact_secret_text(text: str) -> str:
    """Mask only credentials (API keys, tokens, JWTs, private keys, URL passwords), also where
    they are percent-encoded. Applied in every capture mode (model kwargs, content, errors)."""
    return mask_encoded(mask_secret_formats(text), mask_secret_formats)


def mask_secret_formats(text: str) -> str:
    """:func:`redact_secret_text` of the text as written (no percent-decoding)."""
    return (_SECRETS_ESCAPED if "\\" in text else _SECRETS_ONLY).sub(_check_secrets, text)


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

r"""The built-in detectors of :mod:`._redact`: one pattern per kind of secret or personal data,
and the expressions that scan a text for all of them at once.

A URL password is found after the scheme's ``//`` as written in plain text, JSON-escaped
(``postgres:\/\/admin:pw@db``, as PHP and some JSON encoders write it) or escaped twice (JSON in
a JSON string: ``:\\/\\/``); percent-encoded (``%2F%2F``) it is found by :mod:`._percent`.
:data:`URL_PASSWORD` is also the quick pre-check of :mod:`._secret_scan`.
"""

from __future__ import annotations

import re
from typing import Final

from genai_trace_core.content._phones import LOCAL_RULES, NATIONAL, US_PLAIN

_B64URL = r"[A-Za-z0-9_\-]"
# scheme://user:password@host (the scheme's ":" is before the match), its slashes also written
# JSON-escaped ("\/\/") or escaped twice ("\\/\\/"). The match keeps the slashes as written.
# The user name may be empty (Redis: "redis://:pw@host"). A password may hold "@": it runs to the
# last "@" of the authority ("admin:hunter2@2024rest@db"; after its first "@" it also ends at
# quotes and list punctuation, so '{"a":"redis://u:p@h","b":"c@d"}' keeps "c@d"). A password
# never holds "/", "?" or "#": URL parsers end the authority there, and a path after a
# placeholder port ("http://<host>:<port>/users/bob@example.com", "localhost:PORT/u/me@x.org")
# is no password. Every repetition is bounded and every character class excludes the separator
# after it: linear per start.
_URL_USER = r'[^\s:/?#@\[\]"]{0,128}'
_URL_PW = r'[^\s/?#@"]'
_URL_PW_AFTER_AT = r"[^\s/?#@\"'<>,;`]"
URL_PASSWORD: Final = (
    rf"/\\{{0,2}}/{_URL_USER}:{_URL_PW}{{1,256}}(?:@{_URL_PW_AFTER_AT}{{0,256}}){{0,8}}@"
)

# (name, label in the marker, pattern). Each pattern starts with a literal or a character class so
# the regex engine can skip an alternative on its first character; the shared ``(?<!\w)`` in front
# of the alternation rejects positions inside a word with one test. Secrets come first: a key
# must win over the PII detectors at the same position.
SECRET_RULES: Final[tuple[tuple[str, str, str], ...]] = (
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
    # A JWT cut after its payload started is still a JWT: the signature part is optional (and
    # not the first dot of an ellipsis: "eyJ….eyJ…...sig" is left to ``_cut_keys``).
    ("jwt", "jwt", rf"eyJ{_B64URL}{{8,}}\.eyJ{_B64URL}*(?:\.(?!\.){_B64URL}*)?"),
    ("bearer", "bearer_token", r"[Bb]earer[ \t]+[A-Za-z0-9._~+/=\-]{8,}"),
    ("url_password", "password", URL_PASSWORD),
)

PII_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "email",
        "email",
        r"[\w.%+-][\w.%+'-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])",
    ),
    (
        "iban",
        "iban",
        r"[A-Za-z]{2}\d\d(?:(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,3})?|[A-Za-z0-9]{11,30})"
        r"(?![A-Za-z0-9])",
    ),
    # Digits grouped by spaces or dashes, or by dots in groups of 3 to 6 ("4111.1111.1111.1111":
    # a decimal number has one dot).
    ("card", "card", r"(?:\d(?:[ -]?\d){12,18}|\d{4}(?:\.\d{3,6}){2,4}(?!\.\d))(?![\w-])"),
    ("ipv4", "ip", r"\d\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)"),
    # Candidates need two colons (validated by ``ipaddress``), so "x[1:2]" is not even tried.
    ("ipv6", "ip", r"[0-9A-Fa-f][0-9A-Fa-f]{0,3}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}"),
    ("ipv6_lead", "ip", r"::[0-9A-Fa-f][0-9A-Fa-f:.]{0,40}"),
    ("phone_intl", "phone", r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}(?!\w)"),
    ("phone_us", "phone", r"\d(?:[ .-]\d{3}[ .-]\d{3}|\d\d[ .-]\d{3})[ .-]\d{4}(?!\w)"),
    ("phone_us_paren", "phone", r"\(\d{3}\) ?\d{3}[ .-]\d{4}(?!\w)"),
    ("phone_national", "phone", NATIONAL),
    ("phone_us_plain", "phone", US_PLAIN),
    *((name, "phone", pattern) for name, pattern, _ in LOCAL_RULES),
)

# An email whose local part is quoted ('"john doe"@example.com'; its quotes also JSON-escaped). Its
# own expression, run only on text that has '"@' (a quote cannot start the scan's matches). The
# quoted part has no space at either end and no JSON punctuation, and its opening quote follows
# no word character or quote: between two JSON strings ('"Jane", "@odata.type"') is no email.
QUOTED_EMAIL: Final = re.compile(
    r'(?<![\w"\\])\\{0,3}"(?!\s)[^"\\\r\n,:{}\[\]]{1,64}(?<!\s)\\{0,3}"'
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])"
)

RULES: Final = SECRET_RULES + PII_RULES
LABELS: Final = {name: label for name, label, _ in RULES}
SECRET_NAMES: Final = frozenset(name for name, _, _ in SECRET_RULES)
# Names the detector of a match (fullmatch picks the first rule, like the scan did).
NAMED: Final = re.compile("|".join(f"(?P<{name}>{pattern})" for name, _, pattern in RULES))


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


_DIGIT_LED: Final = frozenset(
    (
        "card",
        "ipv4",
        "phone_us",
        "phone_us_paren",
        "phone_national",
        "phone_us_plain",
        *(name for name, _, _ in LOCAL_RULES),
    )
)


# The digit-led detectors may also start right after Han, kana or Hangul ("手机号13800138000":
# those scripts write no space before a number, and ``\w`` counts them as word characters).
_NOT_AFTER_CJK: Final = r"(?<![^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])"


def _compile(
    secret_rules: tuple[tuple[str, str, str], ...],
    pii_rules: tuple[tuple[str, str, str], ...],
    escapes: bool,
) -> re.Pattern[str]:
    secrets = "|".join(f"(?:{pattern})" for _, _, pattern in secret_rules)
    start = f"(?:(?<![A-Za-z])|{_ESCAPE_BEFORE})" if escapes else "(?<![A-Za-z])"
    body = secrets
    if pii_rules:
        # The detectors that start with a digit or "(" sit behind one look-ahead, so a letter
        # rejects all of them with one test, then their own look-behind (``_NOT_AFTER_CJK``). The
        # others (email, IBAN, IPv6, "+" numbers) never match where one of them does, so the
        # first to match is the same detector as in ``PII_RULES`` order.
        led = [f"(?:{pattern})" for name, _, pattern in pii_rules if name in _DIGIT_LED]
        pii = "|".join(f"(?:{pattern})" for name, _, pattern in pii_rules if name not in _DIGIT_LED)
        pii_start = f"(?:(?<!\\w)|{_ESCAPE_BEFORE})" if escapes else "(?<!\\w)"
        led_start = f"(?:{_NOT_AFTER_CJK}|{_ESCAPE_BEFORE})" if escapes else _NOT_AFTER_CJK
        body = f"{secrets}|{pii_start}(?:{pii})|(?=[\\d(]){led_start}(?:{'|'.join(led)})"
    # Every alternative starts with one of these characters: whitespace is rejected at once.
    return re.compile(f"{start}(?=[\\w.%+\\-(:/])(?:{body})")


ALL: Final = _compile(SECRET_RULES, PII_RULES, escapes=False)
ALL_ESCAPED: Final = _compile(SECRET_RULES, PII_RULES, escapes=True)
SECRETS_ONLY: Final = _compile(SECRET_RULES, (), escapes=False)
SECRETS_ESCAPED: Final = _compile(SECRET_RULES, (), escapes=True)

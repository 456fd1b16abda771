"""National phone numbers for the built-in redactor: candidate patterns and their validation.

International numbers (``+44 20 7946 0958``) and the US formats with separators are matched by
``_redact`` alone. National formats are ambiguous (``020 7946 0958`` in the UK, ``030 12345678``
in Germany, ``06 12 34 56 78`` in France, ``020 123 4567`` in the Netherlands, ``4155550132`` in
the US): a candidate with a trunk ``0`` or a bare ten-digit NANP number is checked by
Google's libphonenumber (``phonenumbers``, the ``genai-trace-core[redact]`` extra) against the
regions below, and masked when it is a valid number in one of them. Numbers written without a
trunk ``0`` have one shape per region (:data:`LOCAL_RULES`: India ``98765 43210``, Brazil
``(11) 91234-5678``, Spain ``612 34 56 78``, China ``138 0013 8000``), each validated against its
own region only (one parse, about 25 µs, per candidate). Those of India, Spain and China
(groups that a table of numbers also has: :data:`ALONE`) are masked only when no digit group is
right before or after them, also inside a rejected run of digit groups that :mod:`._redact`
looks into again; figures of the same shapes are kept by :func:`local_shape_ok` before any
parse. Without the library, or once a text's parses (:func:`parse_budget`) are spent, the
candidate's shape alone decides (more numbers are masked, never fewer). Only candidates reach
the library, so the cost is paid only where a text has such a digit group.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

# Trunk-``0`` national formats: matched when the text has a group like "020 7946 0958".
NATIONAL: Final = (
    r"(?:\(0\d{1,4}\)[ ]?\d{2,8}(?:[ .\-/]\d{2,8}){0,4}"
    r"|0\d{1,4}(?:[ .\-/]\d{2,8}){1,5}"
    r"|0\d{8,11})(?![\w-])"
)
# Ten NANP digits without separators ("4155550132"), optionally after a country code "1".
US_PLAIN: Final = r"1?[2-9]\d\d[2-9]\d{6}(?![\w-])"

# Not after or before another digit group (a table of numbers: "65000 72000 81000"); tested
# after the first digit, so other characters are rejected by the first test. Han, kana or Hangul
# may follow ("13800138000号码").
_ALONE_BEFORE = r"(?<!\d[ -]\d)"
_ALONE_AFTER = r"(?![^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|-|[ -]\d)"
# National formats without a trunk 0: (detector name, pattern, region that validates it).
LOCAL_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    ("phone_br", r"(?:\([1-9]\d\) ?\d{4,5}[ -]?|[1-9]\d \d{4,5}-)\d{4}(?![\w-])", "BR"),
    ("phone_cn", rf"1(?<!\d[ -]\d)[3-9]\d(?:[ -]?\d{{4}}){{2}}{_ALONE_AFTER}", "CN"),
    ("phone_in", rf"[6-9]{_ALONE_BEFORE}\d{{4}}[ -]\d{{5}}{_ALONE_AFTER}", "IN"),
    (
        "phone_es",
        rf"[6-9]{_ALONE_BEFORE}(?:\d\d(?: \d\d){{3}}|\d\d \d{{3}} \d{{3}}"
        rf"|(?<=[89])\d \d{{3}}(?: \d\d){{2}}){_ALONE_AFTER}",
        "ES",
    ),
)
LOCAL_REGIONS: Final = {name: region for name, _, region in LOCAL_RULES}
ALONE: Final = frozenset(("phone_in", "phone_es", "phone_cn"))

# Shapes that figures also have, masked only after a phone word close before them (within
# :data:`_WORD_WINDOW` characters): BR without parentheses ("Season 12 2023-2024"), IN with a
# dash ("salary 65000-72000"), CN as eleven plain digits ("15000000000", an order id) unless
# Han text is right before or after it ("手机号13800138000").
_PHONE_WORD: Final = re.compile(
    r"(?<![a-z])(?:tel|phone|mob|cel|m[oó]vil|whats ?app|call|contact)"
    r"|电话|電話|手机|手機|联系|聯絡|☎",
    re.IGNORECASE,
)
_WORD_WINDOW: Final = 32
# A figure, not a phone number: a currency or unit right after it ("612 345 678 visitors",
# "15000000000 tokens"); for IN and ES also a group that ends in 000 ("850 000 000", "65000
# 72000"), and for IN two groups that differ by less than 1000 (a range or a list: "90210 90211").
_ROUND_GROUP: Final = re.compile(r"(?<!\d)\d*000(?!\d)")
_UNIT_AFTER: Final = re.compile(
    r"\s?(?:[€$£¥₹%‰]|(?:eur|usd|gbp|inr|brl|cny|rmb|euros?|dollars?|reais|rupees?|yuan|pesos?"
    r"|tokens?|visitors?|users?|views?|people|units?|items?|bytes?|[kmg]b|times|km|kg)(?!\w)"
    r"|[元円人次个件])",
    re.IGNORECASE,
)
_CJK: Final = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def local_shape_ok(text: str, start: int, end: int, name: str) -> bool:
    """Whether the :data:`LOCAL_RULES` candidate ``text[start:end]`` may be a phone number, not a
    figure: no round group nor unit after it; the shapes that figures share after a phone word."""
    candidate = text[start:end]
    if _UNIT_AFTER.match(text, end):
        return False
    if name in ("phone_in", "phone_es") and _ROUND_GROUP.search(candidate):
        return False
    if name == "phone_in":
        first, second = int(candidate[:5]), int(candidate[6:])
        if abs(first - second) < 1000:
            return False
        needs_word = "-" in candidate
    elif name == "phone_br":
        needs_word = not candidate.startswith("(")
    elif name == "phone_cn" and candidate.isdigit():
        before, after = text[start - 1 : start], text[end : end + 1]
        needs_word = not (_CJK.match(before) or _CJK.match(after))
    else:
        needs_word = False
    return not needs_word or bool(_PHONE_WORD.search(text, max(0, start - _WORD_WINDOW), start))


# Regions whose national numbers start with a trunk 0 (or keep a leading 0), most common first.
TRUNK_REGIONS: Final = (
    "GB", "DE", "FR", "NL", "BE", "AT", "CH", "IE", "IT", "SE", "FI",
    "AU", "NZ", "IN", "JP", "ZA", "TR", "BR",
)  # fmt: skip
_NATIONAL_DIGITS: Final = range(9, 13)


@functools.lru_cache(maxsize=1)
def _library() -> Any:
    try:
        import phonenumbers
    except ImportError:  # the [redact] extra is not installed: shapes decide
        return None
    return phonenumbers


def library_available() -> bool:
    """Whether ``phonenumbers`` validates candidates (the ``[redact]`` extra is installed)."""
    return _library() is not None


def _valid_in(text: str, regions: tuple[str, ...], budget: list[int]) -> bool:
    lib = _library()
    if lib is None:
        return True
    for region in regions:
        if budget[0] <= 0:  # the text's parses are spent: the shape decides, as without the library
            return True
        budget[0] -= 1
        try:
            number = lib.parse(text, region)
        except lib.NumberParseException:
            continue
        if lib.is_valid_number(number):
            return True
    return False


def parse_budget(text: str) -> list[int]:
    """The libphonenumber parses (about 25 µs each) allowed for one text: 40 (two trunk-0
    candidates tried in all 18 regions) plus one per 1,024 characters, so a table of figures
    costs at most about 1 ms more per 8 KB. Once they are spent, the shape decides."""
    return [40 + len(text) // 1024]


def is_national_phone(candidate: str, budget: list[int]) -> bool:
    """A trunk-0 candidate with 9-12 digits that is a valid number in a listed region."""
    digits = sum(ch.isdigit() for ch in candidate)
    return digits in _NATIONAL_DIGITS and _valid_in(candidate, TRUNK_REGIONS, budget)


def is_us_plain_phone(candidate: str, budget: list[int]) -> bool:
    """Ten (or "1" + ten) NANP digits that libphonenumber accepts as a US/Canada number."""
    return _valid_in(candidate, ("US", "CA"), budget)


def is_local_phone(candidate: str, name: str, budget: list[int]) -> bool:
    """A candidate of :data:`LOCAL_RULES` ``name`` that is a valid number in that rule's region."""
    return _valid_in(candidate, (LOCAL_REGIONS[name],), budget)

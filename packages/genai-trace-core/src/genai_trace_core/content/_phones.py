"""National phone numbers for the built-in redactor: candidate patterns and their validation.

International numbers (``+44 20 7946 0958``) and the US formats with separators are matched by
``_redact`` alone. National formats are ambiguous (``020 7946 0958`` in the UK, ``030 12345678``
in Germany, ``06 12 34 56 78`` in France, ``020 123 4567`` in the Netherlands, ``4155550132`` in
the US): a candidate with a trunk ``0`` or a bare ten-digit NANP number is checked by
Google's libphonenumber (``phonenumbers``, the ``genai-trace-core[redact]`` extra) against the
regions below, and masked when it is a valid number in one of them. Numbers written without a
trunk ``0`` have one shape per region (:data:`LOCAL_RULES`: India ``98765 43210``, Brazil
``(11) 91234-5678``, Spain ``612 34 56 78``, China ``138 0013 8000``), each validated against its
own region only (one parse, about 45 µs, per candidate). Those of India, Spain and China
(groups that a table of numbers also has: :data:`ALONE`) are masked only when no digit group is
right before or after them, also inside a rejected run of digit groups that :mod:`._redact`
looks into again. Without the library the candidate's shape alone decides (more numbers are
masked, never fewer). Only candidates reach the library, so the cost is paid only where a text
has such a digit group.
"""

from __future__ import annotations

import functools
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
# after the first digit, so other characters are rejected by the first test.
_ALONE_BEFORE = r"(?<!\d[ -]\d)"
_ALONE_AFTER = r"(?![\w-]|[ -]\d)"
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


def _valid_in(text: str, regions: tuple[str, ...]) -> bool:
    lib = _library()
    if lib is None:
        return True
    for region in regions:
        try:
            number = lib.parse(text, region)
        except lib.NumberParseException:
            continue
        if lib.is_valid_number(number):
            return True
    return False


def is_national_phone(candidate: str) -> bool:
    """A trunk-0 candidate with 9-12 digits that is a valid number in a listed region."""
    digits = sum(ch.isdigit() for ch in candidate)
    return digits in _NATIONAL_DIGITS and _valid_in(candidate, TRUNK_REGIONS)


def is_us_plain_phone(candidate: str) -> bool:
    """Ten (or "1" + ten) NANP digits that libphonenumber accepts as a US/Canada number."""
    return _valid_in(candidate, ("US", "CA"))


def is_local_phone(candidate: str, name: str) -> bool:
    """A candidate of :data:`LOCAL_RULES` ``name`` that is a valid number in that rule's region."""
    return _valid_in(candidate, (LOCAL_REGIONS[name],))

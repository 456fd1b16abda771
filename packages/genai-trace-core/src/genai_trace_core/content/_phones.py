"""National phone numbers for the built-in redactor: candidate patterns and their validation.

International numbers (``+44 20 7946 0958``) and the US formats with separators are matched by
``_redact`` alone. National formats are ambiguous (``020 7946 0958`` in the UK, ``030 12345678``
in Germany, ``06 12 34 56 78`` in France, ``020 123 4567`` in the Netherlands, ``4155550132`` in
the US): a candidate with a trunk ``0`` or a bare ten-digit NANP number is checked by
Google's libphonenumber (``phonenumbers``, the ``genai-trace-core[redact]`` extra) against the
regions below, and masked when it is a valid number in one of them. Without the library the
candidate's shape alone decides (more numbers are masked, never fewer). Only candidates reach the
library, so the cost is paid only where a text has such a digit group.
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

"""What the built-in redactor validates candidates with: payment cards (issuer prefix and Luhn),
IBANs (ISO 7064 mod 97) and IP addresses (``ipaddress``)."""

from __future__ import annotations

import ipaddress
from typing import Final

_CARD_PREFIXES: Final = (
    "4", "34", "37", "36", "38", "30", "35", "51", "52", "53", "54", "55",
    "22", "23", "24", "25", "26", "27", "6011", "62", "64", "65",
)  # fmt: skip


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card(candidate: str) -> bool:
    """Whether ``candidate`` (digits, spaces, dashes) is a payment card number."""
    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and digits.startswith(_CARD_PREFIXES) and _luhn_ok(digits)


def iban_ok(compact: str) -> bool:
    """Whether ``compact`` (an IBAN without spaces) passes the mod-97 check."""
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def is_ipv6(candidate: str) -> bool:
    if candidate.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = candidate.split(":")
    # Plain compressed pairs such as "a::b" are more often code (slices) than addresses.
    return (
        len(groups) == 8
        or candidate.startswith("::")
        or "." in candidate
        or any(len(g) >= 3 for g in groups)
    )


def ipv4_ok(candidate: str) -> bool:
    return all(
        int(octet) <= 255 and (octet == "0" or octet[0] != "0") for octet in candidate.split(".")
    )

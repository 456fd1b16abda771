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
    """Whether ``candidate`` (digits, spaces, dashes or dots) is a payment card number."""
    digits = candidate.replace(" ", "").replace("-", "").replace(".", "")
    return 13 <= len(digits) <= 19 and digits.startswith(_CARD_PREFIXES) and _luhn_ok(digits)


# IBAN lengths by country: a candidate not written in capitals ("de89 3704 …", or a lowercase
# identifier such as an MD5 hash) must also have its country's length.
_LENGTHS: Final = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 "
    "EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 "
    "IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 "
    "NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 "
    "TR26 UA29 VA22 VG24 XK20"
)
_IBAN_LENGTHS: Final = {entry[:2]: int(entry[2:]) for entry in _LENGTHS.split()}


def iban_ok(compact: str) -> bool:
    """Whether ``compact`` (an IBAN without spaces, in any case) passes the mod-97 check."""
    if not 15 <= len(compact) <= 34:
        return False
    if not compact.isupper() and _IBAN_LENGTHS.get(compact[:2].upper()) != len(compact):
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

"""The redaction corpus: values the built-in redaction must mask (by kind), and look-alikes it
must leave alone. Every card number passes Luhn, every IBAN passes mod 97."""

from __future__ import annotations

POSITIVE: dict[str, list[str]] = {
    "email": ["jane.doe@example.com", "ops-team+alerts@sub.example.org"],
    "phone": [
        "+1 415 555 0132",
        "(415) 555-0199",
        "+44 20 7946 0958",
        "415-555-0123",
        # national formats: UK, FR, DE, NL, US without separators
        "020 7946 0958",
        "06 12 34 56 78",
        "030 12345678",
        "020 123 4567",
        "4155550132",
    ],
    "card": [
        "4111 1111 1111 1111",
        "5555555555554444",
        "378282246310005",
        "6011-1111-1111-1117",
    ],
    "iban": [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
    ],
    "ip": ["192.168.10.25", "8.8.8.8", "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a"],
    "key": [
        "sk-proj-Abcdefghijklmnopqrstuvwxyz012345",
        "sk-ant-api03-abcdefghijklmnopqrstuvwx",
        "AKIAIOSFODNN7EXAMPLE",
        "AIzaSyA1234567890abcdefghijklmnopqrstu",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-1234567890-abcdefghij",
        "hf_abcdefghijklmnopqrstuvwxyz012345",
        "sk_live_abcdefghijklmnop1234",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
}
NEGATIVE: list[str] = [
    "2024-03-15",
    "15/03/2024",
    "v2.11.0",
    "3.12.1",
    "ORD-2024-000123",
    "INV-884213",
    "order 12345678",
]


def corpus_text(prefix: str) -> str:
    """Every positive and negative value in one text, separated so that no two touch."""
    values = [v for vs in POSITIVE.values() for v in vs] + NEGATIVE
    return prefix + " | " + " | ".join(values) + " | end"


def all_positive() -> list[str]:
    return [v for vs in POSITIVE.values() for v in vs]

"""Built-in redaction: every detector masks its corpus, and look-alikes are left alone."""

from __future__ import annotations

import time

import pytest

from genai_trace_core import Settings
from genai_trace_core.content import builtin_redact, redact

# internal: the failure marker and the secrets-only pass are not public names
from genai_trace_core.content._redact import REDACTION_FAILED, redact_secret_text

# Key-shaped fixtures are assembled at run time so no scanner mistakes this file for a leak.
_A40 = "Ab3dEf6hIj" * 4
_OPENAI = "sk-" + _A40
_OPENAI_PROJ = "sk-proj-" + _A40 + "_-x9"
_ANTHROPIC = "sk-ant-api03-" + _A40 + "-AA"
_GOOGLE = "AIza" + "Sy" + "B1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q6R"
_AWS = "AKIA" + "IOSFODNN7EXAMPLE"
_GITHUB = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
_GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "a1B2c3D4e5" * 6
_SLACK = "xoxb-" + "1234567890-0987654321-" + "AbCdEfGhIjKlMnOp"
_HF = "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
_GROQ = "gsk_" + _A40
_STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
_XAI = "xai-" + _A40
_GITLAB = "glpat-" + "xYz12AbCd34EfGh56IjK"
_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
_PEM = (
    "-----BEGIN "
    + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\nabc+/=\n-----END RSA PRIVATE KEY-----"
)

POSITIVE: list[tuple[str, str]] = [
    # emails
    ("jane@example.com", "email"),
    ("first.last+tag@sub.example.co.uk", "email"),
    ("o'brien_99@mail-server.example.org", "email"),
    ('"john doe"@example.com', "email"),
    ('\\"john doe\\"@example.com', "email"),  # its quotes JSON-escaped
    # phones: international and US formats
    ("+1 415 555 2671", "phone"),
    ("+1-800-555-0199", "phone"),
    ("+44 20 7946 0958", "phone"),
    ("+49 30 901820", "phone"),
    ("+33 1 42 68 53 00", "phone"),
    ("+91 98765 43210", "phone"),
    ("+81 (3) 1234-5678", "phone"),
    ("(415) 555-2671", "phone"),
    ("415-555-2671", "phone"),
    ("415.555.2671", "phone"),
    ("415 555 2671", "phone"),
    ("1-800-555-0199", "phone"),
    # payment cards (Luhn-valid test numbers), with spaces and dashes
    ("4111 1111 1111 1111", "card"),
    ("4111111111111111", "card"),
    ("5555-5555-5555-4444", "card"),
    ("2223 0031 2200 3222", "card"),
    ("378282246310005", "card"),
    ("3782 822463 10005", "card"),
    ("4111.1111.1111.1111", "card"),
    ("3782.822463.10005", "card"),
    ("6011111111111117", "card"),
    ("3530111333300000", "card"),
    ("30569309025904", "card"),
    # IBANs (checksum-valid)
    ("DE89 3704 0044 0532 0130 00", "iban"),
    ("DE89370400440532013000", "iban"),
    ("GB82 WEST 1234 5698 7654 32", "iban"),
    ("GB82WEST12345698765432", "iban"),
    ("FR14 2004 1010 0505 0001 3M02 606", "iban"),
    ("NL91ABNA0417164300", "iban"),
    ("de89 3704 0044 0532 0130 00", "iban"),
    ("de89370400440532013000", "iban"),
    ("gb82 west 1234 5698 7654 32", "iban"),
    # IP addresses
    ("192.168.0.1", "ip"),
    ("10.0.0.255", "ip"),
    ("8.8.8.8", "ip"),
    ("2001:db8::8a2e:370:7334", "ip"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ip"),
    ("fe80::1ff:fe23:4567:890a", "ip"),
    ("::1", "ip"),
    ("::ffff:192.0.2.128", "ip"),
    # provider keys and tokens
    (_OPENAI, "openai_key"),
    (_OPENAI_PROJ, "openai_key"),
    (_ANTHROPIC, "anthropic_key"),
    (_GOOGLE, "google_key"),
    (_AWS, "aws_key"),
    (_GITHUB, "github_token"),
    (_GITHUB_PAT, "github_token"),
    (_SLACK, "slack_token"),
    (_HF, "hf_token"),
    (_GROQ, "groq_key"),
    (_STRIPE, "stripe_key"),
    (_XAI, "xai_key"),
    (_GITLAB, "gitlab_token"),
    (_JWT, "jwt"),
    (_PEM, "private_key"),
]


@pytest.mark.parametrize(("secret", "label"), POSITIVE, ids=[p[0][:24] for p in POSITIVE])
def test_builtin_redact_masks_each_corpus_entry_completely(secret: str, label: str) -> None:
    text = f"see {secret} here"
    assert builtin_redact(text) == f"see [REDACTED:{label}] here"


@pytest.mark.parametrize(("secret", "label"), POSITIVE, ids=[p[0][:24] for p in POSITIVE])
def test_builtin_redact_masks_entries_at_text_edges_and_in_punctuation(
    secret: str, label: str
) -> None:
    assert builtin_redact(secret) == f"[REDACTED:{label}]"
    assert builtin_redact(f"({secret}), ok") == f"([REDACTED:{label}]), ok"


def test_bearer_token_keeps_the_scheme_and_masks_the_credential() -> None:
    assert builtin_redact("Authorization: Bearer abc.DEF-ghi_123456") == (
        "Authorization: Bearer [REDACTED:bearer_token]"
    )


def test_url_credentials_mask_the_user_info_only() -> None:
    assert builtin_redact("postgres://admin:hunter2@db.internal:5432/app") == (
        "postgres://[REDACTED:password]@db.internal:5432/app"
    )


NEGATIVE = [
    "v1.2.3",
    "version 3.11.4 and 2.0.0-rc.1",
    "Python 3.12 on 10.0.19041",
    "2024-01-15",
    "2024-01-15T10:30:00Z",
    "at 12:30:45 on 15/01/2024",
    "ORD-20240115-0042",
    "order #12345678",
    "INV-2024-000123",
    "invoice 1234567890123",  # 13 digits, no card issuer prefix
    "4111 1111 1111 1112",  # Luhn fails
    "DE89 3704 0044 0532 0130 01",  # IBAN checksum fails
    "id de81370400440532013000ab4f5e6d",  # mod 97 passes, not DE's length
    "pi 4.111111111111111 and 4111.1111",  # a decimal number, a version
    "ISBN 978-3-16-148410-0",
    "price $1,234.56 or 1.5e10",
    "items[a::b] and localhost:8080",
    "MAC 00:1A:2B:3C:4D:5E",
    "999.999.999.999",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "sha 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "pip install scikit-learn; ask-me-anything; risk-free",
    "score +15 points, 10-15 minutes, 2023-2024",
    "Bearer",
    "the AKIA prefix",
    # JSON keys that start with "@" (OData): the text between two strings is no quoted email
    '{"displayName": "Jane", "@odata.type": "#microsoft.graph.user"}',
    '{\\"displayName\\": \\"Jane\\", \\"@odata.type\\": \\"#microsoft.graph.user\\"}',
    '{"value":[{"@odata.etag":"W/1","id":"a"}]}',
    '{"name": "report.pdf", "@microsoft.graph.downloadUrl": "https://x"}',
    '" john"@example.com and "jane "@example.com',
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_builtin_redact_leaves_look_alikes_untouched(text: str) -> None:
    assert builtin_redact(text) == text


def test_secret_only_pass_masks_keys_but_keeps_personal_data() -> None:
    text = f"key={_OPENAI} mail=jane@example.com ip=10.0.0.1"
    assert redact_secret_text(text) == "key=[REDACTED:openai_key] mail=jane@example.com ip=10.0.0.1"


def test_redact_applies_builtin_then_user_hook() -> None:
    seen: list[str] = []

    def hook(text: str) -> str:
        seen.append(text)
        return text.replace("Alice", "[NAME]")

    settings = Settings(redact_builtin=True, redactor=hook)
    assert redact("Alice <alice@example.com>", settings) == "[NAME] <[REDACTED:email]>"
    assert seen == ["Alice <[REDACTED:email]>"]


def test_redact_without_switches_returns_text_unchanged() -> None:
    text = "jane@example.com " + _OPENAI
    assert redact(text, Settings()) == text


def test_raising_hook_drops_the_content_instead_of_leaking_or_raising() -> None:
    def hook(text: str) -> str:
        raise RuntimeError("boom")

    assert redact("secret stuff", Settings(redactor=hook)) == REDACTION_FAILED


def test_hook_returning_a_non_string_drops_the_content() -> None:
    def hook(text: str) -> str:
        return None  # type: ignore[return-value]

    assert redact("secret stuff", Settings(redactor=hook)) == REDACTION_FAILED


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "1" * 100_000,
        ("12:" * 40_000)[:100_000],
        ("a." * 50_000),
        ("x@" * 50_000),
        ("4111 " * 20_000),
    ],
    ids=["letters", "digits", "colons", "dots", "ats", "card-groups"],
)
def test_pathological_100kb_inputs_are_scanned_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    out = builtin_redact(text)
    elapsed = time.perf_counter() - started
    assert isinstance(out, str)
    assert elapsed < 2.0, f"{elapsed:.2f}s: super-linear backtracking"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+44 20 7946 0958 4111 1111 1111 1111", "[REDACTED:phone] [REDACTED:card]"),
        ("tel 415-555-2671 4111 1111 1111 1111", "tel [REDACTED:phone] [REDACTED:card]"),
        ("020 7946 0958 5555555555554444", "[REDACTED:phone] [REDACTED:card]"),
        ("paid 2024 4111 1111 1111 1111 ok", "paid 2024 [REDACTED:card] ok"),
        ("order 12345 4111 1111 1111 1111", "order 12345 [REDACTED:card]"),
        ("4111 1111 1111 1111 12 units", "[REDACTED:card] 12 units"),
        ("ab12 4111 1111 1111 1111", "ab12 [REDACTED:card]"),
    ],
)
def test_a_value_right_after_another_number_is_still_masked(text: str, expected: str) -> None:
    # The first candidate spans both numbers and fails its check (too many digits for a phone,
    # no Luhn for a card): the values inside it are looked for again.
    assert builtin_redact(text) == expected


def test_a_long_table_of_numbers_is_looked_into_a_bounded_number_of_times() -> None:
    # Every group of "1 2 3 ..." starts a rejected candidate: looking into each would cost ~30 ms
    # per 8 KB; at most 8 + one per 256 characters are.
    table = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 " * 2_000
    started = time.perf_counter()
    out = builtin_redact(table + "on 2024 4111 1111 1111 1111")
    assert time.perf_counter() - started < 1.0
    assert out.startswith("1 ") and out.count("[REDACTED:card]") <= 8 + len(table) // 256
    assert builtin_redact("on 2024 4111 1111 1111 1111") == "on 2024 [REDACTED:card]"


def test_a_text_of_phone_shaped_figures_costs_a_bounded_number_of_parses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 8 KB of Spanish-shaped figures, one per line: each was one libphonenumber parse (~25 µs).
    phonenumbers = pytest.importorskip("phonenumbers")
    parses = []
    real_parse = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *a: parses.append(a) or real_parse(*a))
    text = "".join(f"6{i % 90 + 10} 345 678\n" for i in range(680))
    out = builtin_redact(text)
    assert 0 < len(parses) <= 40 + len(text) // 1024
    assert out == "[REDACTED:phone]\n" * 680  # once they are spent, the shape decides

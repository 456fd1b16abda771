"""URL passwords as people write them: an empty user name (Redis: ``redis://:pw@host``), a
password holding ``@``; each masked whole by every credential pass, while a port followed by a
path, a placeholder host and port (``http://<host>:<port>/users/bob@example.com``), several URLs
and emails in one JSON line, and URLs without a password stay as written (a ``/``, ``?`` or ``#``
ends the authority, as URL parsers read it). The expression stays linear on hostile input."""

from __future__ import annotations

import time

import pytest

from genai_trace_core.content import builtin_redact, scrub_secret_text

# internal: the three passes that share the URL-password detector
from genai_trace_core.content._redact import redact_secret_text
from genai_trace_core.content._secret_scan import scrub_content_secrets

PASSES = {
    "redact_secret_text": redact_secret_text,
    "scrub_content_secrets": scrub_content_secrets,
    "scrub_secret_text": scrub_secret_text,
    "builtin_redact": builtin_redact,
}
MASKED = [  # (text, the same with its password masked)
    ("redis://:SrcRedisPw55@localhost:6379/0", "redis://[REDACTED:password]@localhost:6379/0"),
    ("postgres://admin:hunter2@2024rest@db/app", "postgres://[REDACTED:password]@db/app"),
    ("https://u:p@ss:w0rd@host:443/x", "https://[REDACTED:password]@host:443/x"),
    ("postgres:\\/\\/admin:pw@2024x@db", "postgres:\\/\\/[REDACTED:password]@db"),
    ("redis://u:it's@h", "redis://[REDACTED:password]@h"),
    ('{"a":"redis://u:p@h","b":"c@d"}', '{"a":"redis://[REDACTED:password]@h","b":"c@d"}'),
    ("{'a': 'redis://:p@h', 'b': 'c@d'}", "{'a': 'redis://[REDACTED:password]@h', 'b': 'c@d'}"),
    ("http://user:pw@host/path/x@y", "http://[REDACTED:password]@host/path/x@y"),
    ("redis%3A%2F%2F%3ASrcRedisPw55%40cache", "redis://[REDACTED:password]@cache"),
]


@pytest.mark.parametrize("scrub", PASSES.values(), ids=PASSES.keys())
@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_every_pass_masks_the_whole_password(scrub: object, text: str, expected: str) -> None:
    assert callable(scrub)
    assert scrub(f"use {text} now") == f"use {expected} now"


KEPT = [
    "http://localhost:8000/users/john@example.com",
    "http://:8000/users/john@example.com",
    "http:\\/\\/localhost:8000\\/users\\/john@example.com",
    "https://example.com:443/path/to/user@example.org?next=a@b.org#c@d.org",
    '{"a":"http://localhost:8000","b":"jane@example.com"}',
    '{"url":"http://a","b":"c@d.com"}',
    "https://example.com/a:b@c and ftp://user@host/x",
    "ssh://git@github.com:org/repo@v1",
    "docker://registry:5000/img@sha256:abc",
    "file:///C:/Users/john@example.com",
    "http%3A%2F%2Flocalhost%3A8000%2Fusers%2Fjohn%40example.com",
    # placeholders for a host and a port, then a path with an "@" (masked until 2026-12-07)
    "GET http://<host>:<port>/api/users/bob@example.com",
    "http://localhost:PORT/users/me@example.com",
    "curl https://$HOST:$PORT/v1/accounts/jane@corp.com",
    "http://{host}:{port}/users/{user}@{domain}",
    "https://host:123456/a/b@c",
    "ws://host:8080x/path/u@x",
    "http:\\/\\/{host}:{port}\\/users\\/{user}@{domain}",
]


@pytest.mark.parametrize("text", KEPT)
def test_urls_without_a_password_are_left_as_written(text: str) -> None:
    for scrub in (redact_secret_text, scrub_content_secrets, scrub_secret_text):
        assert scrub(text) == text
    # with redaction on an email may be masked, never a password
    assert "[REDACTED:password]" not in builtin_redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "/" * 100_000,
        ("//:" * 40_000)[:100_000],
        "//" + "a:" * 50_000,
        "//a:" + "b/" * 50_000,
        "//a:" + "b?#" * 33_000,
        "//a:" + "b@" * 50_000,
        ("//a:b@c/" * 12_500),
        ("//" + "u" * 128 + ":" + ("p" * 255 + "/") * 9) * 40,
        ("//" + "u" * 128 + ":" + ("p" * 255 + "@") * 9 + " ") * 40,
        ("\\/\\/a:b\\/" * 12_500),
        ("//a:12345/" * 10_000),
    ],
    ids=[
        "slashes", "empty-users", "colons", "slashed", "query-marks", "ats", "urls",
        "long-segments", "long-at-segments", "escaped", "ports",
    ],
)  # fmt: skip
def test_hostile_url_shaped_inputs_are_scanned_in_linear_time(text: str) -> None:
    for scrub in (redact_secret_text, scrub_content_secrets, builtin_redact):
        started = time.perf_counter()
        assert isinstance(scrub(text), str)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"{scrub.__name__}: {elapsed:.2f}s: super-linear backtracking"

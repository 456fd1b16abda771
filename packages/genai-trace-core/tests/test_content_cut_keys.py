"""A key cut short at an ellipsis (pydantic's ``input_value='…'``, ``reprlib``, a log line that
shows a key's start) leaves no fragment: the head with its prefix, the tail after a key's marker
or head, and a random-looking tail whose prefix was cut out are masked by every credential pass,
in exception messages and traces; prose keeps its ellipses."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from genai_trace_core import Settings
from genai_trace_core._settings import CaptureMode
from genai_trace_core.content import builtin_redact, describe_exception, scrub_secret_text

# internal: the passes that mask credentials in content
from genai_trace_core.content._redact import redact_secret_text
from genai_trace_core.content._secret_scan import scrub_content_secrets

# Key-shaped fixtures are assembled at run time so no scanner mistakes this file for a leak.
GITHUB = "ghp_" + "R4nd0mT0k3nV4lu3Abcdefghijklmnop1234"
OPENAI = "sk-proj-" + "Q7vLx2Nf8RkTw3YbHc9ZpJm4GdS6AeUo1iKqXnVtWyBr0FhLjMsPcDgEaIuOz"
PASSES = {
    "redact_secret_text": redact_secret_text,
    "scrub_content_secrets": scrub_content_secrets,
    "scrub_secret_text": scrub_secret_text,
    "builtin_redact": builtin_redact,
}
CUT = [  # (text, the same with every piece of the key masked)
    (f"'token {GITHUB[:18]}...{GITHUB[-16:]} thanks'", "'token [REDACTED:github_token]... thanks'"),
    (f"'{OPENAI[:24]}...{OPENAI[-23:]}'", "'[REDACTED:openai_key]...'"),
    (f"'[REDACTED:openai_key]...{OPENAI[-23:]}'", "'[REDACTED:openai_key]...'"),
    (f"'a long note: ...{GITHUB[-23:]}'", "'a long note: ...[REDACTED:key_fragment]'"),
    (f"key {OPENAI[:14]}… set", "key [REDACTED:openai_key]… set"),
    (f"TOKEN_{GITHUB[:10]}...x", "TOKEN_[REDACTED:github_token]..."),
    ("AKIA" + "IOSF...ODNN7EXAMPLE", "[REDACTED:aws_key]..."),
    ("eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIi...Kxwrjsig5c", "[REDACTED:jwt]..."),
    ("eyJhbGciOiJIUzI1NiJ9" + "...Kxwrjsig5c", "[REDACTED:jwt]..."),
]  # fmt: skip


@pytest.mark.parametrize("scrub", PASSES.values(), ids=PASSES.keys())
@pytest.mark.parametrize(("text", "expected"), CUT)
def test_every_pass_masks_both_halves_of_a_cut_key(scrub: object, text: str, expected: str) -> None:
    assert callable(scrub)
    assert scrub(text) == expected
    assert scrub(expected) == expected  # a second pass changes nothing


PROSE = [
    "wait...what? v1...v2, 2024...2025 and so on...",
    "git diff 9fceb02...e4f5a6b; Loading... done… then…",
    "sk-learn... and hf_hub... and the task-abc...def",
    "Step2Done... iPhone15Pro... ...lowercase12345 ...UPPER12345",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_keeps_its_ellipses(text: str) -> None:
    for scrub in PASSES.values():
        assert scrub(text) == text


def test_with_redaction_on_an_email_cut_after_its_at_sign_is_masked() -> None:
    text = "input_value='mail jane.doe.private@ex...'"
    assert builtin_redact(text) == "input_value='mail [REDACTED:email]...'"
    assert redact_secret_text(text) == text  # personal data: only with redaction on


class _Args(BaseModel):
    count: int


@pytest.mark.parametrize("redact", [False, True], ids=["redaction-off", "redaction-on"])
def test_a_validation_error_quoting_a_key_exports_no_fragment(redact: bool) -> None:
    try:
        _Args.model_validate({"count": f"token {GITHUB} thanks"})
    except ValueError as error:
        described = describe_exception(
            error, Settings(capture_mode=CaptureMode.SPAN_ONLY, redact_builtin=redact)
        )
    assert "input_value='token [REDACTED:github_token]... thanks'" in described.message
    for text in (described.message, described.stacktrace, described.description):
        assert GITHUB[4:10] not in text and GITHUB[-6:] not in text, text


def test_many_ellipses_cost_linear_time() -> None:
    texts = [
        "...." * 25_000,
        ("a" * 300 + "...") * 300,
        ("sk-" * 100 + "...") * 300,
        ("x@" * 150 + "...") * 300,
        ("Ab1" * 100 + "...") * 300,
        "…" * 100_000,
    ]
    for text in texts:
        for scrub in PASSES.values():
            started = time.perf_counter()
            assert isinstance(scrub(text), str)
            assert time.perf_counter() - started < 1.0, (scrub.__name__, text[:20])

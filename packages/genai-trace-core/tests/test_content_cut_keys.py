"""A key cut short at an ellipsis (pydantic's ``input_value='…'``, ``reprlib``, a log line that
shows a key's start) leaves no fragment: the head with its prefix, the tail after a key's marker
or head, and a random-looking tail whose prefix was cut out are masked by every credential pass,
in exception messages and traces, also JSON-escaped (``\\n`` before, ``\\u2026``), percent-encoded,
bracketed (``[...]``) or spaced; prose and names made of words (``...Llama-2-7b-chat-hf``,
``{...s3Config}``, ``hf_hub...download``) keep their ellipses."""

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
GITHUB = "ghp_" + "R4nd0mT0k3nV4lu3Xq7ZpL2wKc9TfB1sMh8J"  # random, as a real one
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
    # JSON-escaped: after "\n", the ellipsis written "\u2026" (ASCII JSON), also escaped twice
    (f'{{"log": "pasted\\n{GITHUB[:18]}..."}}', '{"log": "pasted\\n[REDACTED:github_token]..."}'),
    (f'{{"log": "key: {OPENAI[:16]}\\u2026"}}', '{"log": "key: [REDACTED:openai_key]\\u2026"}'),
    (f'"key: {OPENAI[:16]}\\\\u2026"', '"key: [REDACTED:openai_key]\\\\u2026"'),
    # percent-encoded: a head after "%3D", the ellipsis written "%E2%80%A6"
    (f"?q=key%3D{GITHUB[:18]}...{GITHUB[-16:]}", "?q=key=[REDACTED:github_token]..."),
    (f"token%20{GITHUB[:18]}%E2%80%A6{GITHUB[-16:]}", "token%20[REDACTED:github_token]%E2%80%A6"),
    # textwrap.shorten's "[...]", a spaced ellipsis
    (f"token={GITHUB[:18]}[...]{GITHUB[-16:]}", "token=[REDACTED:github_token][...]"),
    (f"token {OPENAI[:16]} ... {OPENAI[-16:]} thanks", "token [REDACTED:openai_key] ... thanks"),
    (f"token {GITHUB[:18]} ... thanks", "token [REDACTED:github_token] ... thanks"),
    (f"token {OPENAI[:16]} ... efghijklmnop1234", "token [REDACTED:openai_key] ..."),
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
    # names made of words after an ellipsis, a key prefix before words (masked until 2026-12-07)
    "Loading model...Llama-2-7b-chat-hf",
    "const cfg = {...s3Config, Bucket: name}; fetch(url, {...oauth2Options})",
    "from ...v2Models import User",
    "Models: GPT-4o, Mistral-7B-v0.1, …Qwen2-7B-Instruct",
    "Step 1...Step2Final",
    "ModelInfo(name='GPT4Turbo...v2024Preview')",
    "load...Qwen2-7B-Instruct and Meta-Llama-3-8B...Phi-3-mini-4k-instruct",
    "pip install hf_hub...download; npm_config...Foo; xai-Grok... sk-learn ... Then",
    "see [...] and wait ... what \\u2026 done",
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

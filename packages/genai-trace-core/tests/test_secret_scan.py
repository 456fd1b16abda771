"""The fast credential scan of captured content masks exactly what the full expression masks.

``scrub_content_secrets`` only gives the expression the long runs of token characters (and the
whole text when a bearer, private-key or URL-password literal is there); these tests hold it to
the full scan's result on texts built from every credential format, cut formats, near misses,
separators, URLs and non-ASCII words, and to the capture path that uses it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_trace_core import Settings

# internal: the scan and the full expressions are compared directly
from genai_trace_core.content._redact import redact_secret_text
from genai_trace_core.content._secret_scan import scrub_content_secrets
from genai_trace_core.content._secrets import mask_secret_params
from genai_trace_core.content._truncate import clip_text

B64 = "Zx9Yw8Vu7T_a-b" * 4
PIECES = [
    "sk-proj-" + B64, "sk-ant-" + B64, "sk-" + B64[:19], "sk_live_" + "A1" * 9, "AIza" + B64,
    "ya29." + B64, "AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOPQ", "ghp_" + "a1" * 16,
    "github_pat_" + "x" * 22, "glpat-" + B64, "xoxb-1234567890", "xoxb-123456789",
    "hf_" + "a" * 30,
    "gsk_" + "b" * 20, "xai-" + "c" * 20, "pplx-" + "d" * 20, "r8_" + "e" * 20,
    "lsv2_pt_" + "f" * 20,
    "npm_" + "g" * 30, "eyJhbGciOi.eyJzdWIi", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    "Bearer abcdefgh1234", "bearer x", "-----BEGIN RSA PRIVATE KEY-----", "MIIabc",
    "-----END RSA PRIVATE KEY-----", "https://u:pw@host/x", "//u:p@", "a@b.com", "?api_key=abc",
    "&token=t0k", ";sig=s1g", "#access_token=tok", "?page=2", "=", "&", "internationalization",
    "state-of-the-art", "docs.example.com", "the", "Paris", "42", "é", "日本語", "naïve",
    "...", "…", "ghp_R4nd0m", "lu3Abcdefgh1234", "[REDACTED:openai_key]", "redis://:pw@h",
]  # fmt: skip
SEPARATORS = [" ", "\n", ".", "-", "_", ":", "/", "", ", ", "\t"]
SEPARATORS += ["\\n", "\\x00", "\\u00eA", "é", "は"]  # escapes, non-ASCII text


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
    return "".join(draw(st.sampled_from(SEPARATORS)) + part for part in parts)


@settings(max_examples=400, deadline=None)
@given(texts())
def test_scan_masks_what_the_full_expression_masks(text: str) -> None:
    assert scrub_content_secrets(text) == mask_secret_params(redact_secret_text(text))


@settings(max_examples=200, deadline=None)
@given(texts())
def test_with_builtin_redaction_only_query_parameters_are_left_to_it(text: str) -> None:
    assert scrub_content_secrets(text, keys_masked=True) == mask_secret_params(text)


@pytest.mark.parametrize(
    "before",
    ["x\\n", "\\t", "TOKEN_", "key1", "é", "鍵は", "b'\\x00", "\\u00eA", '{"k": "', "_"],
)
def test_a_key_glued_to_an_escape_a_digit_or_non_ascii_text_is_masked(before: str) -> None:
    key = "sk-proj-" + B64
    expected = before + "[REDACTED:openai_key]"
    assert scrub_content_secrets(before + key) == expected
    assert redact_secret_text(before + key) == expected


@pytest.mark.parametrize("text", ["task-" + "a" * 25, "mask-" + "b" * 30, "desk_live_" + "c" * 20])
def test_a_key_prefix_inside_an_ascii_word_is_prose(text: str) -> None:
    assert scrub_content_secrets(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain prose, nothing to mask.", "plain prose, nothing to mask."),
        (f"key {'sk-proj-' + B64} ok", "key [REDACTED:openai_key] ok"),
        ("see https://x.io/a?api_key=abc&page=2", "see https://x.io/a?api_key=[REDACTED]&page=2"),
        ("postgres://bob:hunter2@db/x", "postgres://[REDACTED:password]@db/x"),
        ("Authorization: Bearer abcdefgh1234", "Authorization: Bearer [REDACTED:bearer_token]"),
    ],
)
def test_captured_content_is_scrubbed_with_redaction_off(text: str, expected: str) -> None:
    out, cut = clip_text(text, 8192, Settings(redact_builtin=False))
    assert (out, cut) == (expected, False)


def test_identifiers_are_not_scanned() -> None:
    name = "sk-proj-" + B64  # a tool named like a key is a name, not content
    assert clip_text(name, 8192, Settings(), redacted=False) == (name, False)

"""A URL's password is masked however its slashes are written: plain (``postgres://``),
JSON-escaped as PHP and some JSON encoders write them (``postgres:\\/\\/``), escaped twice (JSON
inside a JSON string: ``postgres:\\\\/\\\\/``) or percent-encoded (``%2F%2F``), in every capture
mode, redaction on and off. Until this was fixed the escaped forms were exported whole from a
document, a non-JSON tool result and an exception message.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from genai_trace_core import Settings
from genai_trace_core._settings import CaptureMode
from genai_trace_core.content import (
    ContentBudget,
    builtin_redact,
    describe_exception,
    scrub_secret_text,
    serialize_documents,
    serialize_messages,
    serialize_value,
)
from genai_trace_core.content._redact import mask_secret_formats, redact_secret_text
from genai_trace_core.content._secret_scan import scrub_content_secrets
from genai_trace_core.records import Document, Message, TextPart

PASSWORD = "S3cret" + "Pw"
PLAIN = f"postgres://admin:{PASSWORD}@db.internal:5432/app"
FORMS = {
    "plain": PLAIN,
    "json-escaped": PLAIN.replace("/", "\\/"),
    "double-escaped": PLAIN.replace("/", "\\\\/"),
    "percent-encoded": quote(PLAIN, safe=""),
    "percent-encoded-lower": quote(PLAIN, safe="").lower().replace("s3cretpw", PASSWORD),
    "percent-encoded-json-escaped": quote(PLAIN.replace("/", "\\/"), safe=""),
}
SCRUBBERS = {
    "scrub_content_secrets": scrub_content_secrets,
    "scrub_secret_text": scrub_secret_text,
    "redact_secret_text": redact_secret_text,
    "builtin_redact": builtin_redact,
}
MODES = [CaptureMode.SPAN_ONLY, CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT]


def _text(url: str) -> str:
    return f"Connect with {url} then run the migration."


@pytest.mark.parametrize("scrub", SCRUBBERS.values(), ids=SCRUBBERS.keys())
@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
def test_every_scrubber_masks_the_password_in_every_form(scrub: object, url: str) -> None:
    assert callable(scrub)
    out = scrub(_text(url))
    assert PASSWORD not in out and PASSWORD.lower() not in out
    assert "db.internal" in out  # only the user-info is masked: the host stays readable


@pytest.mark.parametrize(
    ("escape", "marker"),
    [("/", "//"), ("\\/", "\\/\\/"), ("\\\\/", "\\\\/\\\\/")],
    ids=["plain", "json-escaped", "double-escaped"],
)
def test_an_escaped_url_is_masked_exactly_like_the_plain_one(escape: str, marker: str) -> None:
    texts = [
        _text(PLAIN),
        "mysql://root:hunter22@10.0.0.1/db and redis://:p4ss@cache:6379/0",
        "see https://example.com/a:b@c and ftp://user@host/x (no password there)",
    ]
    for text in texts:
        escaped = text.replace("/", escape)
        assert mask_secret_formats(escaped) == mask_secret_formats(text).replace("/", escape)
        assert scrub_content_secrets(escaped) == scrub_content_secrets(text).replace("/", escape)
    assert scrub_secret_text(_text(FORMS["json-escaped"])) == (
        "Connect with postgres:\\/\\/[REDACTED:password]@db.internal:5432\\/app then run the "
        "migration."
    )
    assert f"postgres:{marker}[REDACTED:password]@db" in scrub_content_secrets(
        _text(PLAIN.replace("/", escape))
    )


def _settings(mode: CaptureMode, redact: bool) -> Settings:
    return Settings(capture_mode=mode, redact_builtin=redact)


@pytest.mark.parametrize("redact", [False, True], ids=["redaction-off", "redaction-on"])
@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
@pytest.mark.parametrize("url", FORMS.values(), ids=FORMS.keys())
def test_content_documents_tool_results_and_errors_never_export_the_password(
    url: str, mode: CaptureMode, redact: bool
) -> None:
    s = _settings(mode, redact)
    text = _text(url)
    exported = [
        serialize_documents([Document(id="runbook", content=text)], ContentBudget(s), True),
        serialize_value(text, ContentBudget(s)),  # a tool result that is not JSON
        serialize_value(json.dumps({"note": text}), ContentBudget(s)),  # a JSON string value
        serialize_messages([Message("user", [TextPart(text)])], ContentBudget(s)),
        describe_exception(RuntimeError(text), s).message,
        describe_exception(RuntimeError(text), s).stacktrace,
    ]
    for out in exported:
        assert out and PASSWORD not in out and PASSWORD.lower() not in out, out


def test_a_json_tool_result_with_escaped_slashes_is_masked_once_parsed() -> None:
    s = _settings(CaptureMode.SPAN_ONLY, False)
    raw = '{"database": "' + FORMS["json-escaped"] + '", "rows": 3}'  # valid JSON: "\/" is "/"
    assert json.loads(raw)["database"] == PLAIN
    out = serialize_value(raw, ContentBudget(s))
    assert out == '{"database":"postgres://[REDACTED:password]@db.internal:5432/app","rows":3}'

"""Contract: no piece of a credential leaves in a form its detector missed.

- A URL password written the way Redis, ops runbooks and hurried users write it: an empty user
  name (``redis://:pw@host``), a password holding ``@`` or ``/``. A LangChain tool whose failing
  source line, metadata and tags quote such URLs exports none of the passwords with capture off
  (they were exported whole, or after a ``[REDACTED:password]@``, until this was fixed).
- A key cut short by a truncation: pydantic's validation error keeps the first and last ~24
  characters of a long input (``'token ghp_R4nd...1234 thanks'``), so neither half matched a key
  format and most of a GitHub token, or the tail of an OpenAI key, was exported in the exception
  message, the status, the stack trace and the exception log record.
"""

from __future__ import annotations

import pytest
from reliability_support import otlp_bytes

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_core")
from langchain_core.tools import tool
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, Field

from genai_trace_langchain import OpenTelemetryCallbackHandler

# Key- and password-shaped fixtures are assembled at run time so no scanner mistakes this file.
GITHUB = "ghp_" + "R4nd0mT0k3nV4lu3Abcdefghijklmnop1234"
OPENAI = "sk-proj-" + "Q7vLx2Nf8RkTw3YbHc9ZpJm4GdS6AeUo1iKqXnVtWyBr0FhLjMsPcDgEaIuOzNxQ7vLx2Nf8Rk"
REDIS_PW, AT_PW, SLASH_PW = "SrcRedis" + "Pw55", "hunter2@" + "2024rest", "ab/" + "cdSlashPW"
REDIS = f"redis://:{REDIS_PW}@localhost:6379/0"
MODES = ["SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]


def _connect(url: str) -> str:
    raise ConnectionError("connection refused")


@tool
def cache_get(key: str) -> str:
    """Read the cache."""
    return _connect("redis://:SrcRedisPw55@localhost:6379/0") + key


def test_url_passwords_in_a_source_line_metadata_and_tags_are_masked_with_capture_off(
    otel: OTelHarness,
) -> None:
    telemetry = otel.telemetry(metadata_keys=("cache_url", "db_url", "mysql_url"))
    config = {
        "callbacks": [OpenTelemetryCallbackHandler(telemetry=telemetry)],
        "metadata": {
            "cache_url": REDIS,
            "db_url": f"postgres://admin:{AT_PW}@db.internal/app",
            "mysql_url": f"mysql://root:{SLASH_PW}@db.internal/app",
        },
        "tags": [f"cache={REDIS}"],
    }
    with pytest.raises(ConnectionError):
        cache_get.invoke({"key": "a"}, config=config)
    (span,) = otel.spans()
    assert span.name == "execute_tool cache_get"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == "ConnectionError"
    meta = semconv.METADATA_PREFIX
    assert span.attributes[meta + "cache_url"] == "redis://[REDACTED:password]@localhost:6379/0"
    assert span.attributes[meta + "db_url"] == "postgres://[REDACTED:password]@db.internal/app"
    assert span.attributes[meta + "mysql_url"] == "mysql://[REDACTED:password]@db.internal/app"
    assert list(span.attributes[semconv.RUN_TAGS]) == [  # type: ignore[arg-type]
        "cache=redis://[REDACTED:password]@localhost:6379/0"
    ]
    data = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    for secret in (REDIS_PW, "2024rest", "cdSlashPW"):
        assert secret.encode() not in data, secret
    # the failing source line is in the trace, its password masked
    assert b'_connect("redis://[REDACTED:password]@localhost:6379/0")' in data


class Note(BaseModel):
    note: str = Field(max_length=10)


@tool(args_schema=Note)
def save(note: str) -> str:
    """Save a note."""
    return "ok"


@pytest.mark.parametrize("redact", [False, True], ids=["redaction-off", "redaction-on"])
@pytest.mark.parametrize("mode", MODES)
def test_a_key_cut_by_a_validation_error_leaves_no_fragment(
    otel: OTelHarness, mode: str, redact: bool
) -> None:
    telemetry = otel.telemetry(capture_mode=mode, redact_builtin=redact)
    handler = OpenTelemetryCallbackHandler(telemetry=telemetry)
    for value in (f"token {GITHUB} thanks", OPENAI, f"hello world this is a long note {GITHUB}"):
        with pytest.raises(ValueError, match="string_too_long"):
            save.invoke({"note": value}, config={"callbacks": [handler]})
    spans = otel.spans()
    assert [s.name for s in spans] == ["execute_tool save"] * 3
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes is not None
        assert span.attributes[semconv.ERROR_TYPE].endswith("ValidationError")
    data = otlp_bytes(spans, otel.log_exporter.get_finished_logs())
    for piece in (GITHUB[4:12], GITHUB[-8:], OPENAI[8:16], OPENAI[-8:]):
        assert piece.encode() not in data, piece
    if mode != "EVENT_ONLY":  # the message itself was exported, the cut key masked
        assert b"input_value='token [REDACTED:github_token]... thanks'" in data
        assert b"input_value='[REDACTED:openai_key]...'" in data
        assert b"input_value='hello world this is a lo...[REDACTED:key_fragment]'" in data

"""Contract: no piece of a credential leaves in a form its detector missed.

- A URL password written the way Redis, ops runbooks and hurried users write it: an empty user
  name (``redis://:pw@host``), a password holding ``@``. A LangChain tool whose failing
  source line, metadata and tags quote such URLs exports none of the passwords with capture off
  (they were exported whole, or after a ``[REDACTED:password]@``, until this was fixed).
- A key cut short by a truncation: pydantic's validation error keeps the first and last ~24
  characters of a long input (``'token ghp_R4nd...1234 thanks'``), so neither half matched a key
  format and most of a GitHub token, or the tail of an OpenAI key, was exported in the exception
  message, the status, the stack trace and the exception log record. Also cut in the forms a
  JSON dump (``\\n`` before it, ``\\u2026``), a URL (``%3D``, ``%E2%80%A6``) and ``textwrap``
  (``[...]``) write, through a real ChatOpenAI call with content on.
- Legitimate text is not taken for either: a placeholder URL (``http://<host>:<port>/u/a@b``),
  a name made of words after an ellipsis (``Loading model...Llama-2-7b-chat-hf``), a key prefix
  before words (``hf_hub...download``) are exported as written, in content and in span names with
  capture off (the first version masked them).
"""

from __future__ import annotations

import json

import httpx
import pytest
from reliability_support import otlp_bytes

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_core")
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, Field

from genai_trace_langchain import OpenTelemetryCallbackHandler

# Key- and password-shaped fixtures are assembled at run time so no scanner mistakes this file.
GITHUB = "ghp_" + "R4nd0mT0k3nV4lu3Xq7ZpL2wKc9TfB1sMh8J"  # random, as a real one
OPENAI = "sk-proj-" + "Q7vLx2Nf8RkTw3YbHc9ZpJm4GdS6AeUo1iKqXnVtWyBr0FhLjMsPcDgEaIuOzNxQ7vLx2Nf8Rk"
REDIS_PW, AT_PW = "SrcRedis" + "Pw55", "hunter2@" + "2024rest"
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
    telemetry = otel.telemetry(metadata_keys=("cache_url", "db_url", "api_url"))
    config = {
        "callbacks": [OpenTelemetryCallbackHandler(telemetry=telemetry)],
        "metadata": {
            "cache_url": REDIS,
            "db_url": f"postgres://admin:{AT_PW}@db.internal/app",
            "api_url": "http://<host>:<port>/api/users/bob@example.com",  # no password
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
    assert span.attributes[meta + "api_url"] == "http://<host>:<port>/api/users/bob@example.com"
    assert list(span.attributes[semconv.RUN_TAGS]) == [  # type: ignore[arg-type]
        "cache=redis://[REDACTED:password]@localhost:6379/0"
    ]
    data = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    for secret in (REDIS_PW, "2024rest"):
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


# Legitimate text that looked like a cut key or a URL password to the first version of these
# detectors (masked on 2026-12-07, also in span names with capture off: labels are always scrubbed).
KEPT = [
    "GET http://<host>:<port>/api/users/bob@example.com",
    "http://localhost:PORT/users/me@example.com",
    "https://$HOST:$PORT/v1/accounts/jane@corp.com",
    "http://{host}:{port}/users/{user}@{domain}",
    "https://host:123456/a/b@c",
    "Loading model...Llama-2-7b-chat-hf",
    "const cfg = {...s3Config, Bucket: name};",
    "from ...v2Models import User",
    "Models: …Qwen2-7B-Instruct",
    "Step 1...Step2Final",
    "ModelInfo(name='GPT4Turbo...v2024Preview')",
    "pip install hf_hub...download; npm_config...Foo",
]
# The same keys cut short in the forms a JSON dump, a URL and textwrap write them.
CUT_FORMS = [
    '{"log": "pasted\\n' + GITHUB[:18] + '..."}',
    '{"log": "pasted: ' + OPENAI[:16] + '\\u2026"}',
    f"https://x.com/?q=key%3D{GITHUB[:18]}...{GITHUB[-16:]}",
    f"https://x.com/?q=token%20{GITHUB[:18]}%E2%80%A6{GITHUB[-16:]}",
    f"token={GITHUB[:18]}[...]{GITHUB[-16:]}",
    f"token {OPENAI[:16]} ... {OPENAI[-16:]} thanks",
]


def _chat(otel: OTelHarness, prompt: str, answer: str) -> bytes:
    """A real ChatOpenAI call over httpx.MockTransport, content on spans; its OTLP bytes."""
    chat_openai = pytest.importorskip("langchain_openai").ChatOpenAI

    def reply(request: httpx.Request) -> httpx.Response:
        body = {
            "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }  # fmt: skip
        return httpx.Response(200, json=body)

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode="SPAN_ONLY"))
    with httpx.Client(transport=httpx.MockTransport(reply)) as client:
        model = chat_openai(model="gpt-4o-mini", api_key="sk-test", http_client=client)
        out = model.invoke(prompt, config={"callbacks": [handler]})
    assert out.content == answer
    (span,) = otel.spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.status.status_code is StatusCode.UNSET
    return otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())


def test_legitimate_text_near_an_ellipsis_or_a_url_path_is_exported_as_written(
    otel: OTelHarness,
) -> None:
    _chat(otel, "\n".join(KEPT), "\n".join(reversed(KEPT)))
    (span,) = otel.spans()
    assert span.attributes is not None
    sent = json.loads(str(span.attributes[semconv.GEN_AI_INPUT_MESSAGES]))
    answered = json.loads(str(span.attributes[semconv.GEN_AI_OUTPUT_MESSAGES]))
    assert sent[0]["parts"][0]["content"] == "\n".join(KEPT)
    assert answered[0]["parts"][0]["content"] == "\n".join(reversed(KEPT))


def test_keys_cut_in_json_url_and_bracket_forms_leave_no_fragment(otel: OTelHarness) -> None:
    data = _chat(otel, "\n".join(CUT_FORMS), "\n".join(reversed(CUT_FORMS)))
    for piece in (GITHUB[4:12], GITHUB[-8:], OPENAI[8:16], OPENAI[-8:]):
        assert piece.encode() not in data, piece
    assert b"[REDACTED:github_token]" in data and b"[REDACTED:openai_key]" in data


@pytest.mark.parametrize(
    "name", ["load...Qwen2-7B-Instruct", "Loading model...Llama-2-7b-chat-hf", "hf_hub...download"]
)
def test_a_run_name_near_an_ellipsis_is_kept_with_capture_off(otel: OTelHarness, name: str) -> None:
    def step(text: str) -> str:
        raise RuntimeError("Loading model...Llama-2-7b-chat-hf failed")

    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry())
    with pytest.raises(RuntimeError):
        RunnableLambda(step).with_config(run_name=name).invoke("q", config={"callbacks": [handler]})
    (span,) = otel.spans()
    assert span.name == f"invoke_workflow {name}"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == "RuntimeError"
    assert span.attributes[semconv.RUN_NAME] == name

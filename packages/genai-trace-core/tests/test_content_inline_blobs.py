"""Base64 inside any captured text (a data URL, a bare payload, MIME-wrapped lines) is replaced by
``<blob: MIME, N bytes>`` before the text is cut or redacted, wherever it sits in a value; text
that only looks alike (prose, hex digests, JWTs, which redaction masks whole) is left alone."""

from __future__ import annotations

import base64
import json
import random

import pytest

from genai_trace_core import CaptureMode, Settings
from genai_trace_core.content import ContentBudget, serialize_value

ON = Settings(capture_mode=CaptureMode.SPAN_ONLY, redact_builtin=True)
RNG = random.Random(11)
JPEG = b"\xff\xd8\xff\xe0" + RNG.randbytes(5996)  # 6,000 bytes
B64 = base64.b64encode(JPEG).decode()


def _value(value: object, limit: int = 8192) -> str:
    text = serialize_value(value, ContentBudget(ON.with_overrides(max_attribute_length=limit)))
    assert text is not None
    return text


@pytest.mark.parametrize("limit", [64, 300, 8192])
def test_payloads_in_any_position_are_described_before_the_cut(limit: int) -> None:
    value = {
        "bare": B64,
        "url": "data:image/jpeg;base64," + B64,
        "note": f"see ![x](data:image/jpeg;base64,{B64}) above",
        "unknown": base64.b64encode(RNG.randbytes(300)).decode(),
        "urlsafe": base64.urlsafe_b64encode(RNG.randbytes(3000)).decode(),
    }
    text = _value(value, limit)
    for start in range(0, len(B64) - 24, 24):
        assert B64[start : start + 24] not in text
    if limit == 8192:
        assert json.loads(text) == {
            "bare": "<blob: image/jpeg, 6000 bytes>",
            "url": "<blob: image/jpeg, 6000 bytes>",
            "note": "see ![x](<blob: image/jpeg, 6000 bytes>) above",
            "unknown": "<blob: 300 bytes>",
            "urlsafe": "<blob: 3000 bytes>",
        }


def test_mime_wrapped_base64_and_a_payload_past_the_window_are_described() -> None:
    wrapped = base64.encodebytes(RNG.randbytes(3000)).decode()
    assert json.loads(_value(f"file:\n{wrapped}end")) == "file:\n<blob: 3000 bytes>\nend"
    glued = json.loads(_value("x" * 8000 + B64))  # one run: its letters-only head is no proof
    assert glued == "<blob: 12000 bytes>"
    long = "x" * 9000 + " " + B64  # starts past what could be kept: the text is only cut
    out = json.loads(_value(long))
    assert out.startswith("x" * 100) and "…[truncated" in out and B64[:24] not in out


def test_look_alikes_are_left_to_the_text_rules() -> None:
    prose = "The quick brown fox jumps over the lazy dog. " * 20
    digest = "a3f5" * 80  # hex: no upper case letters
    word = "Pneumonoultramicroscopic" * 12  # letters only
    assert json.loads(_value({"p": prose, "d": digest, "w": word})) == {
        "p": prose,
        "d": digest,
        "w": word,
    }
    segment = base64.urlsafe_b64encode(RNG.randbytes(400)).decode().rstrip("=")
    jwt = f"eyJhbGciOiJIUzI1NiJ9.eyJ{segment}.{segment[:43]}"  # a long claims segment
    assert json.loads(_value(f"token {jwt}")) == "token [REDACTED:jwt]"
    assert json.loads(_value("data:text/plain,hello")) == "data:text/plain,hello"

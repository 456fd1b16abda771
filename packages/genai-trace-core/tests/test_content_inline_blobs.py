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


def _pem(kind: str, body: str) -> str:
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def _name(words: list[str], count: int, sep: str = "") -> str:
    return sep.join(RNG.choice(words) for _ in range(count))


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CERT = _pem("CERTIFICATE", base64.b64encode(b"0\x82\x03\x84" + RNG.randbytes(896)).decode())
SSH = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa" + RNG.randbytes(400)).decode()
MANGLED = "_ZN" + "".join(
    f"{len(w)}{w}"
    for w in ["boost", "asio", "detail", "reactive_socket_service_base", "async_receive"] * 4
)
LOOK_ALIKES = {
    "certificate": "Is this expired?\n" + CERT,
    "ssh key": f"Add this key: ssh-rsa {SSH} alice@laptop",
    "mangled symbol": f"undefined reference to `{MANGLED}'",
    "camel case": "def " + _name(["get", "Set", "Value", "Handler", "Factory", "V2", "3"], 80),
    "snake case": "x = " + _name(["alpha", "Beta", "gamma2", "DELTA", "eps3"], 60, "_"),
    "tokenizer word": "".join(RNG.choice(B58) for _ in range(300)),
    "directory": 'cd "/mnt/' + _name(["Project2024", "RawData", "Run_03", "Sensor-A7"], 30, "/"),
    "k8s tls.crt": "data:\n  tls.crt: " + base64.b64encode(CERT.encode()).decode() + "\n",
    "ipfs": "/ipfs/"
    + "/".join("Qm" + "".join(RNG.choice(B58) for _ in range(44)) for _ in range(8)),
    "identifier lines": "\n".join("".join(RNG.choice(B58) for _ in range(70)) for _ in range(5)),
}


@pytest.mark.parametrize("text", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_public_text_that_looks_like_base64_is_kept(text: str) -> None:
    assert json.loads(_value(text)) == text


def test_private_keys_are_still_masked_or_described() -> None:
    key = _pem("PRIVATE KEY", base64.b64encode(RNG.randbytes(1200)).decode())
    assert json.loads(_value("key: " + key)) == "key: [REDACTED:private_key]\n"
    secret = "tls.key: " + base64.b64encode(key.encode()).decode()
    assert json.loads(_value(secret)).startswith("tls.key: <blob: ")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("status=ok format=png data=", " size=6000"),  # logfmt
        ("export IMG=", ""),
        ("https://api.test/upload?id=7&image=", "&name=x"),
        ("f(image=", ")"),
        ("image=", ""),  # a form body
        ("payload ", ".jpg is the file"),  # standard base64 is no JWT segment
        ("img: data:image/jpeg;Base64,", ""),
    ],
)
def test_a_payload_after_an_equals_sign_or_before_a_dot_is_described(
    before: str, after: str
) -> None:
    assert json.loads(_value(before + B64 + after)) == (
        before.replace("data:image/jpeg;Base64,", "") + "<blob: image/jpeg, 6000 bytes>" + after
    )


def test_json_escaped_slashes_and_a_short_mixed_case_data_url_are_described() -> None:
    url = "data:image\\/jpeg;base64," + B64[:400].replace("/", "\\/")
    bare = B64.replace("/", "\\/")  # PHP's json_encode, seen inside a message's text
    assert json.loads(_value(f"{{'u': '{url}', 'b': '{bare}'}}")) == (
        "{'u': '<blob: image/jpeg, 300 bytes>', 'b': '<blob: image/jpeg, 6000 bytes>'}"
    )
    short = "see data:image/jpeg;Base64," + B64[:200]
    assert json.loads(_value(short)) == "see <blob: image/jpeg, 150 bytes>"

"""``bounded_label``: a name, id or tag exported in every capture mode, made safe to export.

Names, tags and ids reach spans, log events and metric points whatever the capture mode: a run
name or a tag the app chose (sometimes from a request), a user or conversation id from a header,
the name of a tool the model called (one it invented too), the model a proxy answered. Each is
cut to 256 characters, its credentials masked and its lone surrogates replaced, so that one
value can neither carry a key nor make every span and metric point megabytes long.
"""

from __future__ import annotations

import time

from genai_trace_core.content import bounded_description, bounded_label

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"


def test_names_as_developers_write_them_are_kept_as_they_are() -> None:
    for name in ("RunnableSequence", "lookup_order", "gpt-4o-mini-2024-07-18", "alice@acme"):
        assert bounded_label(name) == name


def test_a_label_is_cut_with_a_marker_and_only_its_head_is_read() -> None:
    huge = "run " + "x" * 5_000_000
    started = time.perf_counter()
    out = bounded_label(huge)
    assert time.perf_counter() - started < 0.05  # 5 MB are not scanned
    assert len(out) == 256
    assert out.startswith("run xxx") and out.endswith("…[truncated 4999748 chars]")


def test_credentials_in_a_label_are_masked() -> None:
    assert bounded_label(f"answer {KEY}") == "answer [REDACTED:openai_key]"
    assert bounded_label("sync https://bob:hunter2pw@db.example.com/x?api_key=abc123") == (
        "sync https://[REDACTED:password]@db.example.com/x?api_key=[REDACTED]"
    )
    # a key right at the cut is still recognised whole (a margin past the limit is read)
    cut = bounded_label("t" * 240 + " " + KEY + " tail" * 100)
    assert "sk-proj" not in cut and len(cut) == 256


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    assert bounded_label("tool\ud800name") == "tool\ufffdname"
    assert bounded_label("tool\ud800name").encode() == "tool\ufffdname".encode()


def test_descriptions_keep_their_own_limit() -> None:
    text = "Looks an order up. " * 200
    assert len(bounded_label(text)) == 256
    assert len(bounded_description(text) or "") == 1024

"""The decoded size of inline binary content (``genai_trace_core.inline_size``), as integrations
hand it over: raw or base64 bytes, base64 text, data URIs, views and in-memory streams."""

from __future__ import annotations

import base64
import io

import pytest

from genai_trace_core import inline_size

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20  # 5128 raw bytes, not base64 text


@pytest.mark.parametrize("raw", [b"", b"a", b"ab", b"abc", PNG, bytes(range(256)) * 40])
def test_base64_in_every_shape_gives_the_decoded_size(raw: bytes) -> None:
    encoded = base64.b64encode(raw)
    assert inline_size(encoded) == len(raw)  # llama-index-core 0.14 keeps blocks this way
    assert inline_size(bytearray(encoded)) == len(raw)
    assert inline_size(memoryview(encoded)) == len(raw)
    assert inline_size(encoded.decode()) == len(raw)
    assert inline_size("data:image/png;base64," + encoded.decode()) == len(raw)


def test_raw_bytes_are_their_own_size() -> None:
    assert inline_size(PNG) == len(PNG)
    assert inline_size(bytearray(PNG)) == len(PNG)
    assert inline_size(memoryview(PNG)) == len(PNG)
    assert inline_size(memoryview(PNG).cast("H")) == len(PNG)  # counted in bytes, not items
    assert inline_size(b"abc") == 3  # not a multiple of 4: not base64 text


def test_a_bytesio_is_measured_without_moving_it_and_other_objects_have_no_size() -> None:
    stream = io.BytesIO(PNG)
    stream.seek(10)
    assert inline_size(stream) == len(PNG)
    assert stream.tell() == 10
    assert inline_size(object()) is None
    assert inline_size(None) is None

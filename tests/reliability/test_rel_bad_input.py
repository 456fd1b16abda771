"""Hostile content through core with capture on: bounded, described, exportable, never a crash.

Every case runs a chat (or tool) operation through ``Telemetry`` with ``SPAN_AND_EVENT`` capture
and redaction on, then proves three things: the span and its events were recorded and ended; every
content attribute respects the per-attribute and per-span limits; and the spans and log records
encode with the real OTLP protobuf encoder to bytes (what the exporter sends), so no batch would
be rejected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from reliability_support import otlp_bytes

from genai_trace_core import (
    BlobPart,
    Message,
    Operation,
    OperationKind,
    Outcome,
    TextPart,
    ToolCallPart,
    UriPart,
    semconv,
)
from genai_trace_core.testing import OTelHarness

MAX_ATTR = 8192
MAX_SPAN = 65536
CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
)


class Unserialisable:
    __slots__ = ("handle",)

    def __init__(self) -> None:
        self.handle = open  # a builtin function: nothing JSON can hold


class ExplodingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


def _deep(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["next"] = {}
        node = node["next"]
    return root


def _cyclic() -> dict[str, Any]:
    a: dict[str, Any] = {"name": "a"}
    b: list[Any] = [a]
    a["self"] = a
    a["list"] = b
    b.append(b)
    return a


def _msgs(parts: list[Any], count: int = 1) -> list[Message]:
    return [Message("user", list(parts)) for _ in range(count)]


Case = Callable[[], tuple[Operation, Outcome]]


def _chat(messages: Any, output: Any = None) -> tuple[Operation, Outcome]:
    op = Operation(
        OperationKind.CHAT, provider="openai", request_model="gpt-4o-mini", input_messages=messages
    )
    return op, Outcome(output_messages=output or [Message("assistant", [TextPart("ok")])])


def _tool(arguments: Any, result: Any) -> tuple[Operation, Outcome]:
    op = Operation(OperationKind.EXECUTE_TOOL, name="lookup", tool_arguments=arguments)
    return op, Outcome(tool_result=result)


CASES: dict[str, Case] = {
    "10 MB prompt": lambda: _chat(_msgs([TextPart("a" * 10_000_000)])),
    "10,000 messages": lambda: _chat(_msgs([TextPart("hello there")], 10_000)),
    "binary blob": lambda: _chat(
        _msgs([BlobPart("image", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20_000, "image/png")])
    ),
    "base64 image and data uri": lambda: _chat(
        _msgs(
            [
                BlobPart("image", "iVBORw0KGgo" * 200_000, "image/png"),
                UriPart("image", "data:image/png;base64," + "A" * 1_000_000, "image/png"),
            ]
        )
    ),
    "unserialisable tool arguments": lambda: _tool(
        {
            "obj": Unserialisable(),
            "fn": print,
            "set": {1, 2},
            "bytes": b"\xff" * 100,
            "nan": float("nan"),
        },
        ExplodingRepr(),
    ),
    "deeply nested dict": lambda: _tool(_deep(5_000), _deep(5_000)),
    "cyclic structures": lambda: _tool(_cyclic(), _cyclic()),
    "surrogate characters": lambda: _chat(
        _msgs([TextPart("lone \udcff high \ud800 pair \ud83d\ude00 end")]),
        [Message("assistant", [TextPart("\udc80" * 10_000)])],
    ),
    "tool call with huge arguments": lambda: _chat(
        _msgs([ToolCallPart("search", {"q": "x" * 3_000_000, "deep": _deep(500)}, "call-1")])
    ),
    "odd parts and roles": lambda: _chat(
        [Message(None, [None, 42, object(), TextPart(None)]), "not a message", None]  # type: ignore[arg-type,list-item]
    ),
    "lazy that raises": lambda: _chat(lambda: 1 / 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_content_is_bounded_and_exportable(otel: OTelHarness, case: str) -> None:
    t = otel.telemetry(capture_mode="SPAN_AND_EVENT", redact_builtin=True)
    op, outcome = CASES[case]()
    began = time.perf_counter()
    t.start("root", Operation(OperationKind.INVOKE_WORKFLOW, name="wf"))
    t.start("run", op, parent_run_id="root")
    t.end("run", outcome)
    t.end("root")
    elapsed = time.perf_counter() - began
    assert t.open_count() == 0
    spans = otel.span_dicts(parse_json=False)
    assert [(s["name"], s["parent_id"] is not None) for s in spans] == [
        ("chat gpt-4o-mini" if op.kind is OperationKind.CHAT else "execute_tool lookup", True),
        ("invoke_workflow wf", False),
    ]
    attrs = spans[0]["attributes"]
    content = {k: v for k, v in attrs.items() if k in CONTENT_KEYS}
    for key, value in content.items():
        assert isinstance(value, str) and len(value) <= MAX_ATTR, key
        value.encode("utf-8")  # valid UTF-8
        json.loads(value)  # valid JSON
    assert sum(len(v) for v in content.values()) <= MAX_SPAN
    data = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    assert len(data) < 1_000_000  # far below the exporter's 64 MiB request limit
    assert elapsed < 5.0  # bounded work: only limit + margin characters are ever looked at


def test_ten_megabyte_prompt_is_cut_and_flagged(otel: OTelHarness) -> None:
    t = otel.telemetry(capture_mode="SPAN_ONLY")
    op, outcome = CASES["10 MB prompt"]()
    t.start("run", op)
    t.end("run", outcome)
    (span,) = otel.span_dicts(parse_json=False)
    attrs = span["attributes"]
    assert attrs[semconv.CONTENT_TRUNCATED] is True
    messages = json.loads(attrs[semconv.GEN_AI_INPUT_MESSAGES])
    text = messages[0]["parts"][0]["content"]
    assert text.startswith("a" * 1000)
    assert "truncated" in text
    assert len(attrs[semconv.GEN_AI_INPUT_MESSAGES]) <= MAX_ATTR


def test_binary_content_is_described_never_exported(otel: OTelHarness) -> None:
    t = otel.telemetry(capture_mode="SPAN_ONLY")
    payload = b"\x89PNG" + b"\x00SECRETBYTES\x00" * 1000
    op, outcome = _chat(_msgs([BlobPart("image", payload, "image/png")]))
    t.start("run", op)
    t.end("run", outcome)
    (span,) = otel.span_dicts(parse_json=False)
    raw = span["attributes"][semconv.GEN_AI_INPUT_MESSAGES]
    assert "SECRETBYTES" not in raw
    (part,) = json.loads(raw)[0]["parts"]
    assert part["type"] == "blob"
    assert part["modality"] == "image"
    assert part["mime_type"] == "image/png"
    assert "SECRETBYTES" not in json.dumps(part)


def test_surrogates_are_replaced_not_dropped(otel: OTelHarness) -> None:
    t = otel.telemetry(capture_mode="SPAN_ONLY")
    op, outcome = _chat(_msgs([TextPart("a\udcffb")]))
    t.start("run \udcff", op)
    t.end("run \udcff", outcome)
    (span,) = otel.span_dicts(parse_json=False)
    messages = json.loads(span["attributes"][semconv.GEN_AI_INPUT_MESSAGES])
    assert messages == [{"role": "user", "parts": [{"type": "text", "content": "a\ufffdb"}]}]
    otlp_bytes(otel.spans())

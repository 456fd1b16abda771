"""Contract: an image passed as base64 is described (MIME type, decoded size), never exported,
wherever it travels as text. LangChain's documented multimodal pattern fills a prompt variable
into an ``image_url`` data URL (``"data:image/png;base64,{image_data}"``), a
``MessagesPlaceholder`` holds a history with an image message, a tool returns image content
blocks (``response_format="content_and_artifact"``) or OpenAI ``image_url`` blocks, a LlamaIndex
tool returns a data URL or an ``ImageBlock``. With content capture on, in every mode, the OTLP
bytes of every span and log record hold no slice of the base64 (until this was fixed the prompt
variable, the history and the tool results carried up to 8,191 characters of it)."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import httpx
import pytest
from reliability_support import otlp_bytes

from genai_trace_core import semconv
from genai_trace_core.testing import OTelHarness

pytest.importorskip("langchain_openai")
pytest.importorskip("llama_index.core")
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from llama_index.core.base.llms.types import ImageBlock
from llama_index.core.tools import FunctionTool

from genai_trace_langchain import OpenTelemetryCallbackHandler
from genai_trace_llamaindex import LlamaIndexInstrumentor

IMAGE = b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(9992)  # 10,000 bytes
B64 = base64.b64encode(IMAGE).decode()
DATA_URL = "data:image/png;base64," + B64
SLICES = [B64[i : i + 32] for i in range(0, len(B64) - 32, 1500)]
BLOB = "<blob: image/png, 10000 bytes>"
BLOB_PART = {"type": "blob", "modality": "image", "mime_type": "image/png", "size": 10000}
MODES = ["SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]
VAR = semconv.GEN_AI_PROMPT_VARIABLE_PREFIX
ANSWER = "A cat on a mat."


def _reply(request: httpx.Request) -> httpx.Response:
    body = {
        "id": "chatcmpl-blob",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 300, "completion_tokens": 9, "total_tokens": 309},
    }
    return httpx.Response(200, json=body)


def _exported(otel: OTelHarness) -> bytes:
    data = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    for piece in SLICES:
        assert piece.encode() not in data, piece
    return data


def _attrs(otel: OTelHarness, name: str) -> dict[str, Any]:
    [span] = [s for s in otel.span_dicts(parse_json=False) if s["name"] == name]
    assert span["status"] == "UNSET"
    return dict(span["attributes"])


def _chain_run(otel: OTelHarness, mode: str, prompt: ChatPromptTemplate, inputs: Any) -> bytes:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode=mode))
    requests: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return _reply(request)

    with httpx.Client(transport=httpx.MockTransport(reply)) as client:
        model = ChatOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test-blobs",  # type: ignore[arg-type]
            http_client=client,
            max_retries=0,
        )
        out = (prompt | model | StrOutputParser()).invoke(inputs, {"callbacks": [handler]})
    assert out == ANSWER
    assert B64 in requests[0].content.decode()  # the model got the image
    names = sorted((s["start"], s["name"]) for s in otel.span_dicts())
    assert [n for _, n in names] == [
        "invoke_workflow",
        "ChatPromptTemplate",
        "chat gpt-4o-mini",
        "StrOutputParser",
    ]
    return _exported(otel)


@pytest.mark.parametrize("mode", MODES)
def test_an_image_prompt_variable_is_described_not_exported(otel: OTelHarness, mode: str) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,{image_data}"}}
    prompt = ChatPromptTemplate.from_messages(
        [("user", [{"type": "text", "text": "What?"}, image])]
    )
    data = _chain_run(otel, mode, prompt, {"image_data": B64})
    assert BLOB.encode() in data
    if mode != "EVENT_ONLY":
        attrs = _attrs(otel, "chat gpt-4o-mini")
        assert attrs[VAR + "image_data"] == BLOB
        assert json.loads(attrs[semconv.GEN_AI_INPUT_MESSAGES])[0]["parts"][1] == BLOB_PART


@pytest.mark.parametrize("mode", MODES)
def test_a_history_placeholder_with_an_image_has_the_input_messages_shape(
    otel: OTelHarness, mode: str
) -> None:
    image = {"type": "image_url", "image_url": {"url": DATA_URL}}
    history = [HumanMessage([{"type": "text", "text": "What is this?"}, image]), AIMessage("A cat")]
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("user", "{q}")])
    data = _chain_run(otel, mode, prompt, {"history": history, "q": "And now?"})
    assert b'"size":10000' in data
    if mode != "EVENT_ONLY":
        variable = json.loads(_attrs(otel, "chat gpt-4o-mini")[VAR + "history"])
        assert variable == [
            {"role": "user", "parts": [{"type": "text", "content": "What is this?"}, BLOB_PART]},
            {"role": "assistant", "parts": [{"type": "text", "content": "A cat"}]},
        ]


@tool(response_format="content_and_artifact")
def screenshot(url: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Take a screenshot of a page."""
    block = {"type": "image", "source_type": "base64", "mime_type": "image/png", "data": B64}
    return [block], {"url": url}


@tool
def screenshot_url(url: str) -> list[dict[str, Any]]:
    """Take a screenshot of a page, as OpenAI image blocks."""
    return [{"type": "text", "text": url}, {"type": "image_url", "image_url": {"url": DATA_URL}}]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shot", [screenshot, screenshot_url], ids=["standard", "openai"])
def test_a_langchain_tool_returning_image_blocks_gives_blob_parts(
    otel: OTelHarness, mode: str, shot: Any
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode=mode))
    call = {"name": shot.name, "args": {"url": "https://x.test"}, "id": "c1", "type": "tool_call"}
    message = shot.invoke(call, {"callbacks": [handler]})
    assert B64 in json.dumps(message.content)  # the program still gets the image
    _exported(otel)
    attrs = _attrs(otel, f"execute_tool {shot.name}")
    if mode != "EVENT_ONLY":  # a tool span has no content event
        result = json.loads(attrs[semconv.GEN_AI_TOOL_CALL_RESULT])
        text = [{"type": "text", "content": "https://x.test"}] if shot is screenshot_url else []
        assert result == [*text, BLOB_PART]


def shot_data_url(url: str) -> str:
    """Take a screenshot, as a data URL."""
    return DATA_URL


def shot_block(url: str) -> ImageBlock:
    """Take a screenshot, as an image block."""
    return ImageBlock(image=IMAGE, image_mimetype="image/png")


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "SPAN_AND_EVENT"])
@pytest.mark.parametrize(
    ("shot", "expected"),
    [(shot_data_url, f'"{BLOB}"'), (shot_block, "<bytes: 10000 bytes>")],
    ids=["data-url", "image-block"],
)
def test_a_llamaindex_tool_returning_an_image_is_described(
    otel: OTelHarness, mode: str, shot: Any, expected: str
) -> None:
    settings: Any = otel.telemetry(capture_mode=mode).settings
    with otel.instrumented(LlamaIndexInstrumentor(), settings=settings):
        output = FunctionTool.from_defaults(shot).call(url="https://x.test")
    assert output.raw_output is not None
    _exported(otel)
    result = _attrs(otel, f"execute_tool {shot.__name__}")[semconv.GEN_AI_TOOL_CALL_RESULT]
    assert expected in result  # the decoded size (0.14 keeps blocks base64: 13,336 characters)


DER = base64.b64encode(b"0\x82\x03\x1e" + random.Random(8).randbytes(236)).decode()
CERT = "-----BEGIN CERTIFICATE-----\n" + "\n".join([DER[64 * i : 64 * i + 64] for i in range(5)])


@tool
def screenshot_logfmt(url: str) -> str:
    """Take a screenshot of a page, as logfmt (the payload right after ``=``)."""
    return f"status=ok format=png data={B64} cert={CERT}\n-----END CERTIFICATE-----"


def test_a_payload_after_an_equals_sign_is_described_and_a_certificate_kept(
    otel: OTelHarness,
) -> None:
    handler = OpenTelemetryCallbackHandler(telemetry=otel.telemetry(capture_mode="SPAN_ONLY"))
    message = screenshot_logfmt.invoke({"url": "https://x.test"}, {"callbacks": [handler]})
    assert B64 in message
    data = otlp_bytes(otel.spans(), otel.log_exporter.get_finished_logs())
    for piece in SLICES:
        assert piece.encode() not in data, piece
    result = json.loads(
        _attrs(otel, "execute_tool screenshot_logfmt")[semconv.GEN_AI_TOOL_CALL_RESULT]
    )
    assert result == f"status=ok format=png data={BLOB} cert={CERT}\n-----END CERTIFICATE-----"
